"""The columns of a run's records: what each row of each table means, with its unit.

Every table a run produces is *flat*: one row per thing, one column per fact, snake_case names with
the unit in the name. They drop straight into pandas, and every other part of simlab (billing, logs,
metrics, plots) is a pure function of them, testable without running a simulation.

``INVOCATIONS``: one row per invocation *attempt* (an async retry is a new row, ``attempt`` counts).
``ENVIRONMENTS``: one row per execution environment (container).
``HOSTS``: one row per host (EC2 instance) that held environments.
``FUNCTIONS``: one row per function, its configuration.
"""

from __future__ import annotations

__all__ = ["INVOCATIONS", "ENVIRONMENTS", "HOSTS", "FUNCTIONS", "STATUSES", "ARCHITECTURES"]

#: The outcomes of an invocation attempt.
STATUSES: tuple[str, ...] = ("ok", "error", "timeout", "oom", "throttled", "dropped")

#: The architectures a function can run on (x86_64 or Graviton's arm64), in the order of the
#: records' architecture codes.
ARCHITECTURES: tuple[str, ...] = ("x86_64", "arm64")

INVOCATIONS: dict[str, str] = {
    "invocation_id": "int: 0, 1, 2... in order of arrival; with the run's seed gives the "
    "request id "
    "(simlab.core.ids.request_id)",
    "function": "str: function name",
    "source": "str: name of the source that sent the request",
    "invocation_type": "str: 'sync' (RequestResponse), 'async' (Event) or 'poll' (event source "
    "mapping batch)",
    "attempt": "int: 1 for the first attempt, 2 and 3 for async retries",
    "arrival_s": "float: when the request reached the platform (s); for an async attempt, when "
    "the internal queue made the attempt (the event was queued event_age_ms earlier); for a "
    "dropped event, when it was first queued",
    "start_s": "float: when the handler started, after any INIT (s)",
    "end_s": "float: when the handler returned or was killed (s)",
    "init_ms": "float: INIT duration the request waited for; 0 on a warm start",
    "duration_ms": "float: handler run time (what REPORT calls Duration)",
    "latency_ms": "float: end_s - arrival_s, in ms (what the caller waited)",
    "cold": "bool: the request waited for an INIT",
    "status": "str: one of STATUSES",
    "env_id": "int: execution environment that served it; -1 if none (throttled, dropped)",
    "host_id": "int: host of that environment; -1 if none",
    "memory_mb": "int: configured memory of the function when it ran",
    "max_memory_used_mb": "float: peak memory of this invocation (capped at memory_mb)",
    "provisioned": "bool: served by a provisioned-concurrency environment",
    "architecture": "str: 'x86_64' or 'arm64'",
    "billed_ms": "float: billed duration under the run's rules (Result.invocations adds it)",
    "cost_usd": "float: list price of the request and its billed duration (before free tier)",
}

ENVIRONMENTS: dict[str, str] = {
    "env_id": "int",
    "function": "str",
    "host_id": "int",
    "memory_mb": "int",
    "provisioned": "bool: a provisioned-concurrency environment",
    "created_s": "float: INIT started (s)",
    "ready_s": "float: INIT ended (s)",
    "ended_s": "float: reclaimed or killed (s); the run's end if still alive",
    "end_reason": "str: 'idle_timeout', 'max_lifetime', 'timeout', 'oom', 'updated' (a new "
    "configuration replaced it), 'init_timeout' (a provisioned INIT past its limit), "
    "'runtime_exit' (the handler exited the runtime, e.g. sys.exit()), or 'alive' at the end",
    "invocations": "int: requests served",
    "busy_s": "float: total handler time (s)",
    "init_s": "float: INIT duration (s)",
}

HOSTS: dict[str, str] = {
    "host_id": "int",
    "memory_mb": "int: memory available to environments",
    "created_s": "float: when the host was added (s)",
    "environments": "int: environments ever placed on it",
    "peak_used_mb": "int: most memory in use at once",
    "used_mb_s": "float: integral of memory in use over time (MB-s)",
}

FUNCTIONS: dict[str, str] = {
    "function": "str",
    "memory_mb": "int",
    "timeout_s": "float",
    "architecture": "str",
    "runtime": "str: e.g. 'python3.12'; 'provided.al2023' is a custom runtime",
    "package_type": "str: 'zip' or 'image'",
    "ephemeral_storage_mb": "int: /tmp size, 512 to 10,240",
    "reserved_concurrency": "float: NaN when none",
    "provisioned_concurrency": "int",
}
