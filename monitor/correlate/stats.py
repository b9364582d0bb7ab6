"""Small exact distributions for coincidence counts (no SciPy): Poisson and Poisson-binomial
upper tails, the exact (Garwood) Poisson confidence interval, and Benjamini-Hochberg adjustment."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

# Above this many (trials x count) steps the Poisson-binomial tail is replaced by the Poisson tail
# with the same mean, which is never smaller in the upper tail (Hoeffding 1956), so p stays honest.
EXACT_WORK_LIMIT = 5_000_000


def poisson_sf(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam), accurate far into the tail."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    if k <= lam:
        x = np.arange(k)
        return float(max(0.0, 1.0 - np.exp(_log_pmf(x, lam)).sum()))
    top = int(k + 40 * math.sqrt(k) + 100)
    return float(min(1.0, np.exp(_log_pmf(np.arange(k, top), lam)).sum()))


def poisson_binomial_sf(k: int, probs: np.ndarray) -> float:
    """P(K >= k) where K is a sum of independent Bernoulli(probs) (binomial when all are equal)."""
    probs = np.clip(np.asarray(probs, dtype=float), 0.0, 1.0)
    if k <= 0:
        return 1.0
    if k > len(probs):
        return 0.0
    if len(probs) * k > EXACT_WORK_LIMIT:
        return poisson_sf(k, float(probs.sum()))
    pmf = np.zeros(k)      # P(K = 0..k-1) so far
    pmf[0] = 1.0
    tail = 0.0             # P(K >= k) so far, kept apart so tiny tails are not lost to 1 - cdf
    for p in probs:
        tail += pmf[-1] * p
        pmf[1:] = pmf[1:] * (1.0 - p) + pmf[:-1] * p
        pmf[0] *= 1.0 - p
    return float(min(1.0, tail))


@lru_cache(maxsize=4096)
def poisson_ci(k: int, level: float) -> tuple[float, float]:
    """Exact two-sided confidence interval for a Poisson mean after observing k events."""
    tail = (1.0 - level) / 2.0
    low = 0.0 if k == 0 else _solve(lambda m: poisson_sf(k, m) - tail, 0.0, k)
    high = _solve(lambda m: tail - (1.0 - poisson_sf(k + 1, m)), float(k), k + 20 * math.sqrt(k + 1) + 20)
    return low, high


def bh_adjust(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN entries are not tests and stay NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    if len(tested) == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    m = len(order)
    scaled = p[order] * m / np.arange(1, m + 1)
    out[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return out


def _log_pmf(x: np.ndarray, lam: float) -> np.ndarray:
    return x * math.log(lam) - lam - _log_factorials(int(x[-1]) + 1)[x]


@lru_cache(maxsize=8)
def _log_factorials(n: int) -> np.ndarray:
    """log(x!) for x = 0 .. at least n-1 (sizes rounded up to powers of two so the cache is reused)."""
    size = 1 << max(10, (n - 1).bit_length())
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, size)))])


def _solve(f, lo: float, hi: float) -> float:
    """Root of an increasing function on [lo, hi] by bisection (to 1e-10 relative)."""
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if f(mid) > 0:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-10 * max(1.0, hi):
            break
    return (lo + hi) / 2.0
