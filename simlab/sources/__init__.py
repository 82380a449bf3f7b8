"""Sources of requests: arrival processes now, AWS triggers (S3, streams, schedules...) too."""

from simlab.sources.arrivals import (
    ArrivalProcess,
    Bursty,
    Diurnal,
    FixedInterval,
    Poisson,
    Replay,
)
from simlab.sources.base import Source

__all__ = ["Source", "ArrivalProcess", "Poisson", "FixedInterval", "Bursty", "Diurnal", "Replay"]
