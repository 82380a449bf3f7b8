"""What every scenario shares: the generator of its made-up data, and its logger.

A scenario invents the data its application handles (file names, orders, clicks, API calls). That
data must come from the scenario's ``seed``, yet stay independent of the simulation's own random
streams, so that changing a knob of the platform does not change the data: each scenario draws it
from its own named stream of :class:`simlab.core.random_streams.RandomStreams`.
"""

from __future__ import annotations

import logging

import numpy as np

from simlab.core.random_streams import RandomStreams

__all__ = ["scenario_rng", "LOG"]

#: The logger the scenarios' handlers write warnings to (captured in the ``log_lines`` column).
LOG = logging.getLogger("simlab.scenarios")


def scenario_rng(seed: int, *names: str) -> np.random.Generator:
    """The generator of a scenario's made-up data called ``names`` (independent of the
    simulation's streams, which derive from the same seed under other names)."""
    return RandomStreams(seed).generator("scenario", *names)
