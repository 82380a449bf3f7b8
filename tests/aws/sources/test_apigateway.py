"""API Gateway: proxy events, the status mapping (200/500/502/504/429) and client retries."""

from __future__ import annotations

import pytest

import simlab
from simlab.aws.sources import APIGateway, Poisson, Replay
from simlab.aws.sources.apigateway import ACCOUNT_THROTTLE, ERROR_BODIES, Throttle
from simlab.aws.sources.payloads import proxy_response


def _api(times: list[float], api_kwargs: dict | None = None, until_s: float = 200,
         **fn: object) -> simlab.Result:
    sim = simlab.Simulation(seed=2)
    cfg = {"duration_s": 0.2, "init_s": 0.3, "timeout_s": 60} | fn
    sim.add_function("f", **cfg)
    sim.add_source(APIGateway(Replay(times), **(api_kwargs or {})), target="f")
    return sim.run(until_s=until_s)


def test_ok_is_200_and_the_client_waits_for_the_function() -> None:
    r = _api([1.0, 2.0])
    inv = r.invocations
    assert inv["http_status"].tolist() == [200, 200]
    assert (inv["invocation_type"] == "sync").all()
    resp = r.output("apigateway").responses
    assert resp["http_status"].tolist() == [200, 200]
    assert resp["responded_s"].tolist() == inv["end_s"].tolist()
    assert resp["latency_ms"].tolist() == pytest.approx(inv["latency_ms"].tolist())


def test_function_error_is_502() -> None:
    r = _api([1.0], error_rate=1.0)
    assert r.invocations["http_status"].tolist() == [502]
    body = r.output("apigateway").responses["gateway_body"].tolist()
    assert body == ['{"message": "Internal server error"}']


def test_a_lambda_throttle_is_500_internal_server_error() -> None:
    r = _api([1.0], reserved_concurrency=0)
    assert r.invocations["status"].tolist() == ["throttled"]
    assert r.invocations["http_status"].tolist() == [500]
    resp = r.output("apigateway").responses
    assert resp["responded_s"].tolist() == [1.0]
    assert resp["gateway_body"].tolist() == ['{"message": "Internal server error"}']


def test_the_functions_own_answers_carry_no_gateway_body() -> None:
    r = _api([1.0])
    assert r.output("apigateway").responses["gateway_body"].tolist() == [None]


def test_api_gateway_own_throttle_is_429_and_never_reaches_lambda() -> None:
    # 10 requests at one instant through a stage limit of burst 4: 4 pass, 6 get 429.
    times = [1.0] * 10 + [3.0]
    r = _api(times, {"stage_throttle": Throttle(rate_per_s=1.0, burst=4)})
    resp = r.output("apigateway").responses
    assert (resp["http_status"] == 429).sum() == 6
    assert (resp.loc[resp["http_status"] == 429, "invocation_id"] == -1).all()
    assert set(resp.loc[resp["http_status"] == 429, "gateway_body"]) == {ERROR_BODIES[429]}
    # 2 s later the bucket has refilled 2 tokens: the last request passes
    assert resp["http_status"].iloc[-1] == 200
    assert len(r.invocations) == 5  # only admitted requests are invocations
    assert (r.invocations["http_status"] == 200).all()


def test_method_throttle_is_per_route_and_the_account_throttle_is_shared() -> None:
    sim = simlab.Simulation(seed=3)
    sim.add_function("users", duration_s=0.05)
    sim.add_function("orders", duration_s=0.05)
    limit = Throttle(rate_per_s=0.001, burst=3)
    api = APIGateway(Replay([1.0] * 20), method_throttle=limit,
                     routes={"users": ("GET", "/users"), "orders": ("POST", "/orders")})
    sim.add_source(api, target=["users", "orders"])
    resp = sim.run(until_s=10).output("apigateway").responses
    ok = resp[resp["http_status"] == 200].groupby("function").size()
    assert ok.to_dict() == {"orders": 3, "users": 3}
    # two APIs share the account bucket: 6 + 6 requests through a burst of 8
    sim = simlab.Simulation(seed=3)
    sim.add_function("f", duration_s=0.05)
    account = Throttle(rate_per_s=0.001, burst=8)
    for name in ("a", "b"):
        sim.add_source(APIGateway(Replay([1.0] * 6), account_throttle=account), target="f",
                       name=name)
    r = sim.run(until_s=10)
    admitted = sum((r.output(n).responses["http_status"] == 200).sum() for n in ("a", "b"))
    assert admitted == 8


def test_default_account_throttle_is_10000_per_s_with_a_burst_of_5000() -> None:
    assert ACCOUNT_THROTTLE == Throttle(rate_per_s=10_000.0, burst=5_000)
    r = _api([1.0] * 5_001, until_s=5, duration_s=0.001, init_s=0.0)
    status = r.output("apigateway").responses["http_status"]
    assert (status == 429).sum() == 1


def test_a_run_longer_than_the_integration_timeout_is_504_at_29_s_but_keeps_running() -> None:
    r = _api([1.0], duration_s=40.0)
    inv = r.invocations
    assert inv["status"].tolist() == ["ok"]  # the function finished, and is billed for it
    assert inv["duration_ms"].iloc[0] == pytest.approx(40_000.0)
    assert inv["http_status"].tolist() == [504]
    resp = r.output("apigateway").responses
    assert resp["responded_s"].tolist() == [30.0]  # sent at 1 s, answered at 1 + 29 s
    assert resp["latency_ms"].tolist() == [29_000.0]


