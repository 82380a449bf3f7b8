"""The trail of a run: its control-plane calls as CloudTrail records, delivered to S3 live.

A run changes its platform as it goes: functions are created at t = 0, and a lesson may raise a
function's memory at t = 30 min (``sim.update_function_configuration(1800, "f", memory_mb=1024)``)
or cap its concurrency (``sim.put_function_concurrency(...)``). The simulation logs each such
action in ``result.output("control_plane")`` as ``(time_s, api, function, changes)``, in simlab's
own words (``memory_mb``). On AWS the same actions are API calls, and CloudTrail records each one
in the API's words (``memorySize``), with who made it and when:

* :func:`api_calls` translates one logged action into the API calls it stands for: a change of
  memory, timeout, runtime or /tmp size is ``UpdateFunctionConfiguration``; reserved concurrency is
  ``PutFunctionConcurrency`` (or ``DeleteFunctionConcurrency``); provisioned concurrency is
  ``PutProvisionedConcurrencyConfig``; a change of the code's behaviour (run time, memory used,
  errors, handler, architecture) is a new deployment, ``UpdateFunctionCode``;
* :func:`result_trail` turns a finished run's log into CloudTrail records
  (:func:`simlab.aws.trail.trail_record`), and :func:`trail_frame` into a table, one row per
  record.

A *trail* delivers those records to an S3 bucket every few minutes, as gzip-compressed JSON files
under AWS's key layout (:func:`simlab.aws.trail.delivery_files`). :class:`CloudTrailDelivery`
does it *during* the run: every ``every_s`` seconds it collects the actions logged so far that it
has not delivered yet and puts one file into an :class:`~simlab.aws.sources.S3Bucket`, whose
notification then invokes a function. That function can read the file and act on what changed:
:func:`trail_reader` builds such a handler. This is the CloudTrail -> S3 -> Lambda pattern
(LAMBDA_FACTS 8.3), end to end::

    bucket = simlab.sources.S3Bucket("audit-trail")
    sim.add_function("audit", duration_s=0.2, handler=trail_reader(bucket))
    sim.add_source(bucket, target="audit")
    sim.add_source(CloudTrailDelivery(bucket, every_s=300), target="audit")

The records delivered during a run are exactly those :func:`result_trail` builds afterwards (same
numbers, so same ``eventID``); records of the last, unfinished window are delivered after the run
ends, as a real trail would, and so never reach the bucket.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from simlab.aws.sources.base import Source
from simlab.aws.sources.payloads.notifications import decode_s3_key
from simlab.aws.sources.s3 import S3Bucket
from simlab.aws.sources.timeline import at_times
from simlab.aws.trail import (
    EVENT_NAMES,
    TrailFile,
    delivery_files,
    read_trail_file,
    trail_record,
)
from simlab.core import validate
from simlab.core.logs import DEFAULT_EPOCH

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run
    from simlab.core.result import Result

__all__ = [
    "API_NAMES", "TRAIL_COLUMNS", "api_calls", "result_trail", "trail_frame",
    "CloudTrailDelivery", "TrailDeliveries", "trail_reader",
]  # fmt: skip

#: simlab's configuration names -> the Lambda API's request parameters (UpdateFunctionConfiguration
#: and CreateFunction). ``architecture`` is set with UpdateFunctionCode, as on AWS.
API_NAMES: dict[str, str] = {
    "memory_mb": "memorySize",
    "timeout_s": "timeout",
    "runtime": "runtime",
    "ephemeral_storage_mb": "ephemeralStorage",
    "package_type": "packageType",
    "architecture": "architectures",
}

#: Configuration that only the code (a new deployment) changes: UpdateFunctionCode.
_CODE = frozenset({"init_s", "cpu_s", "io_s", "duration_s", "parallelism", "memory_used_mb",
                   "error_rate", "handler", "architecture"})  # fmt: skip
_CONFIG = frozenset({"memory_mb", "timeout_s", "runtime", "ephemeral_storage_mb"})

#: Columns of :func:`trail_frame`, one row per record.
TRAIL_COLUMNS: tuple[str, ...] = (
    "time_s", "event_time", "event_name", "action", "function", "user", "read_only",
    "request_parameters", "event_id",
)  # fmt: skip

_ACTION_OF = {logged: action for action, logged in EVENT_NAMES.items()}


# -- translating the control-plane log ----------------------------------------------------------
def _api_value(key: str, value: Any) -> Any:
    if key == "ephemeral_storage_mb":
        return {"size": int(value)}
    if key == "architecture":
        return [value]
    if key == "timeout_s":
        return int(value) if float(value).is_integer() else float(value)
    if key == "memory_mb":
        return int(value)
    if key == "package_type":
        return {"zip": "Zip", "image": "Image"}.get(value, value)
    return value


def _lambda_time(epoch: datetime, time_s: float) -> str:
    """``lastModified`` as Lambda writes it: ``2026-11-27T00:30:00.000+0000``."""
    t = epoch.astimezone(UTC) + timedelta(seconds=time_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def _configuration(function: str, config: Mapping[str, Any], time_s: float, epoch: datetime,
                   account_id: str, region: str, status: str) -> dict[str, Any]:
    """The FunctionConfiguration a call returns (the part simlab knows)."""
    out: dict[str, Any] = {
        "functionName": function,
        "functionArn": f"arn:aws:lambda:{region}:{account_id}:function:{function}",
    }
    for key in ("runtime", "memory_mb", "timeout_s", "ephemeral_storage_mb", "architecture",
                "package_type"):  # fmt: skip
        if key in config:
            out[API_NAMES[key]] = _api_value(key, config[key])
    out.update({"lastModified": _lambda_time(epoch, time_s), "version": "$LATEST"})
    out.update({"state": "Pending"} if status == "create" else {"lastUpdateStatus": "InProgress"})
    return out


def api_calls(
    entry: Sequence[Any],
    config: dict[str, Any],
    *,
    epoch: datetime = DEFAULT_EPOCH,
    account_id: str = "123456789012",
    region: str = "us-east-1",
) -> list[tuple[float, str, dict[str, Any], dict[str, Any] | None]]:
    """The Lambda API calls that one logged control-plane action stands for.

    Parameters
    ----------
    entry : (time_s, api, function, changes)
        One item of ``result.output("control_plane")``: ``api`` is ``CreateFunction``,
        ``UpdateFunctionConfiguration``, ``PutFunctionConcurrency`` or
        ``DeleteFunctionConcurrency``; ``changes`` uses simlab's names (``memory_mb=1024``).
    config : dict
        The function's public configuration so far (simlab's names); updated in place with
        ``changes``, so that the responses show the configuration after each call. Pass ``{}``
        for a ``CreateFunction`` entry.
    epoch, account_id, region
        Where and when (for ARNs and ``lastModified``).

    Returns
    -------
    list of (time_s, action, request_parameters, response_elements)
        In the order the calls are made; ready for :func:`simlab.aws.trail.trail_record`.

    Raises
    ------
    ValueError
        If ``entry`` is not a 4-tuple with a known ``api`` and a dict of changes.

    Examples
    --------
    >>> cfg = {"memory_mb": 128}
    >>> [(a, p) for _, a, p, _ in api_calls((1800.0, "UpdateFunctionConfiguration", "f",
    ...                                      {"memory_mb": 1024}), cfg)]
    [('UpdateFunctionConfiguration', {'functionName': 'f', 'memorySize': 1024})]
    """
    if isinstance(entry, str | bytes) or not isinstance(entry, Sequence) or len(entry) != 4:
        raise ValueError(f"a control-plane entry must be (time_s, api, function, changes), "
                         f"got {entry!r}")
    time_s, api, function, changes = entry
    if not isinstance(changes, Mapping):
        raise ValueError(f"the changes of a control-plane entry must be a dict, got {changes!r}")
    apis = ("CreateFunction", "UpdateFunctionConfiguration", "PutFunctionConcurrency",
            "DeleteFunctionConcurrency")  # fmt: skip
    if api not in apis:
        raise ValueError(f"control-plane api must be one of {apis}, got {api!r}")
    t = float(time_s)
    place = {"epoch": epoch, "account_id": account_id, "region": region}
    name = {"functionName": function}
    calls: list[tuple[float, str, dict[str, Any], dict[str, Any] | None]] = []
    if api == "CreateFunction":
        config.clear()
        config.update({k: v for k, v in changes.items() if k in API_NAMES})
        params = dict(name)
        params.update({API_NAMES[k]: _api_value(k, v) for k, v in config.items()})
        params.update({"code": {}, "publish": False})
        calls.append((t, api, params, _configuration(function, config, t, status="create",
                                                     **place)))  # fmt: skip
    else:
        settable = {k: v for k, v in changes.items() if k in _CONFIG}
        if settable:
            config.update(settable)
            params = dict(name)
            params.update({API_NAMES[k]: _api_value(k, v) for k, v in settable.items()})
            calls.append((t, "UpdateFunctionConfiguration", params,
                          _configuration(function, config, t, status="update", **place)))
        code = {k: v for k, v in changes.items() if k in _CODE}
        if code:
            params = {**name, "publish": False}
            if "architecture" in code:
                config["architecture"] = code["architecture"]
                params["architectures"] = [code["architecture"]]
            calls.append((t, "UpdateFunctionCode", params,
                          _configuration(function, config, t, status="update", **place)))
    if "reserved_concurrency" in changes:
        reserved = changes["reserved_concurrency"]
        if reserved is None:
            if api != "CreateFunction":
                calls.append((t, "DeleteFunctionConcurrency", dict(name), None))
        else:
            calls.append((t, "PutFunctionConcurrency",
                          {**name, "reservedConcurrentExecutions": int(reserved)},
                          {"reservedConcurrentExecutions": int(reserved)}))
    if "provisioned_concurrency" in changes:
        n = int(changes["provisioned_concurrency"] or 0)
        if n > 0:
            calls.append((t, "PutProvisionedConcurrencyConfig",
                          {**name, "provisionedConcurrentExecutions": n},
                          {"requestedProvisionedConcurrentExecutions": n,
                           "allocatedProvisionedConcurrentExecutions": 0,
                           "status": "IN_PROGRESS", "lastModified": _lambda_time(epoch, t)}))
        elif api != "CreateFunction":
            calls.append((t, "DeleteProvisionedConcurrencyConfig", dict(name), None))
    return calls


class _Translator:
    """Turns a growing control-plane log into numbered records, a few entries at a time."""

    def __init__(self, seed: int, epoch: datetime, user: str, account_id: str,
                 region: str) -> None:
        self.seed, self.epoch = seed, epoch
        self.options = {"user": user, "account_id": account_id, "region": region}
        self.configs: dict[str, dict[str, Any]] = {}
        self.entries = 0  # log entries translated so far
        self.numbered = 0  # records made so far

    def more(self, log: Sequence[Sequence[Any]]) -> list[tuple[float, dict[str, Any]]]:
        """``(time_s, record)`` of the entries of ``log`` not translated yet."""
        out = []
        for entry in log[self.entries:]:
            function = entry[2] if len(entry) == 4 else None
            config = self.configs.setdefault(function, {})
            calls = api_calls(entry, config, epoch=self.epoch,
                              account_id=self.options["account_id"],
                              region=self.options["region"])
            for t, action, params, response in calls:
                record = trail_record(action, params, t, self.seed, self.numbered, self.epoch,
                                      response_elements=response, **self.options)
                self.numbered += 1
                out.append((t, record))
            self.entries += 1
        return out


def _log_of(result: Result) -> list[Any]:
    log = getattr(result, "outputs", {}).get("control_plane")
    if log is None:
        raise ValueError("result has no control-plane log (result.output('control_plane')); "
                         "it comes from Simulation.run")
    return list(log)


def _timed_trail(result: Result, user: str, account_id: str,
                 region: str) -> list[tuple[float, dict[str, Any]]]:
    log = sorted(_log_of(result), key=lambda e: float(e[0]))  # stable: keeps same-time order
    return _Translator(result.seed, result.epoch, user, account_id, region).more(log)


def result_trail(
    result: Result,
    *,
    user: str = "student",
    account_id: str = "123456789012",
    region: str = "us-east-1",
) -> list[dict[str, Any]]:
    """The CloudTrail records of every control-plane call of a run, in order of time.

    Parameters
    ----------
    result : Result
        A finished run (its output ``"control_plane"``, ``seed`` and ``epoch`` are used).
    user : str
        IAM user name who made the calls (``"root"`` for the root user).
    account_id, region : str
        The account and region of the trail.

    Returns
    -------
    list of dict
        One record per API call (see :func:`api_calls`); ``eventID`` and ``requestID`` are fixed
        by the run's seed and the record's number, so the same run gives the same trail.

    Raises
    ------
    ValueError
        If ``result`` has no control-plane log, or a bad user, account or region.
    """
    return [rec for _, rec in _timed_trail(result, user, account_id, region)]


def trail_frame(
    trail: Result | Iterable[Mapping[str, Any]],
    *,
    epoch: datetime | None = None,
    **options: Any,
) -> pd.DataFrame:
    """A trail as a table: one row per record, the columns :data:`TRAIL_COLUMNS`.

    Parameters
    ----------
    trail : Result or iterable of dict
        A finished run (its records are built with :func:`result_trail` and ``options``), or
        CloudTrail records, for example read back from a log file with
        :func:`simlab.aws.trail.read_trail_file`.
    epoch : datetime, optional
        Wall-clock time of simulated t = 0, to turn ``eventTime`` back into ``time_s`` for
        records (default: the run's epoch for a Result, else 2026-11-27T00:00:00Z).
    **options
        ``user``, ``account_id``, ``region`` for a Result.

    Returns
    -------
    DataFrame
        ``time_s`` (simulated s: exact for a Result, whole seconds from ``eventTime`` for
        records), ``event_time`` (UTC), ``event_name`` (as logged, with its API version),
        ``action`` (the API action), ``function``, ``user``, ``read_only``,
        ``request_parameters`` (compact JSON text), ``event_id``.
    """
    if hasattr(trail, "outputs") and hasattr(trail, "seed"):
        timed = _timed_trail(trail, options.get("user", "student"),  # type: ignore[arg-type]
                             options.get("account_id", "123456789012"),
                             options.get("region", "us-east-1"))
        times: list[float] | None = [t for t, _ in timed]
        records = [r for _, r in timed]
    else:
        if options:
            raise TypeError(f"options {sorted(options)} apply to a Result only")
        if isinstance(trail, Mapping) or not isinstance(trail, Iterable):
            raise TypeError(f"trail must be a Result or a list of CloudTrail records, got "
                            f"{type(trail).__name__}")
        records = list(trail)
        times = None
    for i, r in enumerate(records):
        if not isinstance(r, Mapping) or "eventTime" not in r or "eventName" not in r:
            raise ValueError(f"trail[{i}] is not a CloudTrail record (no eventTime/eventName)")
    stamps = pd.to_datetime([r["eventTime"] for r in records], utc=True, format="ISO8601")
    if times is None:
        base = pd.Timestamp(epoch or DEFAULT_EPOCH)
        base = base.tz_localize("UTC") if base.tzinfo is None else base.tz_convert("UTC")
        times = ((stamps - base).total_seconds()).tolist() if records else []

    def params(r: Mapping[str, Any]) -> Any:
        p = r.get("requestParameters")
        return None if p is None else json.dumps(p, separators=(",", ":"), sort_keys=True)

    return pd.DataFrame({
        "time_s": pd.Series(times, dtype=float),
        "event_time": stamps,
        "event_name": [r["eventName"] for r in records],
        "action": [_ACTION_OF.get(r["eventName"], r["eventName"]) for r in records],
        "function": [(r.get("requestParameters") or {}).get("functionName") for r in records],
        "user": [(r.get("userIdentity") or {}).get("userName",
                                                   (r.get("userIdentity") or {}).get("type"))
                 for r in records],
        "read_only": pd.Series([bool(r.get("readOnly", False)) for r in records], dtype=bool),
        "request_parameters": pd.Series([params(r) for r in records], dtype=object),
        "event_id": [r.get("eventID") for r in records],
    }, columns=list(TRAIL_COLUMNS))


# -- delivery during a run ----------------------------------------------------------------------
class TrailDeliveries:
    """What a :class:`CloudTrailDelivery` put into its bucket (``result.output(<its name>)``).

    Attributes
    ----------
    bucket
        The bucket's name.
    files
        The delivered :class:`~simlab.aws.trail.TrailFile` objects, in order of delivery.
    """

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self.files: list[TrailFile] = []

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every delivered record, in order of delivery."""
        return [r for f in self.files for r in read_trail_file(f.body)]

    def frame(self) -> pd.DataFrame:
        """One row per file: ``delivery_time_s``, ``key``, ``records``, ``size_bytes``."""
        return pd.DataFrame({
            "delivery_time_s": pd.Series([f.delivery_time_s for f in self.files], dtype=float),
            "key": pd.Series([f.key for f in self.files], dtype=object),
            "records": pd.Series([len(read_trail_file(f.body)) for f in self.files], dtype=int),
            "size_bytes": pd.Series([len(f.body) for f in self.files], dtype=int),
        })

    def __repr__(self) -> str:
        return f"<TrailDeliveries to {self.bucket!r}: {len(self.files)} files>"


def _whole_seconds(name: str, value: Any, low: int) -> float:
    ok = validate.is_real(value) and float(value).is_integer() and value >= low
    if not ok:
        raise ValueError(f"{name} must be a whole number of seconds >= {low}, got {value!r}")
    return float(value)


class CloudTrailDelivery(Source):
    """A trail that delivers the run's control-plane records to an S3 bucket as it goes.

    Every ``every_s`` seconds (from t = 0), plus ``delay_s``, the records of the calls made in
    the window just ended become one gzip-JSON log file, put into ``bucket`` under the key
    ``[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_
    <YYYYMMDDTHHmmZ>_<unique>.json.gz``. A window without calls delivers nothing. The bucket's
    notification then invokes its functions, once per file.

    Attach it with ``sim.add_source(trail, target=...)`` naming the function(s) the bucket
    notifies of the trail's files: the trail itself sends them nothing, the bucket does; naming
    them makes the pipeline explicit, and the run checks, before it starts, that the bucket is
    attached and that its notification of each such function accepts the trail's keys.

    Parameters
    ----------
    bucket : S3Bucket
        The trail's bucket, attached to the same simulation.
    every_s : float
        Delivery interval, a whole number of seconds >= 1 (CloudTrail: about 5 minutes).
    delay_s : float
        Extra seconds between the end of a window and the file's delivery (whole, >= 0).
    prefix : str
        S3 key prefix of the trail (no leading or trailing ``/``).
    user, account_id, region : str
        Who made the calls, and the trail's account and region.
    """

    kind = "cloudtrail"
    output_type = TrailDeliveries

    def __init__(self, bucket: S3Bucket, every_s: float = 300.0, *, delay_s: float = 0.0,
                 prefix: str = "", user: str = "student", account_id: str = "123456789012",
                 region: str = "us-east-1") -> None:
        if not isinstance(bucket, S3Bucket):
            raise TypeError(f"bucket must be a simlab.sources.S3Bucket, got {bucket!r}")
        self.bucket = bucket
        self.every_s = _whole_seconds("every_s", every_s, 1)
        self.delay_s = _whole_seconds("delay_s", delay_s, 0)
        self.prefix = prefix
        self.options = {"user": user, "account_id": account_id, "region": region}
        # Check prefix, user, account and region now, on a throw-away record and file.
        probe = trail_record("GetFunction", None, 0.0, 0, 0, **self.options)
        self._probe_key = delivery_files([probe], self.every_s, account_id=account_id,
                                         region=region, prefix=prefix)[0].key

    def _check_pipeline(self, run: Run, targets: list[str]) -> None:
        attached = {id(s): t for s, t in run.simulation.sources}
        if id(self.bucket) not in attached:
            raise ValueError(f"bucket {self.bucket.bucket!r} of trail {self.name!r} is not "
                             f"attached to the simulation: sim.add_source(bucket, target=...)")
        fed = attached[id(self.bucket)]
        for t in targets:
            if t not in fed or not self.bucket.notification(t).wants(self._probe_key,
                                                                     "ObjectCreated:Put"):
                raise ValueError(f"trail {self.name!r}: bucket {self.bucket.bucket!r} does not "
                                 f"notify {t!r} of the trail's files (keys like "
                                 f"{self._probe_key!r}); bucket targets: {fed}")

    def start(self, run: Run, targets: list[str]) -> None:
        self._check_pipeline(run, targets)
        if run.epoch.microsecond:
            raise ValueError(f"trail delivery needs an epoch in whole seconds (eventTime has no "
                             f"fraction), got {run.epoch.isoformat()}")
        name = self.name or self.kind
        delivered = run.service(name, lambda run: TrailDeliveries(self.bucket.bucket), shared=False)
        translator = _Translator(run.seed, run.epoch, **self.options)
        every, delay = self.every_s, self.delay_s
        account, region = self.options["account_id"], self.options["region"]

        def deliver(k: int, t: float) -> None:
            log = run.services.get("control_plane", [])
            window_end = (k + 1) * every
            ready = [e for e in log[translator.entries:] if float(e[0]) < window_end]
            records = [rec for _, rec in translator.more(log[:translator.entries + len(ready)])]
            if not records:
                return
            for f in delivery_files(records, every, account_id=account, region=region,
                                    prefix=self.prefix, epoch=run.epoch, seed=run.seed,
                                    delay_s=delay):
                self.bucket.put_object(f.key, f.body)
                delivered.files.append(f)

        at_times(run, ((j + 1) * every + delay for j in itertools.count()), deliver)

    def __repr__(self) -> str:
        return f"CloudTrailDelivery({self.bucket!r}, every_s={self.every_s:g})"


# -- the function at the end of the pipeline ----------------------------------------------------
def trail_reader(
    bucket: S3Bucket,
    *,
    actions: Iterable[str] | None = None,
    read_only: bool = False,
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A handler that reads the CloudTrail files its S3 event names and reports what changed.

    For each S3 record of the event it gets the object from ``bucket`` (decoding the URL-encoded
    key), reads the gzip-JSON file and prints one line per record of interest::

        2026-11-27T00:30:00Z UpdateFunctionConfiguration20150331v2 thumbnail by student:
            {"memorySize":1024}

    (on one line). It returns ``{"files": [...keys], "records": n, "changes": [...]}`` where each
    change is ``{"eventTime", "action", "functionName", "requestParameters"}``.

    Parameters
    ----------
    bucket : S3Bucket
        The trail's bucket (the handler reads objects from it during the run).
    actions : iterable of str, optional
        API actions to report (``"UpdateFunctionConfiguration"``); default: every action.
    read_only : bool
        Also report read-only calls (``Get*``, ``List*``).
    """
    if not isinstance(bucket, S3Bucket):
        raise TypeError(f"bucket must be a simlab.sources.S3Bucket, got {bucket!r}")
    wanted = None if actions is None else set(actions)
    if wanted is not None:
        unknown = wanted - set(EVENT_NAMES)
        if unknown:
            raise ValueError(f"actions {sorted(unknown)} are not Lambda API actions; allowed: "
                             f"{sorted(EVENT_NAMES)}")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        keys, changes, n = [], [], 0
        for s3 in event.get("Records", []):
            key = decode_s3_key(s3["s3"]["object"]["key"])
            keys.append(key)
            for rec in read_trail_file(bucket.get_object(key)):
                n += 1
                action = _ACTION_OF.get(rec["eventName"], rec["eventName"])
                if (wanted is not None and action not in wanted) or (
                        rec.get("readOnly") and not read_only):
                    continue
                params = dict(rec.get("requestParameters") or {})
                function = params.pop("functionName", None)
                who = rec["userIdentity"].get("userName", rec["userIdentity"]["type"])
                print(f"{rec['eventTime']} {rec['eventName']} {function} by {who}: "
                      f"{json.dumps(params, separators=(',', ':'), sort_keys=True)}")
                changes.append({"eventTime": rec["eventTime"], "action": action,
                                "functionName": function,
                                "requestParameters": rec.get("requestParameters")})
        return {"files": keys, "records": n, "changes": changes}

    return handler
