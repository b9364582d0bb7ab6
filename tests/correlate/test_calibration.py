"""A small calibration (the full one is benchmarks/calibration.py): random calendars unrelated to
nightly cuts and to outages covering most of the span are seldom called significant by the shift
test, while the analytic tests it replaced, run on the same calendars, claim links far more often."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from monitor.correlate import CorrelateParams

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "calibration.py"


@pytest.fixture(scope="module")
def calibration():
    spec = importlib.util.spec_from_file_location("calibration", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("structure", ["nightly", "most_of_span"])
def test_false_claims_are_rare_where_the_old_tests_claimed_often(calibration, structure):
    """90 calendars at alpha 0.05: a valid test gives about 4 claims (at most 10 with probability
    0.995 when the true rate is 0.05); the old tests give 9/60 and more on these structures."""
    result = calibration.false_claims(getattr(calibration, structure), 90, CorrelateParams(), seed=21)
    assert result["new"] <= 10, result
    assert result["old"] > result["new"] + 3, result


def test_planted_reactions_are_found(calibration):
    assert calibration.power(20, CorrelateParams(), seed=5) >= 16
