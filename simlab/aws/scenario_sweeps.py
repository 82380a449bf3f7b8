"""The ``[sweep]`` section of a scenario file: a grid of the file's own values, seeds, and what
to measure; checked before anything runs, then swept with :func:`simlab.aws.sweep.sweep`.

A sweep file is a scenario file (:mod:`simlab.aws.scenario_files`) plus::

    [sweep]
    seeds = 5                        # a count, or a list of distinct seeds
    until = "2h"
    metrics = ["cold_start_fraction", "latency_p99_ms"]
    [sweep.grid]
    "platform.keep_alive_s" = [60, 300, 600]

:func:`sweep_spec` reads and checks the section (each grid key must name a value of the file);
:func:`check_grid` builds every grid point once, so that a bad value is reported with its key and
line before a sweep starts; :class:`FileBuild` is the picklable build function a sweep runs on
any executor (``simlab sweep`` uses all three).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.scenario_files import ScenarioFile
    from simlab.aws.simulation import Simulation

__all__ = ["SweepSpec", "sweep_spec", "check_grid", "FileBuild"]

_SWEEP_KEYS = ("grid", "seeds", "until", "metrics", "seed_mode", "record")


@dataclass(frozen=True)
class SweepSpec:
    """The ``[sweep]`` section: what :func:`simlab.aws.sweep.sweep` needs besides the build."""

    grid: dict[str, list[Any]]
    seeds: list[int]
    until_s: float | None
    metrics: list[str] | None
    seed_mode: str
    record: str


def sweep_spec(scenario: ScenarioFile) -> SweepSpec:
    """The ``[sweep]`` section of ``scenario``, checked: ``grid`` (key path -> list of values;
    the keys must name values of the file), ``seeds`` (a count or a list), ``until``,
    ``metrics`` (names from ``Result.summary()``), ``seed_mode``, ``record``."""
    from simlab.aws.scenario_files import ScenarioFileError, parse_duration

    spec = scenario.data.get("sweep", {})
    if not isinstance(spec, dict) or not isinstance(spec.get("grid"), dict):
        raise scenario.error("sweep.grid", "a sweep file needs a [sweep.grid] table of "
                                           "key = [values]")
    for key in spec:
        if key not in _SWEEP_KEYS:
            raise scenario.error(f"sweep.{key}", f"unknown key; allowed here: {list(_SWEEP_KEYS)}")
    for key, values in spec["grid"].items():
        if not isinstance(values, list) or not values:
            raise scenario.error(f'sweep.grid."{key}"',
                                 f"must be a non-empty list of values, got {values!r}")
        try:
            scenario.resolve(key)
        except ScenarioFileError as err:
            raise scenario.error(f'sweep.grid."{key}"', err.message) from None
    seeds = spec.get("seeds", 5)
    whole = [isinstance(x, int) and not isinstance(x, bool) and x >= 0
             for x in (seeds if isinstance(seeds, list) else [seeds])]
    if not (all(whole) and (isinstance(seeds, int) and seeds >= 1 or isinstance(seeds, list)
                            and seeds and len(set(seeds)) == len(seeds))):
        raise scenario.error("sweep.seeds", f"must be a count >= 1 or a list of distinct whole "
                                            f"numbers >= 0, got {seeds!r}")
    metrics = spec.get("metrics")
    if metrics is not None and not (isinstance(metrics, list)
                                    and all(isinstance(m, str) for m in metrics)):
        raise scenario.error("sweep.metrics", f"must be a list of names, got {metrics!r}")
    choices = {"seed_mode": ("common", "derived"), "record": ("summary", "metrics", "all")}
    for key, allowed in choices.items():
        if spec.get(key, allowed[0]) not in allowed:
            raise scenario.error(f"sweep.{key}", f"must be one of {allowed}, got {spec[key]!r}")
    until = spec.get("until")
    try:
        until_s = None if until is None else parse_duration(until)
    except ValueError as err:
        raise scenario.error("sweep.until", str(err)) from None
    return SweepSpec(grid=dict(spec["grid"]),
                     seeds=list(range(seeds)) if isinstance(seeds, int) else list(seeds),
                     until_s=until_s, metrics=metrics, seed_mode=spec.get("seed_mode", "common"),
                     record=spec.get("record", "summary"))


def check_grid(scenario: ScenarioFile) -> SweepSpec:
    """Build every grid point once (nothing runs), so that a bad value is reported with its key
    and the grid's line before a sweep starts; return the checked section."""
    spec = sweep_spec(scenario)
    for combo in itertools.product(*spec.grid.values()):
        scenario.build(values=dict(zip(spec.grid, combo, strict=True)), origin="sweep")
    return spec


@dataclass(frozen=True)
class FileBuild:
    """A picklable ``build(seed, **values)`` for :func:`simlab.aws.sweep.sweep` over a scenario
    file:
    the grid's names are key paths of the file."""

    text: str
    file: str = "<string>"
    #: Values set over the file before the grid's (``simlab sweep --set``).
    preset: tuple[tuple[str, Any], ...] = ()

    def __call__(self, seed: int, **values: Any) -> Simulation:
        from simlab.aws.scenario_files import loads

        scenario = loads(self.text, self.file)
        if self.preset:
            scenario = scenario.with_values(dict(self.preset))
        return scenario.build(seed=seed, values=values, origin="sweep")
