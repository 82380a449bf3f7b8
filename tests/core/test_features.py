"""Eras refuse, before the run, the features that had not launched on their date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

import simlab
from simlab.aws.sources import KinesisStream, Poisson, Replay, S3Bucket, SQSQueue
from simlab.aws.sources.destinations import Queue
from simlab.aws.sources.invoke_async import configure_async
from simlab.core.features import FEATURES, refuse


def _sim(era: str, **fn: object) -> simlab.Simulation:
    sim = simlab.Simulation(era=era, seed=1)
    sim.add_function("f", duration_s=0.1, **fn)
    return sim


def _sqs(**kw: object) -> Callable[[simlab.Simulation], None]:
    return lambda sim: sim.add_source(SQSQueue("jobs", Replay([1.0]), **kw), target="f")


def _stream(**kw: object) -> Callable[[simlab.Simulation], None]:
    return lambda sim: sim.add_source(KinesisStream("clicks", Poisson(1.0), **kw), target="f")


def _async(**kw: object) -> Callable[[simlab.Simulation], None]:
    def build(sim: simlab.Simulation) -> None:
        sim.add_source(S3Bucket("uploads", uploads=Replay([1.0])), target="f")
        configure_async(sim, "f", **kw)
    return build


# (what the simulation adds, the feature's words in the error, its launch date)
RUN_TIME = [
    (_sqs(), "SQS as an event source", "2018-06-28"),
    (_stream(bisect_on_error=True), "BisectBatchOnFunctionError", "2019-11-25"),
    (_stream(max_retries=3), "MaximumRetryAttempts of stream", "2019-11-25"),
    (_stream(max_record_age_s=600), "MaximumRecordAgeInSeconds", "2019-11-25"),
    (_stream(parallelization_factor=2), "ParallelizationFactor", "2019-11-25"),
    (_stream(on_failure=Queue("lost")), "on-failure destinations of stream", "2019-11-25"),
    (_async(max_retries=0), "MaximumRetryAttempts of asynchronous", "2019-11-25"),
    (_async(max_event_age_s=600), "MaximumEventAgeInSeconds", "2019-11-25"),
    (_async(on_failure=Queue("failed")), "destinations of asynchronous", "2019-11-25"),
]


@pytest.mark.parametrize(("build", "words", "date"), RUN_TIME)
def test_the_2018_era_refuses_later_features_before_the_run(build, words: str,
                                                             date: str) -> None:
    sim = _sim("2018")
    build(sim)
    with pytest.raises(ValueError, match=rf"{words}.* did not exist in the '2018' era "
                                         rf"\(2018-06-01\); it launched on {date}"):
        sim.run(until_s=10)


@pytest.mark.parametrize(("build", "words", "date"), RUN_TIME[1:])
def test_the_2020_era_has_the_2019_features(build, words: str, date: str) -> None:
    sim = _sim("2020")
    build(sim)
    assert sim.run(until_s=5).until_s == 5


@pytest.mark.parametrize("kw", [{"batch_size": 20, "batching_window_s": 1.0},
                                {"batching_window_s": 2.0}])
def test_sqs_batch_windows_and_large_batches_came_in_nov_2020(kw: dict) -> None:
    sim = _sim("2020")
    _sqs(**kw)(sim)
    with pytest.raises(ValueError, match=r"batching windows and batches above 10 for SQS did "
                                         r"not exist in the '2020' era.*2020-11-24"):
        sim.run(until_s=10)
    sim = _sim("today")
    _sqs(**kw)(sim)
    sim.run(until_s=5)
    sim = _sim("2020")
    _sqs(batch_size=10)(sim)  # what existed then is accepted
    sim.run(until_s=5)


@pytest.mark.parametrize(("fn", "era", "words", "date"), [
    ({"ephemeral_storage_mb": 1024}, "2020", "ephemeral storage above 512 MB", "2022-03-24"),
    ({"package_type": "image"}, "2020", "container image packaging", "2020-12-01"),
    ({"runtime": "provided.al2"}, "2018", r"custom runtimes \('provided'\)", "2018-11-29"),
    ({"provisioned_concurrency": 1}, "2018", "provisioned concurrency", "2019-12-03"),
    ({"architecture": "arm64"}, "2020", r"arm64 \(Graviton2\) functions", "2021-09-29"),
])
def test_function_features_are_refused_when_the_function_is_added(fn: dict, era: str,
                                                                  words: str, date: str) -> None:
    with pytest.raises(ValueError, match=rf"f\.\w+=.*{words} did not exist in the '{era}' era"
                                         rf".*launched on {date}"):
        _sim(era, **fn)
    assert _sim("today", **fn).run(until_s=5).until_s == 5


def test_a_reconfiguration_during_the_run_is_checked_too() -> None:
    sim = _sim("2020")
    with pytest.raises(ValueError, match="ephemeral storage above 512 MB"):
        sim.update_function_configuration(5.0, "f", ephemeral_storage_mb=2048)


def test_the_custom_runtime_existed_in_2020_and_the_defaults_are_never_refused() -> None:
    _sim("2020", runtime="provided").run(until_s=5)
    sim = _sim("2018")
    _stream()(sim)  # a stream with AWS's 2018 defaults
    sim.add_source(S3Bucket("uploads", uploads=Replay([1.0])), target="f")
    sim.run(until_s=5)


def test_the_table_is_dated_and_refuse_compares_with_the_era_date() -> None:
    assert all(isinstance(f.launched, dt.date) and f.source for f in FEATURES.values())
    rules = simlab.core.config.era_rules("2020", date=dt.date(2022, 3, 24))
    refuse(rules, "ephemeral_storage", "here")  # on the launch day: allowed
    with pytest.raises(ValueError, match="^here: ephemeral storage"):
        refuse(simlab.core.config.era_rules("2020"), "ephemeral_storage", "here")


def test_sqs_max_concurrency_came_in_jan_2023_and_the_dates_agree() -> None:
    from simlab.aws.sources.sqs import MAX_CONCURRENCY_SINCE

    assert FEATURES["sqs_max_concurrency"].launched == MAX_CONCURRENCY_SINCE
    sim = _sim("2020")
    _sqs(max_concurrency=10)(sim)
    with pytest.raises(ValueError, match=r"max_concurrency=10: ScalingConfig.MaximumConcurrency"
                                         r".*launched on 2023-01-12"):
        sim.run(until_s=10)
