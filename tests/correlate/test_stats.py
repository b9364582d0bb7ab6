"""The small exact distributions behind the p-values and intervals."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from monitor.correlate import stats
from monitor.correlate.stats import bh_adjust, poisson_binomial_sf, poisson_ci, poisson_sf


def test_poisson_sf_against_the_sum_of_terms():
    for lam in (0.3, 4.0, 37.5):
        for k in (0, 1, 3, 10, 60):
            direct = sum(math.exp(x * math.log(lam) - lam - math.lgamma(x + 1)) for x in range(k, 400))
            assert poisson_sf(k, lam) == pytest.approx(direct, rel=1e-9, abs=1e-300)
    assert poisson_sf(50, 1.0) == pytest.approx(math.exp(-1) / math.factorial(50), rel=0.05)  # far tail kept
    assert poisson_sf(3, 0.0) == 0.0


def test_poisson_binomial_sf_against_enumeration():
    probs = np.array([0.05, 0.5, 0.9, 0.2, 0.33, 0.01, 0.7, 0.15])
    pmf = np.zeros(len(probs) + 1)
    for outcome in itertools.product([0, 1], repeat=len(probs)):
        pmf[sum(outcome)] += np.prod([p if o else 1 - p for p, o in zip(probs, outcome)])
    for k in range(len(probs) + 2):
        assert poisson_binomial_sf(k, probs) == pytest.approx(pmf[k:].sum(), abs=1e-12)


def test_poisson_binomial_is_binomial_when_chances_are_equal_and_keeps_tiny_tails():
    n, p = 40, 0.1
    assert poisson_binomial_sf(30, np.full(n, p)) == pytest.approx(
        sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(30, n + 1)), rel=1e-9)
    assert 0 < poisson_binomial_sf(40, np.full(n, p)) == pytest.approx(1e-40, rel=1e-6)


def test_large_poisson_binomial_falls_back_to_the_poisson_tail_which_is_not_smaller(monkeypatch):
    probs = np.full(200, 0.05)
    exact = poisson_binomial_sf(25, probs)
    monkeypatch.setattr(stats, "EXACT_WORK_LIMIT", 10)
    approx = poisson_binomial_sf(25, probs)
    assert approx == pytest.approx(poisson_sf(25, 10.0)) and approx >= exact


@pytest.mark.parametrize("k, low, high", [(0, 0.0, 3.6889), (1, 0.0253, 5.5716), (10, 4.7954, 18.3904)])
def test_exact_poisson_interval(k, low, high):
    got = poisson_ci(k, 0.95)
    assert got[0] == pytest.approx(low, abs=1e-4) and got[1] == pytest.approx(high, abs=1e-4)


def test_benjamini_hochberg():
    got = bh_adjust(np.array([0.01, 0.04, 0.03, 0.005, np.nan]))
    assert got[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02]) and np.isnan(got[4])
    assert np.isnan(bh_adjust(np.array([np.nan]))).all()
