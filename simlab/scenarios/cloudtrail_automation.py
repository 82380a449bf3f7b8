"""Infrastructure automation: CloudTrail log files landing in S3 trigger a function that audits.

CloudTrail records every call to Lambda's control plane (who changed which function, how, when)
and a trail delivers the records, every few minutes, to an S3 bucket as a gzipped JSON file. The
bucket's notification invokes a function with the file's key; the function downloads it, gunzips
it, reads the records and acts on the calls it watches. The automation is only as fast as the
delivery.
"""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import unquote_plus

import numpy as np

from simlab.dists import LogNormal
from simlab.observe.trail import EVENT_NAMES, delivery_files, trail_record
from simlab.scenarios._common import LOG, scenario_rng
from simlab.simulation import Simulation
from simlab.sources import S3Bucket, SNSTopic
from simlab.validate import number

__all__ = ["infra_automation", "control_plane_calls"]

_ACTIONS = ("GetFunction", "ListFunctions", "UpdateFunctionConfiguration",
            "PutFunctionConcurrency", "UpdateFunctionCode", "GetPolicy", "DeleteFunction")
_ACTION_WEIGHTS = np.array([30, 30, 10, 5, 15, 8, 2], dtype=float)
_USERS = ("alice", "bob", "deploy-bot")


def control_plane_calls(seed: int, hours: float, calls_per_hour: float,
                        functions: tuple[str, ...] = ("checkout", "search", "resize")) -> list:
    """Made-up control-plane calls ``(time_s, action, request_parameters)`` for a trail."""
    rng = scenario_rng(seed, "control-plane")
    n = int(rng.poisson(calls_per_hour * hours))
    times = np.sort(rng.uniform(0.0, hours * 3600.0, n))
    actions = rng.choice(len(_ACTIONS), n, p=_ACTION_WEIGHTS / _ACTION_WEIGHTS.sum())
    targets = rng.integers(0, len(functions), n)
    calls = []
    for t, a, f in zip(times.tolist(), actions.tolist(), targets.tolist(), strict=True):
        params: dict[str, Any] = {"functionName": functions[f]}
        if _ACTIONS[a] == "PutFunctionConcurrency":
            params["reservedConcurrentExecutions"] = int(rng.integers(1, 50))
        if _ACTIONS[a] == "ListFunctions":
            params = {}
        calls.append((t, _ACTIONS[a], params))
    return calls


def infra_automation(seed: int = 0, *, era: str = "today",
                     watched_call: str = "PutFunctionConcurrency", calls_per_hour: float = 40.0,
                     hours: float = 24.0, delivery_every_s: float = 300.0) -> Simulation:
    """Flag a chosen Lambda API call in CloudTrail log files as they land in S3.

    Control-plane calls by ``alice``, ``bob`` and ``deploy-bot`` (``calls_per_hour`` over
    ``hours``) are recorded by a trail that delivers a gzipped JSON log file to the ``audit-trail``
    bucket every ``delivery_every_s`` (with records of that window). Each file's
    ``s3:ObjectCreated`` notification invokes ``flag-calls``, whose handler downloads the object,
    **gunzips and parses it**, and for every record of ``watched_call`` logs a warning and
    publishes an alert to the ``security-alerts`` topic, which invokes ``notify-security``.

    Look at: the ``output`` of ``flag-calls`` (records scanned, flagged), the alerts in
    ``result.extras["sns"].messages``, the ``log_lines`` column.
    """
    if watched_call not in EVENT_NAMES:
        raise ValueError(f"watched_call must be a Lambda API action CloudTrail records, one of "
                         f"{sorted(EVENT_NAMES)}, got {watched_call!r}")
    number("calls_per_hour", calls_per_hour, 0, 3_600, low_open=True)
    number("hours", hours, 0, 24 * 31, low_open=True)
    number("delivery_every_s", delivery_every_s, 0, 3_600, low_open=True)
    sim = Simulation(era=era, seed=seed)
    calls = control_plane_calls(seed, hours, calls_per_hour)
    users = scenario_rng(seed, "users").integers(0, len(_USERS), len(calls)).tolist()
    records = [trail_record(action, params, t, seed, n, sim.epoch, user=_USERS[u])
               for n, ((t, action, params), u) in enumerate(zip(calls, users, strict=True))]
    files = delivery_files(records, delivery_every_s, seed=seed, epoch=sim.epoch)
    trail_bucket = S3Bucket("audit-trail", uploads=[(f.delivery_time_s, f.key, len(f.body),
                                                     f.body) for f in files],
                            prefix="AWSLogs/", suffix=".json.gz")
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
    sim.add_source(alerts, target="notify-security")
    return sim
