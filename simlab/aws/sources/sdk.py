"""The Invoke API: calling a function from a program (the SDK) or from another function.

``boto3.client("lambda").invoke(FunctionName=..., Payload=..., InvocationType=...)`` is the most
direct way to run a function, and the one where the three invocation types show plainly:

* ``"RequestResponse"`` (the default): synchronous. The call returns when the function ends, with
  ``StatusCode`` 200 *even when the function failed*: the failure is in ``FunctionError``
  (``"Unhandled"``) and the error document in ``Payload``. When no concurrency is left, the call
  fails with ``TooManyRequestsException`` (HTTP 429) and nothing runs.
* ``"Event"``: asynchronous. The event is queued and the call returns ``StatusCode`` 202 at once
  (see :mod:`simlab.aws.sources.invoke_async` for what happens to it next).
* ``"DryRun"``: checks the parameters and permissions, returns 204, and runs nothing.

Request size limits: 6 MB for synchronous calls; for asynchronous ones 128 KB before 20 Nov 2018,
256 KB after, 1 MB since October 2025 (the era's date decides).

Two ways to call it here:

* :class:`SDK`, a source that makes the calls of a list at given simulated times
  (``SDK(calls=[(time_s, function, payload, invocation_type), ...])``); the responses are in
  ``result.output(<source name>).responses``;
* :class:`LambdaClient`, the ``context.lambda_client`` a real handler gets, for chains of functions:
  ``context.lambda_client.invoke(FunctionName="next", Payload=json.dumps(...))``. The callee is a
  separate request (its own row, with the extra column ``parent_invocation_id``) that starts at the
  caller's start time. Simplification: a synchronous callee's handler runs at once, so the caller
  gets its answer, but the caller's simulated duration does not grow by the callee's: both
  durations come from their own distributions.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from simlab.aws.sources.base import Source
from simlab.aws.sources.payloads.context import PayloadContext
from simlab.aws.sources.responses import response_payload
from simlab.aws.sources.timeline import at_times
from simlab.core import validate
from simlab.core.ids import request_id
from simlab.core.invocation import OK, Call
from simlab.core.validate import BadInput

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run

__all__ = [
    "SDK",
    "SDKLog",
    "LambdaClient",
    "StreamingBody",
    "LambdaClientError",
    "TooManyRequestsException",
    "ResourceNotFoundException",
    "InvalidRequestContentException",
    "RequestTooLargeException",
    "RecursiveInvocationException",
    "INVOCATION_TYPES",
    "MAX_CHAIN_DEPTH",
    "async_payload_limit",
]

#: The Invoke API's invocation types.
INVOCATION_TYPES: tuple[str, ...] = ("RequestResponse", "Event", "DryRun")
#: Longest chain of synchronous calls from handler to handler (Lambda stops recursive loops
#: after about 16 invocations).
MAX_CHAIN_DEPTH = 16
_SYNC_LIMIT = 6 * 1024 * 1024


def async_payload_limit(date: dt.date) -> int:
    """Largest asynchronous request (bytes) on ``date``: 128 KB, 256 KB (20 Nov 2018), 1 MB
    (October 2025; LAMBDA_FACTS 6)."""
    if date >= dt.date(2025, 10, 1):
        return 1024 * 1024
    if date >= dt.date(2018, 11, 20):
        return 256 * 1024
    return 128 * 1024


class LambdaClientError(Exception):
    """An error the Invoke API answers with (botocore raises these as ``ClientError``)."""

    code = "ServiceException"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        #: The invocation id of the throttled request (set for TooManyRequestsException).
        self.invocation_id: int | None = None
        self.response = {"Error": {"Code": self.code, "Message": message},
                         "ResponseMetadata": {"HTTPStatusCode": self.status}}


class TooManyRequestsException(LambdaClientError):
    """HTTP 429: no concurrency left for a synchronous call (the request was throttled)."""

    code, status = "TooManyRequestsException", 429


class ResourceNotFoundException(LambdaClientError):
    """HTTP 404: no such function."""

    code, status = "ResourceNotFoundException", 404


class InvalidRequestContentException(LambdaClientError):
    """HTTP 400: the payload is not JSON."""

    code, status = "InvalidRequestContentException", 400


class RequestTooLargeException(LambdaClientError):
    """HTTP 413: the payload is over the invocation type's size limit."""

    code, status = "RequestTooLargeException", 413


