"""Infrastructure automation: CloudTrail log files landing in S3 trigger a function that audits.

CloudTrail records every call to Lambda's control plane (who changed which function, how, when)
and a trail delivers the records, every few minutes, to an S3 bucket as a gzipped JSON file. The
bucket's notification invokes a function with the file's key; the function downloads it, gunzips
it, reads the records and acts on the calls it watches. The automation is only as fast as the
delivery.

Here the calls are the run's own: the scenario schedules configuration changes of its functions
during the run (:meth:`simlab.Simulation.update_function_configuration`,
:meth:`~simlab.Simulation.put_function_concurrency`), the platform applies them at their time,
and :class:`simlab.aws.cloudtrail.CloudTrailDelivery` delivers their records to the bucket as
the run goes.
"""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import unquote_plus

import numpy as np

from simlab.aws.cloudtrail import CloudTrailDelivery
from simlab.aws.scenarios._common import LOG, scenario_rng
from simlab.aws.simulation import Simulation
from simlab.aws.sources import Poisson, S3Bucket, SNSTopic
from simlab.aws.trail import EVENT_NAMES
from simlab.core.dists import LogNormal
from simlab.core.validate import number

__all__ = ["infra_automation", "control_plane_calls", "APP_FUNCTIONS", "WATCHABLE_CALLS"]

#: The application's functions, whose configuration the deployment pipeline changes.
APP_FUNCTIONS: tuple[str, ...] = ("checkout", "search", "resize")
#: The API calls the run's control plane makes, hence the calls a trail of it can hold.
WATCHABLE_CALLS: tuple[str, ...] = (
    "CreateFunction", "UpdateFunctionConfiguration", "UpdateFunctionCode",
    "PutFunctionConcurrency", "DeleteFunctionConcurrency")
_CHANGES = ("UpdateFunctionConfiguration", "UpdateFunctionCode", "PutFunctionConcurrency",
            "DeleteFunctionConcurrency")
_CHANGE_WEIGHTS = np.array([35, 35, 20, 10], dtype=float)
#: Median CPU time (s) of each application function's first version.
_CPU_S = {"checkout": 0.05, "search": 0.02, "resize": 0.4}
_MEMORY_MB = (256, 512, 1024, 1536, 2048)
_TIMEOUTS_S = (10, 15, 30)


def control_plane_calls(seed: int, hours: float, calls_per_hour: float,
                        functions: tuple[str, ...] = APP_FUNCTIONS) -> list:
    """The configuration changes a deployment pipeline makes: ``(time_s, action, function,
    changes)``, in time order.

    ``action`` is the API call CloudTrail records; ``changes`` uses simlab's names, as
    :meth:`simlab.Simulation.update_function_configuration` takes them. Poisson times at
    ``calls_per_hour`` over ``hours``; 35 % ``UpdateFunctionConfiguration`` (a new memory size
    or timeout), 35 % ``UpdateFunctionCode`` (a new version, whose CPU time differs by up to
    30 %), 20 % ``PutFunctionConcurrency`` (5 to 50), 10 % ``DeleteFunctionConcurrency`` (a
    ``Put`` when the function has no reserved concurrency to delete).
    """
    rng = scenario_rng(seed, "control-plane")
    n = int(rng.poisson(calls_per_hour * hours))
    times = np.sort(rng.uniform(0.0, hours * 3600.0, n)).tolist()
    kinds = rng.choice(len(_CHANGES), n, p=_CHANGE_WEIGHTS / _CHANGE_WEIGHTS.sum()).tolist()
    targets = rng.integers(0, len(functions), n).tolist()
    memory = rng.integers(0, len(_MEMORY_MB), n).tolist()
    timeout = rng.integers(0, len(_TIMEOUTS_S), n).tolist()
    which = (rng.random(n) < 0.5).tolist()
    speed = rng.uniform(0.7, 1.3, n).tolist()
    reserved = rng.integers(5, 51, n).tolist()
    has_reserved = dict.fromkeys(functions, False)
    calls = []
    for i, t in enumerate(times):
        action, name = _CHANGES[kinds[i]], functions[targets[i]]
        if action == "DeleteFunctionConcurrency" and not has_reserved[name]:
            action = "PutFunctionConcurrency"
        changes: dict[str, Any]
        if action == "UpdateFunctionConfiguration":
            changes = ({"memory_mb": _MEMORY_MB[memory[i]]} if which[i]
                       else {"timeout_s": _TIMEOUTS_S[timeout[i]]})
        elif action == "UpdateFunctionCode":
            changes = {"cpu_s": LogNormal(_CPU_S.get(name, 0.05) * speed[i], 0.3)}
        elif action == "PutFunctionConcurrency":
            changes = {"reserved_concurrency": reserved[i]}
        else:
            changes = {"reserved_concurrency": None}
        has_reserved[name] = action == "PutFunctionConcurrency" or (
            has_reserved[name] and action != "DeleteFunctionConcurrency")
        calls.append((t, action, name, changes))
    return calls


