"""Payloads of API Gateway's Lambda proxy integrations, and the response a handler returns.

API Gateway invokes the function synchronously with the whole HTTP request: a REST API in payload
format 1.0 (:func:`api_gateway_rest_event`), an HTTP API in 2.0 by default
(:func:`api_gateway_http_event`). The handler answers with ``statusCode``, ``headers`` and a
*string* ``body`` (:func:`proxy_response`); anything else makes API Gateway answer 502
(:func:`check_proxy_response`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from simlab.aws.sources.payloads.context import (
    DEFAULT_CONTEXT,
    Body,
    PayloadContext,
    check_int,
    encode_body,
)
from simlab.core import validate

__all__ = [
    "api_gateway_rest_event",
    "api_gateway_http_event",
    "proxy_response",
    "check_proxy_response",
]

#: The HTTP methods API Gateway passes to a function.
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
Multi = Mapping[str, str | Sequence[str]] | None


def _multi(name: str, values: Multi) -> dict[str, list[str]]:
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise validate.fail(name, values, "a mapping of names to a string or a list of strings")
    out = {}
    for k, v in values.items():
        if not isinstance(k, str) or not k:
            raise validate.fail(f"{name} names", k, "non-empty strings")
        ok = isinstance(v, str) or (isinstance(v, Sequence) and not isinstance(v, bytes)
                                    and all(isinstance(x, str) for x in v))
        if not ok:
            raise validate.fail(f"{name}[{k!r}]", v, "a string or a list of strings")
        out[k] = [v] if isinstance(v, str) else list(v)
        if not out[k]:
            raise validate.BadInput(f"{name}[{k!r}] must have at least one value")
    return out


def _request(method: str, path: str, number: int) -> None:
    if method not in HTTP_METHODS:
        raise ValueError(f"method must be one of {HTTP_METHODS}, got {method!r}")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"path must be a string starting with '/', got {path!r}")
    check_int("number", number)


def api_gateway_rest_event(
    method: str,
    path: str,
    t_s: float,
    *,
    resource: str | None = None,
    headers: Multi = None,
    query: Multi = None,
    path_parameters: Mapping[str, str] | None = None,
    stage_variables: Mapping[str, str] | None = None,
    body: Body = None,
    stage: str = "prod",
    api_id: str = "abc123defg",
    source_ip: str = "198.51.100.1",
    number: int = 0,
    ctx: PayloadContext = DEFAULT_CONTEXT,
) -> dict[str, Any]:
    """A REST API Lambda proxy integration event (payload format 1.0).

    Parameters
    ----------
    method, path
        HTTP method (upper case) and request path, e.g. ``'/users/42'``.
    t_s
        Simulated request time (s).
    resource
        The API resource that matched, e.g. ``'/users/{id}'`` (default: ``path``).
    headers, query
        Names to a value or a list of values. The single-value maps keep the last value, the
        ``multiValue`` maps keep all, as API Gateway does; absent maps are ``null``.
    path_parameters, stage_variables
        As configured on the API (``null`` when absent).
    body
        str, bytes (sent base64-encoded with ``isBase64Encoded``), dict/list (as JSON) or None.
    stage, api_id, source_ip, number, ctx
        The stage, the API's id, the client's address, the request counter (request id), and the
        run's context.
    """
    _request(method, path, number)
    mh, mq = _multi("headers", headers), _multi("query", query)
    text, is_b64 = encode_body(body)
    resource = path if resource is None else resource
    agent = next((v[-1] for k, v in mh.items() if k.lower() == "user-agent"), "-")
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {k: v[-1] for k, v in mh.items()} if mh else None,
        "multiValueHeaders": mh or None,
        "queryStringParameters": {k: v[-1] for k, v in mq.items()} if mq else None,
        "multiValueQueryStringParameters": mq or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": dict(stage_variables) if stage_variables else None,
        "requestContext": {
            "accountId": ctx.account,
            "apiId": api_id,
            "domainName": f"{api_id}.execute-api.{ctx.region}.amazonaws.com",
            "domainPrefix": api_id,
            "extendedRequestId": ctx.b64("apigw:extended", number, 10),
            "httpMethod": method,
            "identity": {"sourceIp": source_ip, "userAgent": agent},
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": ctx.uuid("apigw:request", number),
            "requestTime": ctx.clf(t_s),
            "requestTimeEpoch": ctx.unix_ms(t_s),
            "resourceId": ctx.hex(f"apigw:resource:{resource}", 0, 6),
            "resourcePath": resource,
            "stage": stage,
        },
        "body": text,
        "isBase64Encoded": is_b64,
    }


def api_gateway_http_event(
    method: str,
    path: str,
    t_s: float,
    *,
    route_key: str | None = None,
    headers: Multi = None,
    query: Multi = None,
    cookies: Sequence[str] | None = None,
    path_parameters: Mapping[str, str] | None = None,
    stage_variables: Mapping[str, str] | None = None,
    body: Body = None,
    stage: str = "$default",
    api_id: str = "abc123defg",
    source_ip: str = "198.51.100.1",
    number: int = 0,
    ctx: PayloadContext = DEFAULT_CONTEXT,
) -> dict[str, Any]:
    """An HTTP API Lambda integration event (payload format 2.0).

    Differences from 1.0 that trip people up: header names are lower case and repeated values are
    joined with commas (so are repeated query parameters); cookies get their own list; empty parts
    are left out instead of ``null``; the method is under ``requestContext.http``.

    Parameters are as for :func:`api_gateway_rest_event`; ``route_key`` is the matched route, e.g.
    ``'GET /users/{id}'`` (default ``'<METHOD> <path>'``), and ``cookies`` the request's cookies as
    ``'name=value'`` strings.
    """
    _request(method, path, number)
    mh, mq = _multi("headers", headers), _multi("query", query)
    text, is_b64 = encode_body(body)
    route = f"{method} {path}" if route_key is None else route_key
    hdrs = {k.lower(): ",".join(v) for k, v in mh.items()}
    event: dict[str, Any] = {"version": "2.0", "routeKey": route, "rawPath": path}
    event["rawQueryString"] = urlencode([(k, x) for k, v in mq.items() for x in v])
    if cookies:
        event["cookies"] = [str(c) for c in cookies]
    event["headers"] = hdrs
    if mq:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in mq.items()}
    http = {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip}
    event["requestContext"] = {
        "accountId": ctx.account,
        "apiId": api_id,
        "domainName": f"{api_id}.execute-api.{ctx.region}.amazonaws.com",
        "domainPrefix": api_id,
        "http": http | {"userAgent": hdrs.get("user-agent", "-")},
        "requestId": ctx.uuid("apigw2:request", number),
        "routeKey": route,
        "stage": stage,
        "time": ctx.clf(t_s),
        "timeEpoch": ctx.unix_ms(t_s),
    }
    if text is not None:
        event["body"] = text
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    event["isBase64Encoded"] = is_b64
    if stage_variables:
        event["stageVariables"] = dict(stage_variables)
    return event


def proxy_response(
    status_code: int = 200,
    body: Body = "",
    *,
    headers: Mapping[str, str] | None = None,
    multi_value_headers: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """What a handler behind a Lambda proxy integration returns.

    ``body`` must reach API Gateway as a string: dicts and lists are JSON-encoded (with a
    ``Content-Type: application/json`` header unless one is given), bytes are base64-encoded with
    ``isBase64Encoded: true``.

    Examples
    --------
    >>> proxy_response(201, {"id": 7})["body"]
    '{"id":7}'
    """
    check_int("status_code", status_code, low=100)
    if status_code > 599:
        raise ValueError(f"status_code must be between 100 and 599, got {status_code!r}")
    text, is_b64 = encode_body(body)
    hdrs = dict(headers or {})
    if isinstance(body, dict | list) and not any(k.lower() == "content-type" for k in hdrs):
        hdrs["Content-Type"] = "application/json"
    return {
        "statusCode": status_code,
        "headers": hdrs,
        "multiValueHeaders": {k: list(v) for k, v in (multi_value_headers or {}).items()},
        "body": "" if text is None else text,
        "isBase64Encoded": is_b64,
    }


def check_proxy_response(response: Any) -> int:
    """Return the status code of a proxy response, or raise if API Gateway would reject it.

    API Gateway answers the client ``502`` ("Malformed Lambda proxy response") when the handler's
    return value is not a dict with an integer ``statusCode`` (100-599), only the keys
    ``statusCode``, ``headers``, ``multiValueHeaders``, ``body`` and ``isBase64Encoded``, and a
    string (or absent) ``body``. This function raises ValueError in exactly those cases.
    """
    allowed = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
    if not isinstance(response, dict):
        raise ValueError(f"a proxy response must be a dict, got {type(response).__name__}")
    extra = sorted(set(response) - allowed)
    if extra:
        raise ValueError(f"a proxy response may only have keys {sorted(allowed)}, got {extra}")
    status = response.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"statusCode must be an integer 100-599, got {status!r}")
    body = response.get("body")
    if body is not None and not isinstance(body, str):
        raise ValueError(f"body must be a string, got {type(body).__name__}")
    return status