class RecursiveInvocationException(LambdaClientError):
    """Lambda detected a recursive loop and stopped the invocation."""

    code, status = "RecursiveInvocationException", 400


class StreamingBody:
    """The ``Payload`` of an Invoke response: read it once with :meth:`read`, as with boto3."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._read = False

    def read(self) -> bytes:
        """The response bytes (JSON); empty after the first read."""
        if self._read:
            return b""
        self._read = True
        return self._data

    def __repr__(self) -> str:
        return f"StreamingBody({len(self._data)} bytes)"


def _parse_payload(payload: Any) -> tuple[Any, int]:
    """The event and its size in bytes, from bytes/str JSON text or a dict/list."""
    if payload is None or payload in (b"", ""):
        return None, 0
    if isinstance(payload, bytes | bytearray | str):
        raw = payload.encode() if isinstance(payload, str) else bytes(payload)
        try:
            return json.loads(raw), len(raw)
        except ValueError as exc:
            raise InvalidRequestContentException(
                f"Could not parse request body into json: {exc}") from exc
    try:
        raw = json.dumps(payload).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidRequestContentException(
            f"Could not parse request body into json: {exc}") from exc
    return payload, len(raw)


def _function_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise BadInput(f"FunctionName must be a function name or ARN, got {name!r}")
    if name.startswith("arn:"):
        parts = name.split(":")
        if len(parts) < 7 or parts[5] != "function":
            raise BadInput(f"FunctionName {name!r} is not a function ARN "
                             f"(arn:aws:lambda:<region>:<account>:function:<name>)")
        return parts[6]
    return name


class LambdaClient:
    """A stand-in for ``boto3.client("lambda")`` inside a simulation: only :meth:`invoke`.

    Parameters
    ----------
    run
        The run in progress.
    caller
        The invocation that makes the calls (for chains), or ``None`` for calls from outside.
    source
        Name of the source recorded for the requests (default ``"invoke:<caller function>"``).
    """

    def __init__(self, run: Run, caller: Call | None = None, source: str | None = None) -> None:
        self.run = run
        self.caller = caller
        if source is None:
            source = f"invoke:{caller.fn.name}" if caller is not None else "sdk"
        self.source = source
        self.ctx = PayloadContext(seed=run.seed, epoch=run.epoch)

    def invoke(self, FunctionName: str, Payload: Any = b"",  # noqa: N803 - boto3's names
               InvocationType: str = "RequestResponse", LogType: str = "None",  # noqa: N803
               Qualifier: str | None = None, **_: Any) -> dict[str, Any]:  # noqa: N803
        """Invoke a function of the simulation now; answers like boto3's ``invoke``.

        Returns
        -------
        dict
            ``StatusCode`` (200, 202 or 204), ``ExecutedVersion``, ``Payload`` (a
            :class:`StreamingBody` of JSON bytes), ``FunctionError`` (``"Unhandled"``) when the
            function failed, ``LogResult`` (base64 of the last 4 KB of its log lines) when
            ``LogType="Tail"``, and ``ResponseMetadata`` with the ``RequestId``.

        Raises
        ------
        TooManyRequestsException
            A synchronous call that was throttled.
        ResourceNotFoundException, InvalidRequestContentException, RequestTooLargeException
            Unknown function, payload not JSON, payload too large.
        RecursiveInvocationException
            A chain of synchronous calls deeper than :data:`MAX_CHAIN_DEPTH`.
        """
        response, _, _ = self._invoke(FunctionName, Payload, InvocationType, LogType, Qualifier)
        return response

    def _invoke(self, function_name: Any, payload: Any, itype: str, log_type: str,
                qualifier: str | None) -> tuple[dict[str, Any], Call | None, int | None]:
        """The response, the call in flight (synchronous calls) and the invocation id."""
        if itype not in INVOCATION_TYPES:
            raise BadInput(f"InvocationType must be one of {INVOCATION_TYPES}, got {itype!r}")
        if log_type not in ("None", "Tail"):
            raise BadInput(f"LogType must be 'None' or 'Tail', got {log_type!r}")
        if qualifier not in (None, "$LATEST"):
            raise BadInput(f"Qualifier: only '$LATEST' is simulated, got {qualifier!r}")
        name = _function_name(function_name)
        engine = self.run.engine
        if name not in engine.by_name:
            raise ResourceNotFoundException(
                f"Function not found: arn:aws:lambda:{self.ctx.region}:{self.ctx.account}:"
                f"function:{name}")
        fn = engine.by_name[name]
        event, size = _parse_payload(payload)
        limit = _SYNC_LIMIT if itype != "Event" else async_payload_limit(engine.rules.date)
        if size > limit:
            raise RequestTooLargeException(
                f"Request must be smaller than {limit} bytes for the {itype} invocation type")
        meta = {"HTTPStatusCode": 0, "RequestId": ""}
        if itype == "DryRun":
            meta["HTTPStatusCode"] = 204
            return {"StatusCode": 204, "Payload": StreamingBody(b""),
                    "ResponseMetadata": meta}, None, None
        src = engine.source_index(self.source)
        parent = self.caller.iid if self.caller is not None else None
        if itype == "Event":
            eid = self.run._async_queue().submit(fn, src, event, None)
            if parent is not None:
                engine.annotate(eid, "parent_invocation_id", parent)
            meta.update(HTTPStatusCode=202, RequestId=request_id(self.run.seed, eid))
            return {"StatusCode": 202, "Payload": StreamingBody(b""),
                    "ResponseMetadata": meta}, None, eid
        # RequestResponse
        # Simulation.run installs the handler runner before any source starts (None: no handlers).
        runner = self.run.engine.handler_runner
        depth = runner.depth if runner is not None else 0
        if self.caller is not None and depth >= MAX_CHAIN_DEPTH:
            raise RecursiveInvocationException(
                f"Lambda stopped a chain of more than {MAX_CHAIN_DEPTH} synchronous invocations "
                f"(recursive loop) at function {name!r}")
        iid = engine.new_invocation_id()
        if parent is not None:
            engine.annotate(iid, "parent_invocation_id", parent)
        inline = self.caller is not None and runner is not None
        if inline:
            runner.inline = True
        try:
            call = engine.invoke(fn, source=src, payload=event, iid=iid)
        finally:
            if inline:
                runner.inline = False
        if call is None:
            exc = TooManyRequestsException(
                "Rate Exceeded. (Reason: ConcurrentInvocationLimitExceeded)")
            exc.invocation_id = iid
            raise exc
        return self.response(call, log_type), call, iid

    def response(self, call: Call, log_type: str = "None") -> dict[str, Any]:
        """The synchronous Invoke response for a finished (or decided) ``call``."""
        rid = request_id(self.run.seed, call.iid)
        if call.fn.cfg.handler is None or call.status != OK:
            body = response_payload(call, self.run.seed, self.ctx)
        else:
            body = call.output
        out: dict[str, Any] = {
            "StatusCode": 200,
            "ExecutedVersion": "$LATEST",
            "Payload": StreamingBody(json.dumps(body).encode()),
            "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": rid},
        }
        if call.failed:
            out["FunctionError"] = "Unhandled"
        if log_type == "Tail":
            lines = self.run.engine.annotation(call.iid, "log_lines", [])
            tail = "\n".join(lines).encode()[-4096:]
            out["LogResult"] = base64.b64encode(tail).decode()
        return out


class SDKLog:
    """The responses of an :class:`SDK` source in one run (``result.output(<name>)``)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    @property
    def responses(self) -> pd.DataFrame:
        """One row per call: ``call``, ``time_s``, ``function``, ``invocation_type``,
        ``status_code``, ``function_error``, ``error_code``, ``invocation_id``, ``responded_s``,
        ``payload`` (the response document, for synchronous calls)."""
        cols = ["call", "time_s", "function", "invocation_type", "status_code", "function_error",
                "error_code", "invocation_id", "responded_s", "payload"]
        return pd.DataFrame(self.rows, columns=cols)

    def __repr__(self) -> str:
        return f"<SDKLog {len(self.rows)} calls>"