def infra_automation(seed: int = 0, *, era: str = "today",
                     watched_call: str = "PutFunctionConcurrency", calls_per_hour: float = 4.0,
                     hours: float = 24.0, delivery_every_s: float = 300.0,
                     requests_per_s: float = 0.1, user: str = "deploy-bot") -> Simulation:
    """Flag a chosen Lambda API call in the CloudTrail log files the run delivers to S3.

    An application's functions ``checkout``, ``search`` and ``resize`` serve ``requests_per_s``
    requests a second each, while a deployment pipeline (IAM user ``user``) changes their
    configuration about ``calls_per_hour`` times an hour (at most 12) over ``hours`` (at most 48):
    new memory sizes, timeouts, code versions, reserved concurrency (:func:`control_plane_calls`).
    The platform applies each change at its time. A trail
    (:class:`~simlab.aws.cloudtrail.CloudTrailDelivery`) delivers the records of the run's
    control-plane calls (the ``CreateFunction`` of every function at t = 0, then the changes) to
    the ``audit-trail`` bucket as a gzipped JSON file every ``delivery_every_s`` (a window
    without calls delivers nothing). Each file's
    ``s3:ObjectCreated`` notification invokes ``flag-calls``, whose handler downloads the object,
    **gunzips and parses it**, and for every record of ``watched_call`` logs a warning and
    publishes an alert to the ``security-alerts`` topic, which invokes ``notify-security``.

    Look at: the ``output`` of ``flag-calls`` (records scanned, flagged), the alerts in
    ``result.output("sns").messages``, the delivered files in ``result.output("cloudtrail")``,
    the changes in ``result.output("control_plane")``, the ``log_lines`` column.
    """
    if watched_call not in WATCHABLE_CALLS:
        raise ValueError(f"watched_call must be a Lambda API action the run's control plane "
                         f"makes, one of {list(WATCHABLE_CALLS)}, got {watched_call!r}")
    number("calls_per_hour", calls_per_hour, 0, 12, low_open=True)
    number("hours", hours, 0, 48, low_open=True)
    every = number("delivery_every_s", delivery_every_s, 60, 3_600)
    if not every.is_integer():
        raise ValueError(f"delivery_every_s must be a whole number of seconds, got "
                         f"{delivery_every_s!r}")
    number("requests_per_s", requests_per_s, 0, 100, low_open=True)
    sim = Simulation(era=era, seed=seed)
    for name in APP_FUNCTIONS:
        sim.add_function(name, memory_mb=512, timeout_s=30, cpu_s=LogNormal(_CPU_S[name], 0.3),
                         io_s=LogNormal(0.03, 0.5))
        sim.add_source(Poisson(requests_per_s), target=name)
    for t, _, name, changes in control_plane_calls(seed, hours, calls_per_hour):
        if "reserved_concurrency" in changes:
            sim.put_function_concurrency(t, name, changes["reserved_concurrency"])
        else:
            sim.update_function_configuration(t, name, **changes)
    trail_bucket = S3Bucket("audit-trail", prefix="AWSLogs/", suffix=".json.gz")
    trail = CloudTrailDelivery(trail_bucket, every_s=every, user=user)
    alerts = SNSTopic("security-alerts")
    logged_name = EVENT_NAMES[watched_call]

    def flag_calls(event: dict, context: Any) -> dict:
        key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
        body = trail_bucket.get_object(key)
        found = json.loads(gzip.decompress(body))["Records"]
        flagged = [r for r in found if r["eventName"] == logged_name]
        for r in flagged:
            who = r["userIdentity"].get("userName", r["userIdentity"].get("type"))
            LOG.warning("%s by %s at %s on %s", watched_call, who, r["eventTime"],
                        (r.get("requestParameters") or {}).get("functionName"))
            alerts.publish(json.dumps({"eventName": r["eventName"], "user": who,
                                       "eventTime": r["eventTime"],
                                       "requestParameters": r["requestParameters"]}),
                           subject=f"{watched_call} detected")
        print(f"scanned {len(found)} records in {key.rsplit('/', 1)[-1]}")
        return {"records": len(found), "flagged": len(flagged)}

    def notify(event: dict, context: Any) -> str:
        alert = json.loads(event["Records"][0]["Sns"]["Message"])
        print(f"paging the on-call engineer: {alert['user']} called {alert['eventName']}")
        return "paged"

    sim.add_function("flag-calls", memory_mb=256, timeout_s=30, cpu_s=LogNormal(0.05, 0.3),
                     io_s=LogNormal(0.08, 0.3), handler=flag_calls)
    sim.add_function("notify-security", memory_mb=128, timeout_s=5,
                     duration_s=LogNormal(0.1, 0.3), handler=notify)
    sim.add_source(trail_bucket, target="flag-calls")
    sim.add_source(trail, target="flag-calls")
    sim.add_source(alerts, target="notify-security")
    return sim
