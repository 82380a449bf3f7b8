"""API Gateway as a source: HTTP requests, a synchronous invoke, and status codes.

Behind a REST or HTTP API, a function answers web requests. API Gateway invokes it
**synchronously** with the whole request as the event (the *proxy* event: method, path, headers,
body) and turns the outcome into an HTTP status for the client (LAMBDA_FACTS 3, 5, 7.5):

==========================================  ===============================================
what happened                               the client sees
==========================================  ===============================================
the function returned                       ``200`` (or the ``statusCode`` it returned)
the function failed (error, timeout, OOM)   ``502 Bad Gateway``
its answer is not a valid proxy response    ``502 Bad Gateway``
Lambda refused the invoke (throttled)       ``500 Internal Server Error``
it ran longer than the integration timeout  ``504 Gateway Timeout`` *at* the timeout
API Gateway's own throttle refused it       ``429 Too Many Requests``, Lambda never sees it
==========================================  ===============================================

A throttle *by Lambda* (no concurrency left) is a 429 from Lambda's Invoke API, which API Gateway
turns into a 500 with the body ``{"message": "Internal server error"}`` (the same body as a 502);
API Gateway never retries (LAMBDA_FACTS 7.5). A 429 reaches the client only from API Gateway's own
throttling: a token bucket per account and Region (10,000 requests/s, burst 5,000, shared by all
the APIs of a run), and optional stage and method limits (:class:`Throttle`); each request takes
one token from each bucket that applies, and a request finding one empty is answered 429 at once.

The integration timeout is 29 s at most for a REST API (50 ms to 29 s; since June 2024 Regional
REST APIs can ask for more through a quota increase, not simulated) and 30 s for an HTTP API. A
function that runs longer is **not** stopped: it keeps running, and is billed, up to its own
timeout, while the client already has its 504. A REST API also answers 502 when the handler's
return value is not a valid proxy response (``{"statusCode": ..., "body": "<string>"}``).

Clients may retry on 429, 500, 502 and 504 (``client_retries``), after an exponential backoff: each
retry is a new request to the platform, which is how retries can turn a throttling spike into a
bigger one.

Each invocation row gets an extra column ``http_status``; the client's view, one row per HTTP
request and attempt, is ``result.output(<name>).responses`` (a request refused by API Gateway's
throttle has no invocation: its ``invocation_id`` is -1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
import simpy

from simlab.aws.sources.arrivals import ArrivalProcess, arrival_times
from simlab.aws.sources.base import Source
from simlab.aws.sources.handlers import install_handler_runner
from simlab.aws.sources.lazy import LazyPayload
from simlab.aws.sources.payloads.apigateway import (
    HTTP_METHODS,
    api_gateway_http_event,
    api_gateway_rest_event,
    check_proxy_response,
)
from simlab.aws.sources.payloads.context import PayloadContext
from simlab.aws.sources.timeline import at_times
from simlab.core import validate
from simlab.core.invocation import OK, Call
from simlab.core.validate import BadInput, number, whole

if TYPE_CHECKING:  # pragma: no cover
    from simlab.aws.simulation import Run

__all__ = ["APIGateway", "APIGatewayLog", "ACCOUNT_THROTTLE", "ERROR_BODIES",
           "MAX_INTEGRATION_TIMEOUT_S", "RETRY_STATUSES", "Throttle"]

#: Longest integration timeout by API type (s).
MAX_INTEGRATION_TIMEOUT_S: dict[str, float] = {"rest": 29.0, "http": 30.0}
#: Statuses a retrying client retries on.
RETRY_STATUSES: tuple[int, ...] = (429, 500, 502, 504)
#: The body API Gateway sends with the statuses it makes itself. 500 and 502: LAMBDA_FACTS 7.5;
#: 429 and 504: API Gateway's default gateway responses (``THROTTLED``,
#: ``INTEGRATION_TIMEOUT``).
ERROR_BODIES: dict[int, str] = {
    429: '{"message": "Too Many Requests"}',
    500: '{"message": "Internal server error"}',
    502: '{"message": "Internal server error"}',
    504: '{"message": "Endpoint request timed out"}',
}

_COLUMNS = ["request", "attempt", "function", "invocation_id", "sent_s", "responded_s",
            "http_status", "latency_ms", "gateway_body"]
_NO_INVOCATION = -1


@dataclass(frozen=True)
class Throttle:
    """A token-bucket limit of API Gateway: ``rate_per_s`` tokens a second, at most ``burst``.

    Each request takes one token; a request that finds the bucket empty is answered 429 and never
    reaches Lambda. The bucket starts full.
    """

    rate_per_s: float
    burst: int

    def __post_init__(self) -> None:
        number("Throttle rate_per_s", self.rate_per_s, 0, 1e6, low_open=True)
        whole("Throttle burst", self.burst, 1, 1_000_000)


#: API Gateway's default account-level limit per Region (LAMBDA_FACTS 7.5).
ACCOUNT_THROTTLE = Throttle(rate_per_s=10_000.0, burst=5_000)


class _Bucket:
    """The state of one :class:`Throttle` during a run."""

    __slots__ = ("limit", "tokens", "last_s")

    def __init__(self, limit: Throttle) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.last_s = 0.0

    def refill(self, now: float) -> None:
        lim = self.limit
        self.tokens = min(float(lim.burst), self.tokens + (now - self.last_s) * lim.rate_per_s)
        self.last_s = now

    def __repr__(self) -> str:
        return f"<API Gateway throttle {self.limit}: {self.tokens:.1f} tokens>"


def _admit(buckets: Sequence[_Bucket], now: float) -> bool:
    """Take one token from every bucket, or from none if one of them is empty."""
    for b in buckets:
        b.refill(now)
        if b.tokens < 1.0:
            return False
    for b in buckets:
        b.tokens -= 1.0
    return True


def _check_throttle(name: str, value: Any) -> Throttle | None:
    if value is not None and not isinstance(value, Throttle):
        raise TypeError(f"{name} must be a simlab.sources.apigateway.Throttle or None, "
                        f"got {value!r}")
    return value


class APIGatewayLog:
    """The client's side of an API during one run (``result.output(<name>)``)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, str, int, float, float, int, float, str | None]] = []

    @property
    def responses(self) -> pd.DataFrame:
        """One row per HTTP attempt: ``request`` (the client's request number), ``attempt``
        (1, then retries), ``function``, ``invocation_id``, ``sent_s``, ``responded_s``,
        ``http_status``, ``latency_ms``, ``gateway_body`` (the body of an answer API Gateway made
        itself, see :data:`ERROR_BODIES`; ``None`` for the function's own answers)."""
        return pd.DataFrame(self.rows, columns=_COLUMNS)

    @property
    def requests(self) -> pd.DataFrame:
        """One row per client request, its final answer: ``request``, ``attempts``,
        ``http_status``, ``latency_ms`` (from the first send to the last answer)."""
        df = self.responses
        if df.empty:
            return pd.DataFrame(columns=["request", "attempts", "http_status", "latency_ms"])
        g = df.groupby("request", sort=True)
        last = g.tail(1).set_index("request")
        first = g["sent_s"].min()
        return pd.DataFrame({
            "attempts": g["attempt"].max(),
            "http_status": last["http_status"],
            "latency_ms": (last["responded_s"] - first) * 1000.0,
        }).reset_index()

    def __repr__(self) -> str:
        return f"<APIGatewayLog {len(self.rows)} responses>"


