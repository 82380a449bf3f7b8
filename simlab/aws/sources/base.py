"""What a source is: something that sends requests to one or more functions.

A source is attached to a simulation with ``sim.add_source(source, target="f")``. When the run
starts, the simulation calls ``source.start(run, targets)`` once; the source then schedules its own
SimPy events (arrival times, polls, schedule firings) and hands requests to the platform through
``run.invoke(...)``. Sources draw random numbers only from ``run.rng(...)`` streams named after
themselves, so adding a source never changes another's draws.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run
    from simlab.core.config import FunctionConfig

__all__ = ["Source"]


class Source(ABC):
    """Base class of every source of requests."""

    #: Kind of source, used to name it ("poisson", "s3", ...).
    kind: str = "source"
    #: Name given by the simulation when attached (unique within a simulation).
    name: str | None = None
    #: The class of what a run of this source leaves, ``result.output(source)`` (None: nothing
    #: but its invocations).
    output_type: ClassVar[type | None] = None

    @property
    def output_key(self) -> str:
        """The name of this source's output among the run's (``result.outputs``)."""
        return self.name or self.kind

    @abstractmethod
    def start(self, run: Run, targets: list[str]) -> None:
        """Schedule this source's activity in ``run`` for the functions ``targets``."""

    def validate(self, targets: list[str]) -> None:  # noqa: B027 - optional hook
        """Raise a clear error if this source cannot feed ``targets`` (called before the run)."""

    def check_config(self, target: str, config: FunctionConfig,  # noqa: B027 - optional hook
                     at_s: float | None = None) -> None:
        """Raise a clear error if this source cannot feed ``target`` configured as ``config``
        (its first configuration when ``at_s`` is None, else the one an update makes at
        ``at_s``); called before the run, when the source is added and at every update."""

    def feature_uses(self, label: str) -> Iterator[tuple[str, str]]:
        """The era-dated features (keys of :data:`simlab.core.features.FEATURES`) this source
        uses, each with where it is used (``label`` names the source), for the era check before
        the run; none by default."""
        return iter(())