class SDK(Source):
    """Invoke API calls from a program at given simulated times.

    Parameters
    ----------
    calls
        ``(time_s, function, payload)`` or ``(time_s, function, payload, invocation_type)``
        tuples; ``payload`` is a dict/list (JSON data), JSON text or bytes, or ``None``;
        ``invocation_type`` is ``"RequestResponse"`` (default), ``"Event"`` or ``"DryRun"``.
        Every function named must be one of the source's targets.

    Examples
    --------
    >>> import simlab
    >>> sim = (simlab.Simulation(seed=1)
    ...        .add_function("f", duration_s=0.2)
    ...        .add_source(SDK(calls=[(1.0, "f", {"x": 1}), (2.0, "f", None, "DryRun")]),
    ...                    target="f"))
    >>> sim.run(until_s=10).output("sdk").responses["status_code"].tolist()
    [200, 204]
    """

    kind = "sdk"
    output_type = SDKLog

    def __init__(self, calls: Sequence[Sequence[Any]]) -> None:
        if isinstance(calls, str | bytes) or not isinstance(calls, Sequence):
            raise BadInput(f"calls must be a list of (time_s, function, payload[, "
                            f"invocation_type]) tuples, got {calls!r}")
        parsed = []
        for i, c in enumerate(calls):
            if isinstance(c, str | bytes) or not isinstance(c, Sequence) or len(c) not in (3, 4):
                raise BadInput(f"calls[{i}] must be (time_s, function, payload[, "
                                 f"invocation_type]), got {c!r}")
            t, fname, payload = c[0], c[1], c[2]
            itype = c[3] if len(c) == 4 else "RequestResponse"
            t = validate.real(f"calls[{i}] time_s", t, 0, unit="seconds")
            if not isinstance(fname, str) or not fname:
                raise BadInput(f"calls[{i}] function must be a function name, got {fname!r}")
            if itype not in INVOCATION_TYPES:
                raise BadInput(f"calls[{i}] invocation_type must be one of {INVOCATION_TYPES}, "
                                 f"got {itype!r}")
            try:
                _parse_payload(payload)
            except InvalidRequestContentException as exc:
                raise BadInput(f"calls[{i}] payload is not JSON data: {exc}") from exc
            parsed.append((float(t), _function_name(fname), payload, itype))
        self.calls = sorted(parsed, key=lambda c: c[0])

    def validate(self, targets: list[str]) -> None:
        for i, (_, fname, _, _) in enumerate(self.calls):
            if fname not in targets:
                raise BadInput(f"SDK call {i} invokes {fname!r}, which is not among the "
                                 f"source's targets {targets}; add it to target=")

    def start(self, run: Run, targets: list[str]) -> None:
        name = self.name or self.kind
        log = run.service(name, lambda run: SDKLog(), shared=False)
        client = LambdaClient(run, source=name)
        calls = self.calls

        def fire(k: int, t: float) -> None:
            _, fname, payload, itype = calls[k]
            row: dict[str, Any] = {"call": k, "time_s": run.now, "function": fname,
                                   "invocation_type": itype, "status_code": None,
                                   "function_error": None, "error_code": None,
                                   "invocation_id": -1, "responded_s": run.now, "payload": None}
            log.rows.append(row)
            try:
                response, call, iid = client._invoke(fname, payload, itype, "None", None)
            except LambdaClientError as exc:
                row.update(status_code=exc.status, error_code=exc.code,
                           invocation_id=-1 if exc.invocation_id is None else exc.invocation_id)
                return
            row["status_code"] = response["StatusCode"]
            row["invocation_id"] = -1 if iid is None else iid
            if call is None:
                return
            row["responded_s"] = call.end

            def finished(c: Call) -> None:
                r = client.response(c)
                row["function_error"] = r.get("FunctionError")
                row["payload"] = json.loads(r["Payload"].read())

            call.on_done = finished

        at_times(run, (c[0] for c in calls), fire)
