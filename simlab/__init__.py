"""simlab: a teaching simulator of serverless (function-as-a-service) platforms such as AWS Lambda.

Functions run in execution environments packed on hosts; a request that finds no warm environment
pays a cold start; idle environments are kept alive for a while, then reclaimed; concurrency limits
throttle; memory sets the CPU share; timeouts kill; billing rounds each run up. simlab simulates all
of it on SimPy, and returns what happened as pandas DataFrames.

>>> import simlab
>>> sim = simlab.Simulation(era="today", seed=1)
>>> _ = sim.add_function("hello", memory_mb=128, duration_s=0.05)
>>> _ = sim.add_source(simlab.sources.FixedInterval(interval_s=60), target="hello")
>>> r = sim.run(until_s=600)
>>> float(r.summary()["cold_start_fraction"])
0.1
"""

import sys
import types
from typing import TYPE_CHECKING

__all__ = [
    "Simulation", "Result", "FunctionConfig", "PlatformRules", "ERAS", "era_rules",
    "vcpu_share", "FixedKeepAlive", "NoKeepAlive", "KeepAlivePolicy", "PerFunctionScaling",
    "AccountBurstScaling", "dists", "sources", "theory", "configure_async", "sweep",
    "summarise", "pareto_front", "DemandKeepAlive", "measured",
]
__version__ = "0.1.0"

# Where each public name lives. Nothing is imported until first use, so that a light command
# (``simlab --help``) does not pay for numpy, pandas and SimPy.
_NAMES: dict[str, str] = {
    "ERAS": "simlab.config", "FunctionConfig": "simlab.config", "PlatformRules": "simlab.config",
    "era_rules": "simlab.config", "vcpu_share": "simlab.config",
    "FixedKeepAlive": "simlab.engine.keepalive", "KeepAlivePolicy": "simlab.engine.keepalive",
    "NoKeepAlive": "simlab.engine.keepalive", "DemandKeepAlive": "simlab.engine.keepalive",
    "AccountBurstScaling": "simlab.engine.scaling", "PerFunctionScaling": "simlab.engine.scaling",
    "Result": "simlab.result", "Simulation": "simlab.simulation",
    "configure_async": "simlab.sources",
    "pareto_front": "simlab.sweep", "summarise": "simlab.sweep", "sweep": "simlab.sweep",
}
_MODULES = {"dists", "measured", "sources", "theory", "billing", "prices", "plots", "widgets",
            "exercises", "scenarios"}

if TYPE_CHECKING:  # pragma: no cover
    from simlab import dists, measured, sources
    from simlab.config import ERAS, FunctionConfig, PlatformRules, era_rules, vcpu_share
    from simlab.engine.keepalive import (
        DemandKeepAlive,
        FixedKeepAlive,
        KeepAlivePolicy,
        NoKeepAlive,
    )
    from simlab.engine.scaling import AccountBurstScaling, PerFunctionScaling
    from simlab.result import Result
    from simlab.simulation import Simulation
    from simlab.sources import configure_async
    from simlab.sweep import pareto_front, summarise, sweep


def __getattr__(name: str) -> object:
    import importlib

    if name in _MODULES:
        return importlib.import_module(f"simlab.{name}")
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'simlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _MODULES)


class _Package(types.ModuleType):
    """``simlab.sweep`` is the function, not its module: importing the module ``simlab.sweep``
    (which binds it on the package) must not replace the function."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "sweep" and isinstance(value, types.ModuleType):
            value = value.sweep
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
