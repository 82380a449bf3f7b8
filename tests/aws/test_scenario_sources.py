"""Tests of simlab.aws.scenario_sources: every source type of simlab.sources can be written in a
scenario file, and each has an example file under examples/sources that runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from simlab.aws.scenario_files import ScenarioFileError, load, loads, source_types
from simlab.aws.sources import SQSQueue
from simlab.aws.sources.destinations import Queue
from simlab.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sources"
FILES = sorted(EXAMPLES.glob("*.toml"))


def _types_used(path: Path) -> set[type]:
    types = source_types()
    return {types[entry["type"].lower()] for entry in load(path).data.get("sources", [])}


def test_every_source_type_has_an_example_file() -> None:
    used = set().union(*(_types_used(p) for p in FILES))
    missing = sorted(cls.__name__ for cls in set(source_types().values()) - used)
    assert not missing, f"no example under examples/sources writes {missing}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_example_runs_and_every_source_sends_requests(path: Path, capsys) -> None:
    scenario = load(path)
    sim = scenario.build()
    result = sim.run(scenario.until_s)
    inv = result.invocations
    for source, targets in sim.sources:
        mine = inv[inv["source"] == source.name]
        assert len(mine) > 0, f"{path.name}: source {source.name!r} sent nothing"
        assert set(mine["function"]) == set(targets)
    assert main(["check", str(path)]) == 0
    capsys.readouterr()


def test_a_file_name_is_the_queue_name_and_nested_tables_are_sources() -> None:
    sim = load(EXAMPLES / "sqs.toml").build()
    queue = sim.sources[0][0]
    assert isinstance(queue, SQSQueue) and queue.name == "orders" and queue.queue_name == "orders"
    assert isinstance(queue.dead_letter_queue, SQSQueue)
    assert queue.dead_letter_queue.queue_name == "orders-dlq"
    assert queue.visibility_timeout_s == 120.0 and queue.batching_window_s == 2.0
    stream = load(EXAMPLES / "kinesis.toml").build().sources[0][0]
    assert isinstance(stream.on_failure, Queue) and stream.on_failure.name == "clicks-failures"


HEAD = """
[functions.f]
duration_s = 0.1
[[sources]]
"""


@pytest.mark.parametrize(("body", "key", "match"), [
    ('type = "sqs"\ntarget = "f"\nmessages = { type = "poisson", rate_per_s = 1 }',
     "sources.0", r"a sqs source needs 'name'"),
    ('type = "poisson"\ntarget = 5\nrate_per_s = 1', "sources.0.target",
     r"target must be a function name or a non-empty list of function names, got 5"),
    ('type = "poisson"\ntarget = ["f", 2]\nrate_per_s = 1', "sources.0.target",
     r"target must be .* got \['f', 2\]"),
    ('type = "sqs"\nname = "q"\ntarget = "f"\nmessages = { type = "bogus" }',
     "sources.0.messages.type", r"type must be one of \[.*'poisson'.*\], got 'bogus'"),
    ('type = "sqs"\nname = "q"\ntarget = "f"\nmessages = { type = "poisson", rate = 1 }',
     "sources.0.messages.rate", r"unknown key for a poisson source"),
    ('type = "sqs"\nname = "q"\ntarget = "f"\nbatch_size = 0', "sources.0.batch_size",
     r"batch_size must be a whole number, 1 to 10,000; got 0"),
    ('type = "trace"\ntarget = "f"\ntrace = "nowhere.csv"', "sources.0.trace",
     r"trace must be 'azure_2021_sample' or the path of .* got 'nowhere.csv': no such file"),
    ('type = "s3"\nname = "bkt"\ntarget = "f"\nuploads = [[1.0, "a.txt", -5]]', "sources.0.uploads",
     r"uploads\[0\] size must be a whole number of bytes >= 0, got -5"),
])
def test_bad_source_tables_name_the_key_and_value(body: str, key: str, match: str) -> None:
    with pytest.raises(ScenarioFileError, match=match) as info:
        loads(HEAD + body).build()
    assert info.value.key == key
