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

__all__ = [
    "Simulation", "Result", "FunctionConfig", "PlatformRules", "ERAS", "era_rules",
    "vcpu_share", "FixedKeepAlive", "NoKeepAlive", "KeepAlivePolicy", "PerFunctionScaling",
    "AccountBurstScaling", "dists", "sources", "theory", "configure_async", "sweep",
    "summarise", "pareto_front", "DemandKeepAlive", "measured",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Modules with heavy imports (scipy, matplotlib) load on first use.
    import importlib

    if name in {"theory", "billing", "prices", "plots", "widgets", "exercises", "scenarios"}:
        return importlib.import_module(f"simlab.{name}")
    raise AttributeError(f"module 'simlab' has no attribute {name!r}")
