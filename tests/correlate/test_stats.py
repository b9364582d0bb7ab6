"""Benjamini-Hochberg and the Wilson interval against values worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.correlate.stats import bh_adjust, bh_claims, wilson_interval


def test_bh_adjust_matches_the_step_up_rule_and_keeps_nan():
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.5])
    adjusted = bh_adjust(p)
    # sorted 0.01, 0.03, 0.04, 0.5 (m = 4): 0.04, 0.06 -> 0.0533, 0.0533, 0.5
    assert adjusted[0] == pytest.approx(0.04) and np.isnan(adjusted[1])
    assert adjusted[2] == pytest.approx(0.04 * 4 / 3) and adjusted[3] == pytest.approx(0.04 * 4 / 3)
    assert adjusted[4] == pytest.approx(0.5)


def test_bh_claims_are_the_tests_with_adjusted_p_under_alpha():
    rng = np.random.default_rng(3)
    for _ in range(200):
        p = rng.uniform(0, 0.2, rng.integers(1, 12)) ** rng.uniform(1, 3)
        claims = bh_claims(p, 0.05)
        assert claims == int((bh_adjust(p) <= 0.05).sum())
        assert claims == 0 or (p <= 0.05 * claims / len(p)).sum() == claims


def test_wilson_interval_against_published_values():
    # Newcombe (1998), Stat. Med. 17:857, table I: 81/263 -> 0.2553-0.3662; 0/10 -> 0-0.2775
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
