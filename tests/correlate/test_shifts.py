"""The shift null: counts at every shift against a brute-force loop, and the daily rhythm test."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.correlate import shifts
from monitor.correlate.shifts import DAY, HOUR, RELATIONS, Pairs, ShiftGrid, daily_rhythm_p, shifted_counts


def brute_counts(a, d, episode, s, e, relation, window, grid):
    """Shift the calendar by each grid step around the circle and count related episodes."""
    T, out = grid.period, []
    for k in range(grid.size):
        hit = set()
        for i in range(len(a)):
            for j in range(len(s)):
                for image in (-T, 0, T):
                    start = (s[j] + k * grid.unit) % T + image
                    end = start + e[j] - s[j]
                    if relation == "during":
                        ok = start < a[i] + d[i] and end > a[i]
                    elif relation == "before":
                        ok = a[i] < start <= a[i] + window
                    else:
                        ok = a[i] - window <= start <= a[i]
                    if ok:
                        hit.add(episode[i])
        out.append(len(hit))
    return out


@pytest.mark.parametrize("block", [4_000_000, 7])   # 7: difference arrays in blocks of one episode
def test_counts_at_every_shift_match_a_brute_force_loop(monkeypatch, block):
    monkeypatch.setattr(shifts, "_BLOCK", block)
    rng = np.random.default_rng(2)
    for _ in range(25):
        n, m = rng.integers(1, 7, 2)
        T = int(rng.integers(3, 30)) * HOUR
        a, d = rng.integers(0, T, n), rng.integers(1, T // 2, n)
        episode = np.unique(np.sort(rng.integers(0, n, n)), return_inverse=True)[1]
        s = rng.integers(0, T, m)
        e = s + rng.integers(1, T // 3, m)
        grid = ShiftGrid(0, T, int(rng.choice([600, HOUR, 2 * HOUR])))
        pairs = Pairs.build(a, d, episode, s, e, None)
        for relation in RELATIONS:
            window = int(rng.integers(0, 4 * HOUR))
            assert list(shifted_counts(pairs, relation, window, grid)) == \
                brute_counts(a, d, episode, s, e, relation, window, grid)


def test_grid_is_hourly_or_daily_and_coarsens_to_stay_within_the_cap():
    assert ShiftGrid.of(0, 10 * DAY, daily=False, most=10_000).size == 240
    assert ShiftGrid.of(0, 10 * DAY + 5 * HOUR, daily=True, most=10_000).size == 11   # last shift 10 D < span
    wide = ShiftGrid.of(0, 4000 * DAY, daily=True, most=1000)
    assert wide.unit == 4 * DAY and wide.size == 1000


def test_daily_rhythm_is_seen_in_nightly_or_midnight_times_and_not_in_uniform_ones():
    rng = np.random.default_rng(3)
    nights = np.arange(30) * DAY + rng.integers(0, 3 * HOUR, 30)
    midnights = np.arange(10) * DAY
    twice_a_day = np.concatenate([nights, nights + 12 * HOUR])    # second harmonic only
    uniform = rng.integers(0, 365 * DAY, 200)
    assert daily_rhythm_p(nights) < 1e-6 and daily_rhythm_p(midnights) < 1e-3
    assert daily_rhythm_p(twice_a_day) < 1e-6
    p_uniform = [daily_rhythm_p(rng.integers(0, 365 * DAY, 40)) for _ in range(500)]
    assert 0.1 < np.mean(np.array(p_uniform) < 0.2) < 0.3 and daily_rhythm_p(uniform) > 0.01
