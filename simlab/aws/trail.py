"""CloudTrail: the record of who changed what, and its delivery to S3 as log files.

Every call to Lambda's *control plane* (create a function, change its memory, set its reserved
concurrency...) is recorded by CloudTrail as a JSON *record*: who made it (``userIdentity``), when
(``eventTime``, UTC, whole seconds), what (``eventSource`` ``lambda.amazonaws.com`` and
``eventName``), with which arguments (``requestParameters``) and what came back
(``responseElements``). Lambda's event names carry the API version they belong to, a quirk that
trips up exact-match searches: ``UpdateFunctionConfiguration`` is logged as
``UpdateFunctionConfiguration20150331v2`` (:data:`EVENT_NAMES`). Some arguments are never logged:
the ``Environment`` variables and ``ZipFile`` code of ``CreateFunction`` for instance.

A *trail* delivers the records to an S3 bucket, a few times an hour (about every 5 minutes), as
gzip-compressed JSON files ``{"Records": [...]}`` under keys of a fixed layout::

    [prefix/]AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/
        <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16-char unique string>.json.gz

where the time in the name is the delivery time; a file may hold records from minutes earlier.
An S3 ``ObjectCreated`` notification on that bucket can then invoke a function, which reads the
file and acts on the records: the CloudTrail -> S3 -> Lambda pattern. :func:`delivery_files` builds
those files from records, :func:`read_trail_file` reads one back.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from simlab.core import validate
from simlab.core.ids import derived_uuid
from simlab.core.logs import DEFAULT_EPOCH, epoch_ms

__all__ = [
    "EVENT_NAMES",
    "TRAIL_KEY",
    "TrailFile",
    "delivery_files",
    "cloudtrail_event_name",
    "read_trail_file",
    "trail_record",
    "trail_records",
]

#: CloudTrail's ``eventName`` for each Lambda API action it records. Those that Lambda's
#: documentation lists with an API-version suffix carry it; the others are logged as the action's
#: name. ``Invoke`` is a *data* event (logged only when a trail asks for it).
EVENT_NAMES: dict[str, str] = {
    "AddLayerVersionPermission": "AddLayerVersionPermission",
    "AddPermission": "AddPermission20150331v2",
    "CreateAlias": "CreateAlias20150331",
    "CreateEventSourceMapping": "CreateEventSourceMapping20150331",
    "CreateFunction": "CreateFunction20150331",
    "CreateFunctionUrlConfig": "CreateFunctionUrlConfig",
    "DeleteAlias": "DeleteAlias20150331",
    "DeleteEventSourceMapping": "DeleteEventSourceMapping20150331",
    "DeleteFunction": "DeleteFunction20150331",
    "DeleteFunctionConcurrency": "DeleteFunctionConcurrency20171031",
    "DeleteFunctionUrlConfig": "DeleteFunctionUrlConfig",
    "DeleteProvisionedConcurrencyConfig": "DeleteProvisionedConcurrencyConfig",
    "GetAlias": "GetAlias20150331",
    "GetEventSourceMapping": "GetEventSourceMapping",
    "GetFunction": "GetFunction20150331v2",
    "GetFunctionConfiguration": "GetFunctionConfiguration",
    "GetFunctionUrlConfig": "GetFunctionUrlConfig",
    "GetLayerVersionPolicy": "GetLayerVersionPolicy",
    "GetPolicy": "GetPolicy",
    "Invoke": "Invoke",
    "ListEventSourceMappings": "ListEventSourceMappings",
    "ListFunctions": "ListFunctions",
    "ListFunctionUrlConfigs": "ListFunctionUrlConfigs",
    "PublishLayerVersion": "PublishLayerVersion20181031",
    "PublishVersion": "PublishVersion20150331",
    "PutFunctionConcurrency": "PutFunctionConcurrency20171031",
    "PutFunctionEventInvokeConfig": "PutFunctionEventInvokeConfig",
    "PutProvisionedConcurrencyConfig": "PutProvisionedConcurrencyConfig",
    "RemovePermission": "RemovePermission20150331v2",
    "TagResource": "TagResource20170331v2",
    "UntagResource": "UntagResource20170331v2",
    "UpdateAlias": "UpdateAlias20150331",
    "UpdateEventSourceMapping": "UpdateEventSourceMapping20150331",
    "UpdateFunctionCode": "UpdateFunctionCode20150331v2",
    "UpdateFunctionConfiguration": "UpdateFunctionConfiguration20150331v2",
    "UpdateFunctionEventInvokeConfig": "UpdateFunctionEventInvokeConfig",
    "UpdateFunctionUrlConfig": "UpdateFunctionUrlConfig",
}

# Request parameters CloudTrail leaves out, per action (keys at the top level or under "code" /
# "content", in either spelling).
_OMITTED: dict[str, tuple[str, ...]] = {
    "CreateFunction": ("environment", "zipfile"),
    "UpdateFunctionConfiguration": ("environment",),
    "UpdateFunctionCode": ("zipfile",),
    "PublishLayerVersion": ("zipfile",),
}

#: S3 key of a CloudTrail log file; groups prefix, account, region, year, month, day, stamp, unique.
TRAIL_KEY: re.Pattern[str] = re.compile(
    r"^(?:(?P<prefix>.+)/)?AWSLogs/(?P<account>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/"
    r"(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})/"
    r"(?P=account)_CloudTrail_(?P=region)_(?P<stamp>\d{8}T\d{4}Z)_(?P<unique>[A-Za-z0-9]{16})"
    r"\.json\.gz$"
)

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ALPHABET = string.ascii_letters + string.digits
_EVENT_VERSION = "1.09"
_USER_AGENT = (
    "aws-cli/2.15.30 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11"
)
_SOURCE_IP = "203.0.113.10"  # an address reserved for documentation (RFC 5737)


class TrailFile(NamedTuple):
    """One log file as a trail delivers it."""

    delivery_time_s: float  #: simulated time the object appears in the bucket
    key: str  #: S3 object key (the bucket name is not part of it)
    body: bytes  #: gzip-compressed JSON ``{"Records": [...]}``


def cloudtrail_event_name(action: str) -> str:
    """CloudTrail's ``eventName`` for a Lambda API action (a logged name is returned as is).

    Examples
    --------
    >>> cloudtrail_event_name("PutFunctionConcurrency")
    'PutFunctionConcurrency20171031'
    """
    if action in EVENT_NAMES:
        return EVENT_NAMES[action]
    if action in EVENT_NAMES.values():
        return action
    raise ValueError(
        f"event_name {action!r} is not a Lambda API action CloudTrail records; "
        f"allowed: {sorted(EVENT_NAMES)} (or their logged names)"
    )


def _action(name: str) -> str:
    return next(a for a, logged in EVENT_NAMES.items() if logged == name)


def _token(text: str, length: int, alphabet: str) -> str:
    """A deterministic string of ``length`` characters of ``alphabet`` derived from ``text``."""
    digest = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=32).digest(), "big")
    out = []
    for _ in range(length):
        digest, r = divmod(digest, len(alphabet))
        out.append(alphabet[r])
    return "".join(out)


def _utc(epoch: datetime, seconds: float) -> datetime:
    return (
        datetime.fromtimestamp(0, UTC)
        + timedelta(milliseconds=epoch_ms(epoch))
        + timedelta(seconds=seconds)
    )


def _check_int(value: Any, name: str, low: int = 0) -> int:
    return validate.integer(name, value, low)


def _check_time(value: Any, name: str, positive: bool = False) -> float:
    return validate.real(name, value, 0, low_open=positive, unit="seconds")


def _check_place(account_id: str, region: str) -> None:
    if not (isinstance(account_id, str) and re.fullmatch(r"\d{12}", account_id)):
        raise ValueError(f"account_id must be 12 digits, got {account_id!r}")
    if not (isinstance(region, str) and _REGION.match(region)):
        raise ValueError(f"region must look like 'us-east-1', got {region!r}")


def _redact(action: str, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    if not isinstance(params, Mapping):
        raise TypeError(
            f"request_parameters must be a mapping or None, got {type(params).__name__}"
        )
    out = copy.deepcopy(dict(params))
    omitted = _OMITTED.get(action, ())
    for holder in (out, out.get("code"), out.get("Code"), out.get("content"), out.get("Content")):
        if isinstance(holder, dict):
            for key in [k for k in holder if k.lower() in omitted]:
                del holder[key]
    return out


def _identity(user: str, account_id: str) -> dict[str, Any]:
    if not (isinstance(user, str) and re.fullmatch(r"[\w+=,.@-]{1,64}", user)):
        raise ValueError(f"user must be an IAM user name (1-64 of A-Za-z0-9+=,.@_-), got {user!r}")
    key = _token(f"{account_id}:{user}:key", 16, string.ascii_uppercase + "234567")
    if user == "root":
        return {"type": "Root", "principalId": account_id, "arn": f"arn:aws:iam::{account_id}:root",
                "accountId": account_id, "accessKeyId": f"AKIA{key}"}  # fmt: skip
    principal = _token(f"{account_id}:{user}:id", 17, string.ascii_uppercase + string.digits)
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{principal}",
        "arn": f"arn:aws:iam::{account_id}:user/{user}",
        "accountId": account_id,
        "accessKeyId": f"AKIA{key}",
        "userName": user,
    }


def trail_record(
    event_name: str,
    request_parameters: Mapping[str, Any] | None,
    time_s: float,
    seed: int,
    number: int,
    epoch: datetime = DEFAULT_EPOCH,
    *,
    user: str = "student",
    response_elements: Mapping[str, Any] | None = None,
    account_id: str = "123456789012",
    region: str = "us-east-1",
    source_ip: str = _SOURCE_IP,
    user_agent: str = _USER_AGENT,
) -> dict[str, Any]:
    """Build the CloudTrail record of one Lambda API call.

    Parameters
    ----------
    event_name : str
        The API action (``"UpdateFunctionConfiguration"``) or its logged name
        (``"UpdateFunctionConfiguration20150331v2"``); the record carries the logged name.
    request_parameters : mapping or None
        The call's arguments, as the API names them (``{"functionName": "f", "memorySize": 1024}``).
        Arguments CloudTrail never logs (``Environment``, ``ZipFile``) are left out.
    time_s : float
        Simulated time of the call (s, >= 0); ``eventTime`` is truncated to the second.
    seed, number : int
        The run's seed and the record's number in the run: they fix ``requestID`` and ``eventID``.
    epoch : datetime
        Wall-clock time of simulated t = 0.
    user : str
        IAM user name who made the call (``"root"`` for the account's root user).
    response_elements : mapping, optional
        What the API returned (None, logged as ``null``, when it returned nothing of note).
    account_id, region, source_ip, user_agent : str
        Where the call came from and went to.

    Returns
    -------
    dict
        A JSON-serialisable record with CloudTrail's fields.

    Raises
    ------
    TypeError, ValueError
        On an unknown action, a bad time, seed, number, user, account id or region, or parameters
        that JSON cannot hold.
    """
    logged = cloudtrail_event_name(event_name)
    action = _action(logged)
    time_s = _check_time(time_s, "time_s")
    seed = _check_int(seed, "seed", low=-(2**63))
    number = _check_int(number, "number")
    _check_place(account_id, region)
    params = _redact(action, request_parameters)
    if response_elements is not None and not isinstance(response_elements, Mapping):
        raise TypeError(
            f"response_elements must be a mapping or None, got {type(response_elements).__name__}"
        )
    record = {
        "eventVersion": _EVENT_VERSION,
        "userIdentity": _identity(user, account_id),
        "eventTime": _utc(epoch, time_s).strftime("%Y-%m-%dT%H:%M:%SZ"),  # truncated to the second
        "eventSource": "lambda.amazonaws.com",
        "eventName": logged,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": params,
        "responseElements": None if response_elements is None else dict(response_elements),
        "requestID": derived_uuid(seed, "trail-request", number),
        "eventID": derived_uuid(seed, "trail-event", number),
        "readOnly": action.startswith(("Get", "List")),
        "eventType": "AwsApiCall",
        "managementEvent": action != "Invoke",
        "recipientAccountId": account_id,
        "eventCategory": "Data" if action == "Invoke" else "Management",
    }
    try:
        json.dumps(record)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"request_parameters and response_elements must be JSON data: {exc}"
        ) from exc
    return record


def trail_records(
    calls: Iterable[Sequence[Any]],
    seed: int,
    epoch: datetime = DEFAULT_EPOCH,
    **options: Any,
) -> list[dict[str, Any]]:
    """Records of several calls, numbered in order of time.

    Parameters
    ----------
    calls : iterable of (time_s, event_name, request_parameters[, response_elements])
        The control-plane calls of a run, in any order.
    seed : int
        The run's seed.
    epoch : datetime
        Wall-clock time of simulated t = 0.
    **options
        Passed to :func:`trail_record` (``user``, ``account_id``, ``region``...).
    """
    items = [tuple(c) for c in calls]
    for c in items:
        if len(c) not in (3, 4):
            raise ValueError(
                "each call must be (time_s, event_name, request_parameters[, response_elements]),"
                f" got {c!r}"
            )
    order = sorted(range(len(items)), key=lambda i: (_check_time(items[i][0], "time_s"), i))
    return [
        trail_record(items[i][1], items[i][2], items[i][0], seed, n, epoch,
                     response_elements=items[i][3] if len(items[i]) == 4 else None, **options)
        for n, i in enumerate(order)
    ]  # fmt: skip


def delivery_files(
    records: Sequence[Mapping[str, Any]],
    every_s: float = 300.0,
    *,
    account_id: str = "123456789012",
    region: str = "us-east-1",
    prefix: str = "",
    epoch: datetime = DEFAULT_EPOCH,
    seed: int = 0,
    delay_s: float = 0.0,
) -> list[TrailFile]:
    """Group records into the log files a trail delivers to S3.

    The timeline is cut into windows of ``every_s`` from t = 0; the records whose ``eventTime``
    falls in window j are delivered in one file at the window's end plus ``delay_s``. Windows
    without records deliver nothing.

    Parameters
    ----------
    records : sequence of dict
        CloudTrail records (as :func:`trail_record` makes).
    every_s : float
        Delivery interval (s), > 0; CloudTrail publishes about every 5 minutes.
    account_id, region : str
        The trail's account and region (they appear in the key).
    prefix : str
        Optional S3 key prefix of the trail (no leading or trailing ``/``).
    epoch : datetime
        Wall-clock time of simulated t = 0.
    seed : int
        The run's seed: it fixes the files' 16-character unique strings.
    delay_s : float
        Extra time between the end of a window and the file's appearance (s, >= 0).

    Returns
    -------
    list of TrailFile
        ``(delivery_time_s, key, body)`` in order of delivery; ``body`` is gzip bytes of
        ``{"Records": [...]}``. The bucket is the caller's: keys are relative to it.
    """
    every_s = _check_time(every_s, "every_s", positive=True)
    delay_s = _check_time(delay_s, "delay_s")
    seed = _check_int(seed, "seed", low=-(2**63))
    _check_place(account_id, region)
    if not isinstance(prefix, str) or prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError(f"prefix must be a str without a leading or trailing '/', got {prefix!r}")
    base = epoch_ms(epoch) / 1000
    windows: dict[int, list[Mapping[str, Any]]] = {}
    for i, rec in enumerate(records):
        try:
            stamp = datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"records[{i}] has no valid eventTime (YYYY-MM-DDTHH:MM:SSZ)") from exc
        t = stamp.timestamp() - base
        if t < 0:
            raise ValueError(f"records[{i}] eventTime {rec['eventTime']} is before the epoch")
        windows.setdefault(int(t // every_s), []).append(rec)
    files = []
    head = f"{prefix}/" if prefix else ""
    for j in sorted(windows):
        at = (j + 1) * every_s + delay_s
        when = _utc(epoch, at)
        unique = _token(f"{seed}:trail-file:{account_id}:{region}:{j}", 16, _ALPHABET)
        key = (
            f"{head}AWSLogs/{account_id}/CloudTrail/{region}/{when:%Y/%m/%d}/"
            f"{account_id}_CloudTrail_{region}_{when:%Y%m%dT%H%MZ}_{unique}.json.gz"
        )
        body = json.dumps({"Records": list(windows[j])}, separators=(",", ":")).encode()
        files.append(TrailFile(at, key, gzip.compress(body, mtime=0)))
    return files


def read_trail_file(body: bytes) -> list[dict[str, Any]]:
    """Read a CloudTrail log file (gzip JSON ``{"Records": [...]}``) back into its records.

    Raises
    ------
    ValueError
        If ``body`` is not gzip data holding a JSON object with a ``Records`` list.
    """
    if not isinstance(body, bytes | bytearray):
        raise TypeError(f"body must be bytes, got {type(body).__name__}")
    try:
        data = json.loads(gzip.decompress(body))
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"body is not a gzip-compressed JSON file: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("Records"), list):
        raise ValueError('body is not a CloudTrail log file: no "Records" list')
    return data["Records"]
