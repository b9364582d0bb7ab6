"""Small exact helpers (no SciPy): Benjamini-Hochberg adjustment and the Wilson interval of a rate."""

from __future__ import annotations

import math

import numpy as np


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


def bh_claims(p_values: np.ndarray, alpha: float) -> int:
    """R, the number of claims Benjamini-Hochberg makes at `alpha`: the largest k with
    p_(k) <= alpha k / m. The claims are exactly the tests with p <= alpha R / m."""
    p = np.sort(np.asarray(p_values, dtype=float))
    m = len(p)
    below = np.flatnonzero(p <= alpha * np.arange(1, m + 1) / m) if m else []
    return int(below[-1]) + 1 if len(below) else 0


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson 1927), good for rates near 0."""
    if trials == 0:
        return 0.0, 1.0
    z = _normal_quantile(0.5 + level / 2)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def _normal_quantile(q: float) -> float:
    """Standard normal quantile by bisection on erf (plenty for interval levels)."""
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
