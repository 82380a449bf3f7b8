"""The calibration of the measured 2020 platform (benchmarks/calibrate_2020.py) runs, and the
measured rules predict the two shipped experiments better than the fixed 10-minute keep-alive."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from simlab.core.measured import MEASURED_2020

pytestmark = pytest.mark.slow  # runs the calibration script (several seeds of two experiments)

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "calibrate_2020.py"


@pytest.fixture(scope="module")
def calib():  # noqa: ANN201
    spec = importlib.util.spec_from_file_location("calibrate_2020", _PATH)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_measured_rules_beat_the_fixed_keep_alive_on_both_experiments(calib) -> None:
    seeds = [0, 1]
    fixed = calib.evaluate({"keep_alive_s": 600.0}, seeds)
    measured = calib.evaluate(dict(MEASURED_2020), seeds)
    names = list(fixed.index)
    assert calib.loss(measured, names) < calib.loss(fixed, names) / 4
    # environments within 15 % of the real count, mean live instances within 10 %
    rel_envs = (measured["sim_envs"] - measured["real_envs"]).abs() / measured["real_envs"]
    rel_live = (measured["sim_live"] - measured["real_live"]).abs() / measured["real_live"]
    assert (rel_envs < 0.15).all() and (rel_live < 0.10).all()
    # pre-initialised replacements: fewer requests wait for INIT than environments are created
    assert (measured["sim_waited_init"] < measured["sim_envs"]).all()