class APIGateway(Source):
    """An API whose requests invoke the target function synchronously.

    Parameters
    ----------
    arrivals
        When requests come (an :class:`~simlab.aws.sources.arrivals.ArrivalProcess`; its
        ``invocation_type`` is ignored: API Gateway always invokes synchronously).
    integration_timeout_s
        API Gateway's integration timeout: 0.05 to 29 s (REST) or 30 s (HTTP API).
    api
        ``"rest"`` (proxy payload 1.0) or ``"http"`` (HTTP API, payload 2.0).
    method, path, body, headers, query
        The request every client sends (see :mod:`simlab.aws.sources.payloads`).
    routes
        With several target functions: ``{function: (method, path)}``; each request goes to one
        route, chosen at random with equal weights.
    client_retries
        How many times a client retries a request answered 429, 500, 502 or 504 (0 to 10).
    retry_backoff_s
        The client's first wait before a retry; it doubles for each further retry.
    account_throttle
        API Gateway's account-level limit (:data:`ACCOUNT_THROTTLE`, 10,000 requests/s with a
        burst of 5,000), shared by every API of the run; ``None`` for none.
    stage_throttle
        A limit on this API's stage (all its routes together), or ``None``.
    method_throttle
        A limit applied to each route (method and path) separately, or ``None``.
    """

    kind = "apigateway"
    output_type = APIGatewayLog

    def __init__(self, arrivals: ArrivalProcess, *, integration_timeout_s: float = 29.0,
                 api: str = "rest", method: str = "GET", path: str = "/", body: Any = None,
                 headers: Mapping[str, str] | None = None, query: Mapping[str, str] | None = None,
                 routes: Mapping[str, Sequence[str]] | None = None, client_retries: int = 0,
                 retry_backoff_s: float = 0.5,
                 account_throttle: Throttle | None = ACCOUNT_THROTTLE,
                 stage_throttle: Throttle | None = None,
                 method_throttle: Throttle | None = None) -> None:
        if not isinstance(arrivals, ArrivalProcess):
            raise BadInput(f"arrivals must be an arrival process (e.g. "
                            f"simlab.sources.Poisson(rate_per_s=5)), got {arrivals!r}")
        self.arrivals = arrivals
        if api not in MAX_INTEGRATION_TIMEOUT_S:
            raise BadInput(f"api must be 'rest' or 'http', got {api!r}")
        self.api = api
        top = MAX_INTEGRATION_TIMEOUT_S[api]
        self.integration_timeout_s = validate.seconds("integration_timeout_s",
                                                      integration_timeout_s, 0.05, top)
        self.routes: dict[str, tuple[str, str]] = {}
        for fname, route in (routes or {}).items():
            if (isinstance(route, str) or not isinstance(route, Sequence) or len(route) != 2):
                raise BadInput(f"routes[{fname!r}] must be (method, path), got {route!r}")
            self.routes[fname] = (self._method(route[0]), self._path(route[1]))
        self.method = self._method(method)
        self.path = self._path(path)
        self.request = {"body": body, "headers": headers, "query": query}
        # Build one event now so that bad bodies, headers or queries fail before the run.
        self._event(self.method, self.path, 0.0, 0, PayloadContext())
        self.client_retries = validate.integer("client_retries", client_retries, 0, 10)
        self.retry_backoff_s = validate.seconds("retry_backoff_s", retry_backoff_s, 0.0, 3600.0)
        self.account_throttle = _check_throttle("account_throttle", account_throttle)
        self.stage_throttle = _check_throttle("stage_throttle", stage_throttle)
        self.method_throttle = _check_throttle("method_throttle", method_throttle)

    @staticmethod
    def _method(method: Any) -> str:
        if method not in HTTP_METHODS:
            raise BadInput(f"method must be one of {HTTP_METHODS}, got {method!r}")
        return method

    @staticmethod
    def _path(path: Any) -> str:
        if not isinstance(path, str) or not path.startswith("/"):
            raise BadInput(f"path must be a string starting with '/', got {path!r}")
        return path

    def _event(self, method: str, path: str, t: float, number: int,
               ctx: PayloadContext) -> dict[str, Any]:
        build = api_gateway_rest_event if self.api == "rest" else api_gateway_http_event
        return build(method, path, t, number=number, ctx=ctx, **self.request)

    def validate(self, targets: list[str]) -> None:
        unknown = set(self.routes) - set(targets)
        if unknown:
            raise BadInput(f"routes name functions that are not targets of the API: "
                             f"{sorted(unknown)} (targets: {targets})")

    def http_status(self, call: Call) -> int:
        """The status the client gets for a call that ended within the integration timeout."""
        return self._answer(call)[0]

    def _answer(self, call: Call) -> tuple[int, bool]:
        """The status for a call that ended in time, and whether API Gateway made it itself."""
        if call.status != OK:
            return 502, True
        if call.fn.cfg.handler is None:
            return 200, False
        out = call.output
        if self.api == "http" and not (isinstance(out, dict) and "statusCode" in out):
            return 200, False  # an HTTP API infers a 200 response from any JSON
        try:
            return check_proxy_response(out), False
        except ValueError:
            return 502, True  # "Malformed Lambda proxy response"

    def start(self, run: Run, targets: list[str]) -> None:
        name = self.name or self.kind
        log = run.service(name, lambda run: APIGatewayLog(), shared=False)
        install_handler_runner(run)
        engine = run.engine
        kernel = run.kernel
        src = engine.source_index(name)
        ctx = PayloadContext(seed=run.seed, epoch=run.epoch)
        annotate = engine.annotate
        timeout = self.integration_timeout_s
        routes = [(engine.function(t), self.routes.get(t, (self.method, self.path)))
                  for t in targets]
        pick = run.rng("source", name, "routes")
        counter = [0]
        shared: list[_Bucket] = []
        if self.account_throttle is not None:
            account = run.service("apigateway-account-throttle",
                                  lambda _: _Bucket(self.account_throttle))
            if account.limit != self.account_throttle:
                raise ValueError(f"the APIs of one run share one account throttle; this one has "
                                 f"{self.account_throttle}, another {account.limit}")
            shared.append(account)
        if self.stage_throttle is not None:
            shared.append(_Bucket(self.stage_throttle))
        buckets: dict[str, list[_Bucket]] = {
            fn.name: shared + ([_Bucket(self.method_throttle)] if self.method_throttle else [])
            for fn, _ in routes}

        def respond(n: int, attempt: int, first: float, fname: str, iid: int, sent: float,
                    status: int, route: tuple[Any, tuple[str, str]], gateway: bool = True) -> None:
            now = kernel.now
            if iid != _NO_INVOCATION:
                annotate(iid, "http_status", status)
            log.rows.append((n, attempt, fname, iid, sent, now, status, (now - sent) * 1000.0,
                             ERROR_BODIES[status] if gateway else None))
            if status in RETRY_STATUSES and attempt <= self.client_retries and not engine.closing:
                wait = self.retry_backoff_s * 2.0 ** (attempt - 1)
                ev = simpy.Timeout(kernel, wait)
                ev.callbacks.append(lambda _: engine.closing or send(n, attempt + 1, first, route))

        def send(n: int, attempt: int, first: float, route: tuple[Any, tuple[str, str]]) -> None:
            fn, (method, path) = route
            now = kernel.now
            if not _admit(buckets[fn.name], now):
                respond(n, attempt, first, fn.name, _NO_INVOCATION, now, 429, route)
                return
            number = counter[0]
            counter[0] = number + 1
            iid = engine.new_invocation_id()
            # The proxy event is built only if the function's handler reads it.
            event = LazyPayload(self._event, method, path, now, number, ctx)
            call = engine.invoke(fn, source=src, payload=event, iid=iid)
            if call is None:
                respond(n, attempt, first, fn.name, iid, now, 500, route)
            elif call.end - now > timeout:
                ev = simpy.Timeout(kernel, timeout)
                ev.callbacks.append(lambda _: respond(n, attempt, first, fn.name, iid, now, 504,
                                                      route))
            else:
                def done(c: Call) -> None:
                    status, gateway = self._answer(c)
                    respond(n, attempt, first, fn.name, iid, now, status, route, gateway)

                call.on_done = done

        def fire(k: int, t: float) -> None:
            route = routes[0] if len(routes) == 1 else routes[int(pick.integers(len(routes)))]
            send(k, 1, t, route)

        at_times(run, arrival_times(self.arrivals, run.rng("source", name, "arrivals")), fire)

    def __repr__(self) -> str:
        return (f"APIGateway({self.arrivals!r}, api={self.api!r}, "
                f"integration_timeout_s={self.integration_timeout_s:g})")
