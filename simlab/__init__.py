"""simlab: a teaching simulator of serverless (function-as-a-service) platforms such as AWS Lambda.

Functions run in execution environments packed on hosts; a request that finds no warm environment
pays a cold start; idle environments are kept alive for a while, then reclaimed; concurrency limits
throttle; memory sets the CPU share; timeouts kill; billing rounds each run up. simlab simulates all
of it on SimPy, and returns what happened as pandas DataFrames.

>>> import simlab
>>> sim = (simlab.Simulation(era="today", seed=1)
...        .add_function("hello", memory_mb=128, duration_s=0.05)
...        .add_source(simlab.sources.FixedInterval(interval_s=60), target="hello"))
>>> r = sim.run(until_s=600)
>>> float(r.summary()["cold_start_fraction"])
0.1
"""

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
    "ERAS": "simlab.core.config", "FunctionConfig": "simlab.core.config",
    "PlatformRules": "simlab.core.config", "era_rules": "simlab.core.config",
    "vcpu_share": "simlab.core.config",
    "FixedKeepAlive": "simlab.core.keepalive", "KeepAlivePolicy": "simlab.core.keepalive",
    "NoKeepAlive": "simlab.core.keepalive", "DemandKeepAlive": "simlab.core.keepalive",
    "AccountBurstScaling": "simlab.core.scaling", "PerFunctionScaling": "simlab.core.scaling",
    "Result": "simlab.core.result", "Simulation": "simlab.aws.simulation",
    "configure_async": "simlab.aws.sources",
    "pareto_front": "simlab.aws.sweep", "summarise": "simlab.aws.sweep",
    "sweep": "simlab.aws.sweep",
}
# Public modules, reachable as ``simlab.<name>`` without importing them first.
_MODULES: dict[str, str] = {
    "dists": "simlab.core.dists", "measured": "simlab.core.measured",
    "theory": "simlab.core.theory", "billing": "simlab.core.billing",
    "prices": "simlab.core.prices", "plots": "simlab.core.plots",
    "sources": "simlab.aws.sources", "scenarios": "simlab.aws.scenarios",
    "widgets": "simlab.course.widgets", "exercises": "simlab.course.exercises",
    "core": "simlab.core", "aws": "simlab.aws", "course": "simlab.course",
}

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws import sources
    from simlab.aws.simulation import Simulation
    from simlab.aws.sources import configure_async
    from simlab.aws.sweep import pareto_front, summarise, sweep
    from simlab.core import dists, measured
    from simlab.core.config import ERAS, FunctionConfig, PlatformRules, era_rules, vcpu_share
    from simlab.core.keepalive import (
        DemandKeepAlive,
        FixedKeepAlive,
        KeepAlivePolicy,
        NoKeepAlive,
    )
    from simlab.core.result import Result
    from simlab.core.scaling import AccountBurstScaling, PerFunctionScaling


def __getattr__(name: str) -> object:
    import importlib

    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'simlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_MODULES))