def test_cold_start_counts_against_the_integration_timeout() -> None:
    r = _api([1.0], {"integration_timeout_s": 0.4}, duration_s=0.2, init_s=0.3)
    assert r.invocations["http_status"].tolist() == [504]


def test_function_timeout_within_the_integration_timeout_is_502() -> None:
    r = _api([1.0], duration_s=20.0, timeout_s=10)
    assert r.invocations["status"].tolist() == ["timeout"]
    assert r.invocations["http_status"].tolist() == [502]


def test_handler_gets_the_proxy_event_and_its_status_code_is_used() -> None:
    seen: list = []

    def handler(event: dict, context: object) -> dict:
        seen.append(event)
        return proxy_response(201, {"created": event["path"]})

    r = _api([1.0], {"method": "POST", "path": "/orders", "body": {"item": "tea"}},
             handler=handler)
    ev = seen[0]
    assert ev["httpMethod"] == "POST" and ev["path"] == "/orders"
    assert ev["body"] == '{"item":"tea"}'
    assert ev["requestContext"]["stage"] == "prod"
    assert r.invocations["http_status"].tolist() == [201]


def test_malformed_proxy_response_is_502_on_rest_and_inferred_on_http_api() -> None:
    rest = _api([1.0], handler=lambda e, c: {"answer": 42})
    assert rest.invocations["status"].tolist() == ["ok"]
    assert rest.invocations["http_status"].tolist() == [502]
    http = _api([1.0], {"api": "http"}, handler=lambda e, c: {"answer": 42})
    assert http.invocations["http_status"].tolist() == [200]


def test_http_api_sends_payload_version_2() -> None:
    seen: list = []
    _api([1.0], {"api": "http", "path": "/items"},
         handler=lambda e, c: seen.append(e) or proxy_response(200, "ok"))
    assert seen[0]["version"] == "2.0"
    assert seen[0]["rawPath"] == "/items"


def test_client_retries_with_doubling_backoff() -> None:
    r = _api([1.0], {"client_retries": 3, "retry_backoff_s": 0.5}, reserved_concurrency=0)
    resp = r.output("apigateway").responses
    assert resp["attempt"].tolist() == [1, 2, 3, 4]
    assert resp["sent_s"].tolist() == [1.0, 1.5, 2.5, 4.5]
    assert (resp["request"] == 0).all()
    assert len(r.invocations) == 4  # each retry is a new request to Lambda
    final = r.output("apigateway").requests
    assert final["attempts"].tolist() == [4]
    assert final["http_status"].tolist() == [500]
    assert final["latency_ms"].tolist() == [3500.0]


def test_routes_spread_requests_over_several_functions() -> None:
    sim = simlab.Simulation(seed=3)
    sim.add_function("users", duration_s=0.05)
    sim.add_function("orders", duration_s=0.05)
    api = APIGateway(Poisson(rate_per_s=5.0),
                     routes={"users": ("GET", "/users"), "orders": ("POST", "/orders")})
    sim.add_source(api, target=["users", "orders"])
    inv = sim.run(until_s=100).invocations
    counts = inv.groupby("function", observed=True).size()
    n = len(inv)
    # each route gets a binomial(n, 1/2) share: within 4 standard deviations
    assert abs(counts["users"] - n / 2) < 4 * (n / 4) ** 0.5


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"arrivals": 5}, "arrivals must be an arrival process"),
    ({"integration_timeout_s": 30}, "integration_timeout_s.*<= 29"),
    ({"integration_timeout_s": 0.01}, "integration_timeout_s"),
    ({"api": "http", "integration_timeout_s": 31}, "integration_timeout_s.*<= 30"),
    ({"api": "soap"}, "api must be 'rest' or 'http'"),
    ({"method": "FETCH"}, "method must be one of"),
    ({"path": "users"}, "path must be a string starting with '/'"),
    ({"client_retries": 11}, "client_retries"),
    ({"retry_backoff_s": -1}, "retry_backoff_s"),
    ({"routes": {"f": "/users"}}, r"routes\['f'\] must be \(method, path\)"),
    ({"body": object()}, "body must be"),
    ({"stage_throttle": 5}, "stage_throttle must be"),
    ({"account_throttle": (1, 2)}, "account_throttle must be"),
])
def test_bad_api_configuration_is_rejected(kwargs: dict, match: str) -> None:
    args = {"arrivals": Poisson(1.0)} | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        APIGateway(**args)


def test_routes_must_name_targets() -> None:
    sim = simlab.Simulation(seed=1)
    sim.add_function("f")
    with pytest.raises(ValueError, match="not targets"):
        sim.add_source(APIGateway(Poisson(1.0), routes={"g": ("GET", "/")}), target="f")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"rate_per_s": 0, "burst": 1}, "rate_per_s"),
    ({"rate_per_s": float("nan"), "burst": 1}, "rate_per_s"),
    ({"rate_per_s": 1.0, "burst": 0}, "burst"),
    ({"rate_per_s": 1.0, "burst": 2.5}, "burst"),
])
def test_bad_throttles_are_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Throttle(**kwargs)
