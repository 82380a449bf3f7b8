"""Tests of simlab.core.config: platform rules, era presets, function configuration and
validation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest
import scipy.stats

from simlab.core.config import (
    ERAS,
    MAX_VCPUS,
    MB_PER_VCPU,
    FunctionConfig,
    PlatformRules,
    check_concurrency,
    era_rules,
    vcpu_share,
)
from simlab.core.dists import Constant, LogNormal, ScipyDistribution
from simlab.core.keepalive import FixedKeepAlive, NoKeepAlive
from simlab.core.scaling import AccountBurstScaling, PerFunctionScaling

# --------------------------------------------------------------------------------------------------
# CPU share
# --------------------------------------------------------------------------------------------------


def test_vcpu_share_is_proportional_to_memory_with_one_vcpu_at_1769_mb() -> None:
    assert MB_PER_VCPU == 1769.0
    assert vcpu_share(1769) == 1.0
    assert vcpu_share(128) == pytest.approx(128 / 1769)
    assert vcpu_share(3538) == pytest.approx(2.0)
    assert vcpu_share(10240) == pytest.approx(10240 / 1769)


def test_vcpu_share_is_capped_at_six() -> None:
    assert MAX_VCPUS == 6.0
    assert vcpu_share(6 * 1769) == pytest.approx(6.0)
    assert vcpu_share(20_000) == 6.0


# --------------------------------------------------------------------------------------------------
# Era presets: the values of LAMBDA_FACTS.md
# --------------------------------------------------------------------------------------------------


def test_eras_available_and_default_is_today() -> None:
    assert {"2018", "2020", "today"} <= set(ERAS)
    assert era_rules() is ERAS["today"]
    assert PlatformRules().era == "today"
    assert all(rules.era == name for name, rules in ERAS.items())


def test_era_2018_values() -> None:
    r = ERAS["2018"]
    assert r.date == dt.date(2018, 6, 1)
    assert isinstance(r.keep_alive, FixedKeepAlive) and r.keep_alive.ttl_s == 26 * 60
    assert r.max_lifetime_s == 7200
    assert (r.memory_min_mb, r.memory_max_mb, r.memory_step_mb) == (128, 3008, 64)
    assert r.timeout_max_s == 300
    assert r.scaling == AccountBurstScaling(burst=3000, per_minute=500)
    assert r.billing_granularity_ms == 100
    assert r.account_concurrency == 1000
    assert r.unreserved_minimum == 100
    assert r.host_memory_mb == 3008


def test_era_2020_values() -> None:
    r = ERAS["2020"]
    assert r.date == dt.date(2020, 6, 1)
    assert isinstance(r.keep_alive, FixedKeepAlive) and r.keep_alive.ttl_s == 600
    assert r.max_lifetime_s == 7200
    assert (r.memory_min_mb, r.memory_max_mb, r.memory_step_mb) == (128, 3008, 64)
    assert r.timeout_max_s == 900
    assert r.scaling == AccountBurstScaling(burst=3000, per_minute=500)
    assert r.billing_granularity_ms == 100
    assert r.host_memory_mb == 3008


def test_era_today_values() -> None:
    r = ERAS["today"]
    assert r.date >= dt.date(2023, 11, 27)
    assert isinstance(r.keep_alive, FixedKeepAlive) and r.keep_alive.ttl_s == 360
    assert r.max_lifetime_s == 7200
    assert (r.memory_min_mb, r.memory_max_mb, r.memory_step_mb) == (128, 10240, 1)
    assert r.timeout_max_s == 900
    assert r.scaling == PerFunctionScaling(step=1000, period_s=10.0)
    assert r.billing_granularity_ms == 1
    assert r.account_concurrency == 1000
    assert r.unreserved_minimum == 100
    assert r.host_memory_mb >= 10240


def test_keep_alive_shrinks_over_the_eras() -> None:
    ttl = [ERAS[e].keep_alive.ttl_s for e in ("2018", "2020", "today")]
    assert ttl[0] > ttl[1] > ttl[2]


# Overrides: one good new value per rule.
OVERRIDES = {
    "era": "custom",
    "date": dt.date(2019, 1, 1),
    "keep_alive": 42.0,
    "max_lifetime_s": 60.0,
    "memory_min_mb": 64,
    "memory_max_mb": 2048,
    "memory_step_mb": 2,
    "timeout_max_s": 60.0,
    "scaling": PerFunctionScaling(step=10, period_s=1.0),
    "billing_granularity_ms": 10.0,
    "account_concurrency": 5000,
    "unreserved_minimum": 0,
    "host_memory_mb": 4096,
    "host_provision_delay_s": 1.5,
    "recycle_prewarm": True,
}


def test_every_rule_is_listed_for_override() -> None:
    assert set(OVERRIDES) == {f.name for f in dataclasses.fields(PlatformRules)}


@pytest.mark.parametrize("era", ["2018", "2020", "today"])
@pytest.mark.parametrize("rule", sorted(OVERRIDES))
def test_every_rule_is_overridable(era: str, rule: str) -> None:
    # "era" is also era_rules' first parameter, so the label is changed through replace()
    change = {rule: OVERRIDES[rule]}
    rules = ERAS[era].replace(**change) if rule == "era" else era_rules(era, **change)
    got = getattr(rules, rule)
    if rule == "keep_alive":
        assert got == FixedKeepAlive(42.0)
    else:
        assert got == OVERRIDES[rule]
    # the other rules stay as in the era, and the preset itself is not changed
    for f in dataclasses.fields(PlatformRules):
        if f.name != rule:
            assert getattr(rules, f.name) == getattr(ERAS[era], f.name)
    assert getattr(ERAS[era], rule) != got


def test_keep_alive_s_is_an_alias_of_keep_alive() -> None:
    assert era_rules("2018", keep_alive_s=5).keep_alive == FixedKeepAlive(5.0)
    assert isinstance(era_rules("2018", keep_alive_s=None).keep_alive, NoKeepAlive)
    with pytest.raises(TypeError, match="keep_alive_s or keep_alive"):
        era_rules("2018", keep_alive_s=5, keep_alive=6)


def test_keep_alive_accepts_policy_objects() -> None:
    class Half:
        def idle_timeout_s(self, function: str, now_s: float) -> float:
            return 0.5

    policy = Half()
    rules = era_rules(keep_alive=policy)
    assert rules.keep_alive is policy
    assert rules.keep_alive_policy is policy


def test_unknown_era_is_rejected_with_the_allowed_names() -> None:
    with pytest.raises(ValueError, match=r"era must be one of \['2018', '2020', 'today'\], "
                                         r"got '2019'"):
        era_rules("2019")


def test_unknown_rule_is_rejected_with_the_allowed_names() -> None:
    with pytest.raises(TypeError, match=r"unknown platform rule\(s\) \['keepalive'\].*allowed:.*"
                                        r"keep_alive"):
        era_rules("today", keepalive=3)


BAD_RULES = [
    ("account_concurrency", 0, r"account_concurrency must be a whole number from 1 to "
                               r"10,000,000.*got 0"),
    ("account_concurrency", 10.5, r"account_concurrency .* got 10.5"),
    ("account_concurrency", True, r"account_concurrency .* got True"),
    ("unreserved_minimum", -1, r"unreserved_minimum must be a whole number from 0 to 1,000.*"
                               r"got -1"),
    ("unreserved_minimum", 1001, r"unreserved_minimum .* from 0 to 1,000.* got 1001"),
    ("memory_min_mb", 0, r"memory_min_mb must be a whole number from 1 to .*got 0"),
    ("memory_max_mb", 100, r"memory_max_mb must be a whole number from 128 to .*got 100"),
    ("memory_step_mb", 0, r"memory_step_mb must be a whole number from 1 to 10,240.*got 0"),
    ("timeout_max_s", 0.5, r"timeout_max_s must be a number from 1 to 86400, got 0.5"),
    ("timeout_max_s", math.nan, r"timeout_max_s must be a number from 1 to 86400, got nan"),
    ("max_lifetime_s", 0,
     r"max_lifetime_s must be a number of seconds > 0 \(inf: never recycled\), got 0"),
    ("max_lifetime_s", -5.0, r"max_lifetime_s .* got -5.0"),
    ("billing_granularity_ms", 0, r"billing_granularity_ms must be a number > 0 and <= "
                                  r"3.6e\+06, got 0"),
    ("host_memory_mb", 64, r"host_memory_mb must be a whole number from 128 to .*got 64"),
    ("host_provision_delay_s", -1, r"host_provision_delay_s must be a number from 0 to 86400, "
                                   r"got -1"),
    ("keep_alive", -1, r"keep_alive_s must be a number >= 0 \(seconds\), got -1"),
    ("keep_alive", math.nan, r"keep_alive_s must be a number >= 0 \(seconds\), got nan"),
]


@pytest.mark.parametrize(("rule", "value", "match"), BAD_RULES)
def test_bad_rule_values_are_rejected_with_name_value_and_range(rule: str, value: object,
                                                                match: str) -> None:
    with pytest.raises(ValueError, match=match):
        era_rules("today", **{rule: value})


@pytest.mark.parametrize(("rule", "value", "match"), [
    ("keep_alive", "long", r"keep_alive_s must be seconds \(a number >= 0\), None, or an object "
                           r"with idle_timeout_s\(function, now_s\), got 'long'"),
    ("keep_alive", True, r"keep_alive_s must be seconds or a keep-alive policy, got True"),
    ("scaling", "fast", r"scaling must be PerFunctionScaling or AccountBurstScaling, got 'fast'"),
    ("date", "2018-01-01", r"date must be a datetime.date, got '2018-01-01'"),
])
def test_bad_rule_types_are_rejected(rule: str, value: object, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        era_rules("today", **{rule: value})


def test_a_small_account_can_be_configured_without_touching_unreserved_minimum() -> None:
    # AWS accounts with a low limit exist (LAMBDA_FACTS 5: "observed with N = 50 on a new
    # low-limit account"); a lesson setting account_concurrency=10 should just work.
    rules = era_rules("today", account_concurrency=10)
    assert rules.account_concurrency == 10


def test_a_small_account_works_with_an_explicit_unreserved_minimum() -> None:
    rules = era_rules("today", account_concurrency=10, unreserved_minimum=0)
    assert (rules.account_concurrency, rules.unreserved_minimum) == (10, 0)


# --------------------------------------------------------------------------------------------------
# FunctionConfig
# --------------------------------------------------------------------------------------------------


def test_function_defaults() -> None:
    f = FunctionConfig("f")
    assert f.memory_mb == 128 and f.timeout_s == 3.0
    assert f.architecture == "x86_64" and f.package_type == "zip"
    assert f.reserved_concurrency is None and f.provisioned_concurrency == 0
    assert f.duration_s == Constant(0.1)  # the default work
    assert f.cpu_s is None and f.io_s is None
    assert isinstance(f.init_s, LogNormal) and f.init_s.median == pytest.approx(0.22)
    assert f.memory_used_mb == Constant(54.0)
    assert f.error_rate == 0.0 and f.parallelism == 1


def test_numbers_become_constants_and_scipy_is_wrapped() -> None:
    f = FunctionConfig("f", init_s=0.5, cpu_s=2, memory_used_mb=scipy.stats.uniform(10, 20))
    assert f.init_s == Constant(0.5)
    assert f.cpu_s == Constant(2.0) and f.io_s == Constant(0.0)
    assert f.duration_s is None
    assert isinstance(f.memory_used_mb, ScipyDistribution)


def test_io_alone_is_accepted() -> None:
    f = FunctionConfig("f", io_s=0.3)
    assert f.cpu_s == Constant(0.0) and f.io_s == Constant(0.3) and f.duration_s is None


@pytest.mark.parametrize("kw", [{"cpu_s": 1.0}, {"io_s": 1.0}, {"cpu_s": 1.0, "io_s": 1.0}])
def test_duration_and_cpu_io_are_exclusive(kw: dict) -> None:
    with pytest.raises(ValueError, match=r"function 'f': give duration_s, or cpu_s and/or io_s, "
                                         r"not both"):
        FunctionConfig("f", duration_s=1.0, **kw)


@pytest.mark.parametrize("name", ["", "a" * 65, "has space", "slash/", "é", 3])
def test_bad_function_names(name: object) -> None:
    with pytest.raises(ValueError, match=r"function name must be 1 to 64 letters, digits, '-' or "
                                         r"'_', got"):
        FunctionConfig(name)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["a", "A-b_9", "x" * 64])
def test_good_function_names(name: str) -> None:
    assert FunctionConfig(name).name == name


def test_replace_changes_and_revalidates() -> None:
    f = FunctionConfig("f", memory_mb=512)
    g = f.replace(memory_mb=1024, error_rate=0.5)
    assert (g.memory_mb, g.error_rate, f.memory_mb) == (1024, 0.5, 512)
    with pytest.raises(ValueError, match="error_rate"):
        f.replace(error_rate=2.0)


def test_replace_can_switch_from_the_default_duration_to_cpu_work() -> None:
    g = FunctionConfig("f").replace(cpu_s=1.0)
    assert g.cpu_s == Constant(1.0)


@pytest.mark.parametrize(("era", "memory", "ok"), [
    ("2018", 128, True), ("2018", 192, True), ("2018", 3008, True), ("2018", 200, False),
    ("2018", 3072, False), ("2018", 127, False), ("2020", 1536, True), ("2020", 1537, False),
    ("today", 129, True), ("today", 10240, True), ("today", 10241, False), ("today", 64, False),
])
def test_memory_range_and_step_by_era(era: str, memory: int, ok: bool) -> None:
    f = FunctionConfig("f", memory_mb=memory)
    if ok:
        f.check_against(ERAS[era])
    else:
        with pytest.raises(ValueError, match=rf"f.memory_mb must be 128 to .* MB in .* steps.* in "
                                             rf"the '{era}' era, got {memory}"):
            f.check_against(ERAS[era])


@pytest.mark.parametrize("memory", [512.0, True, "512"])
def test_memory_must_be_whole(memory: object) -> None:
    with pytest.raises(ValueError, match="f.memory_mb must be 128 to 10,240 MB in 1 MB steps"):
        FunctionConfig("f", memory_mb=memory).check_against(ERAS["today"])  # type: ignore


@pytest.mark.parametrize(("era", "timeout", "ok"), [
    ("2018", 300, True), ("2018", 301, False), ("2020", 900, True), ("2020", 901, False),
    ("today", 1, True), ("today", 0, False), ("today", 2.5, False), ("today", math.inf, False),
    ("today", 3.0, True),
])
def test_timeout_range_by_era(era: str, timeout: float, ok: bool) -> None:
    f = FunctionConfig("f", timeout_s=timeout)
    if ok:
        f.check_against(ERAS[era])
    else:
        with pytest.raises(ValueError, match=r"f.timeout_s must be whole seconds from 1 to "
                                             r"\d+ in the"):
            f.check_against(ERAS[era])


def test_arm64_did_not_exist_before_2021() -> None:
    f = FunctionConfig("f", architecture="arm64")
    f.check_against(ERAS["today"])
    for era in ("2018", "2020"):
        with pytest.raises(ValueError, match=r"arm64 \(Graviton2\) functions did not exist.*"
                                             r"launched on 2021-09-29"):
            f.check_against(ERAS[era])


def test_function_larger_than_a_host_is_rejected() -> None:
    rules = era_rules("today", host_memory_mb=1024)
    with pytest.raises(ValueError, match=r"f.memory_mb \(2048\) exceeds host_memory_mb \(1024\)"):
        FunctionConfig("f", memory_mb=2048).check_against(rules)


BAD_FUNCTION = [
    ({"error_rate": 1.5}, ValueError, r"f.error_rate must be a number from 0 to 1, got 1.5"),
    ({"error_rate": -0.1}, ValueError, r"f.error_rate must be a number from 0 to 1, got -0.1"),
    ({"error_rate": math.nan}, ValueError, r"f.error_rate must be a number from 0 to 1, got nan"),
    ({"parallelism": 0}, ValueError, r"f.parallelism must be a whole number from 1 to 64, got 0"),
    ({"parallelism": 1.5}, ValueError, r"f.parallelism must be .* got 1.5"),
    ({"ephemeral_storage_mb": 100}, ValueError,
     r"f.ephemeral_storage_mb must be a whole number from 512 to 10,240, got 100"),
    ({"provisioned_concurrency": -1}, ValueError,
     r"f.provisioned_concurrency must be a whole number from 0 to .* got -1"),
    ({"reserved_concurrency": -2}, ValueError,
     r"f.reserved_concurrency must be a whole number from 0 to .* got -2"),
    ({"reserved_concurrency": 2.5}, ValueError, r"f.reserved_concurrency .* got 2.5"),
    ({"reserved_concurrency": 2, "provisioned_concurrency": 3}, ValueError,
     r"f.provisioned_concurrency \(3\) must not exceed its reserved_concurrency \(2\)"),
    ({"architecture": "sparc"}, ValueError,
     r"f.architecture must be one of \('x86_64', 'arm64'\), got 'sparc'"),
    ({"package_type": "jar"}, ValueError,
     r"f.package_type must be one of \('zip', 'image'\), got 'jar'"),
    ({"runtime": ""}, ValueError, r"f.runtime must be a non-empty label, got ''"),
    ({"handler": 42}, TypeError, r"f.handler must be callable\(event, context\), got 42"),
    ({"init_s": -0.1}, ValueError, r"f.init_s must be between 0 and inf, got -0.1"),
    ({"init_s": "slow"}, TypeError, r"f.init_s must be a number, a frozen scipy.stats "
                                    r"distribution or an object with sample\(rng, size\), "
                                    r"got 'slow'"),
    ({"duration_s": -1}, ValueError, r"f.duration_s must be between 0 and inf, got -1"),
    ({"duration_s": math.inf}, ValueError, r"f.duration_s must be between 0 and inf, got inf"),
    ({"cpu_s": -1}, ValueError, r"f.cpu_s must be between 0 and inf, got -1"),
    ({"io_s": math.nan}, ValueError, r"f.io_s must be between 0 and inf, got nan"),
    ({"memory_used_mb": -5}, ValueError, r"f.memory_used_mb must be between 0 and inf, got -5"),
    ({"memory_used_mb": True}, TypeError, r"f.memory_used_mb must be a number or a "
                                          r"distribution, got True"),
]


@pytest.mark.parametrize(("kw", "exc", "match"), BAD_FUNCTION)
def test_bad_function_parameters(kw: dict, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        FunctionConfig("f", **kw)


# --------------------------------------------------------------------------------------------------
# The 100-unreserved rule
# --------------------------------------------------------------------------------------------------


def test_reservations_may_use_all_but_the_unreserved_minimum() -> None:
    rules = ERAS["today"]
    check_concurrency([FunctionConfig("a", reserved_concurrency=500),
                       FunctionConfig("b", reserved_concurrency=400)], rules)


def test_reservations_beyond_the_unreserved_minimum_are_rejected() -> None:
    rules = ERAS["today"]
    fns = [FunctionConfig("a", reserved_concurrency=500),
           FunctionConfig("b", reserved_concurrency=401)]
    with pytest.raises(ValueError, match=r"reserved plus provisioned concurrency of all "
                                         r"functions \(901\) decreases the account's unreserved "
                                         r"concurrency below its minimum value of 100: at most "
                                         r"900 of the account's 1,000 may be reserved"):
        check_concurrency(fns, rules)


def test_provisioned_without_reservation_counts_against_the_unreserved_minimum() -> None:
    rules = era_rules("today", account_concurrency=200)
    check_concurrency([FunctionConfig("a", provisioned_concurrency=100)], rules)
    with pytest.raises(ValueError, match=r"\(101\)"):
        check_concurrency([FunctionConfig("a", provisioned_concurrency=101)], rules)
    # with a reservation the provisioned environments are part of it, not added to it
    check_concurrency([FunctionConfig("a", reserved_concurrency=100,
                                      provisioned_concurrency=100)], rules)


def test_unreserved_minimum_zero_allows_reserving_everything() -> None:
    rules = era_rules("today", account_concurrency=10, unreserved_minimum=0)
    check_concurrency([FunctionConfig("a", reserved_concurrency=10)], rules)
    with pytest.raises(ValueError, match="at most 10 of the account's 10"):
        check_concurrency([FunctionConfig("a", reserved_concurrency=11)], rules)
