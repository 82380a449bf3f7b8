"""What a caller gets back from a function: its ARN and the response payload or error document.

Shared by the handler runtime (:mod:`simlab.aws.sources.handlers`), the Invoke API
(:mod:`simlab.aws.sources.sdk`) and asynchronous destinations
(:mod:`simlab.aws.sources.invoke_async`).
"""

from __future__ import annotations

from typing import Any

from simlab.aws.sources.payloads.context import PayloadContext
from simlab.core.ids import request_id
from simlab.core.invocation import ERROR, OK, OOM, TIMEOUT, Call

__all__ = ["function_arn", "response_payload"]


def function_arn(function: str, ctx: PayloadContext) -> str:
    """The unqualified ARN: ``arn:aws:lambda:<region>:<account>:function:<name>``."""
    return f"arn:aws:lambda:{ctx.region}:{ctx.account}:function:{function}"


def response_payload(call: Call, seed: int, ctx: PayloadContext) -> Any:
    """What the caller of ``call`` receives: the output, or Lambda's error document.

    ``ok``: the handler's return value (``None`` for a function without a handler). A timeout:
    ``{"errorMessage": "<time> <request id> Task timed out after 3.00 seconds"}``; out of memory:
    ``Runtime.ExitError``; a function error without a handler (``error_rate``): a generic
    ``Exception``.
    """
    if call.status == OK:
        return call.output
    if call.output is not None and call.status == ERROR:
        return call.output
    rid = request_id(seed, call.key)
    if call.status == TIMEOUT:
        return {"errorMessage": f"{ctx.iso_ms(call.end)} {rid} Task timed out after "
                                f"{call.fn.timeout:.2f} seconds"}
    if call.status == OOM:
        return {"errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: "
                                f"signal: killed"}
    return {"errorMessage": "the handler raised an error", "errorType": "Exception",
            "requestId": rid, "stackTrace": []}
