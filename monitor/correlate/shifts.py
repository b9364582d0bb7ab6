"""The null model: the observed outages stay exactly where they are (times, lengths, clustering,
daily rhythm) and the calendar of one event kind is shifted as a whole around the observed span
[start, start + period), wrapping at its end (a circular shift, which keeps the calendar's own
clustering). Every shift on a grid of whole `unit`s is evaluated, so the test is exact: p is the
share of shifts giving at least the observed count, the observed calendar (shift 0) included.

The grid's unit is one hour, or one day when the outages or the events follow a daily rhythm (an
all-day calendar, nightly cuts, exams every morning): shifting by hours would move the calendar to
times of day it never has, and the null would count coincidences that could never happen.
Shifting by whole days is always valid, so a rhythm is assumed whenever the data do not make its
absence plain (RHYTHM_P). When more shifts fit than `most`, the unit grows to a whole multiple.

For one (outage, event) pair the shifts x at which they relate form one interval; marking those
intervals per episode (directly when they are few, else with a difference array per episode) gives
the count at every shift at once: work grows with outages x events (plus episodes x shifts), not
with outages x events x shifts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from monitor.errors import InputError

DAY = 86400
HOUR = 3600
# A daily rhythm is assumed unless the times of day look uniform at this level. A wrong "rhythm"
# only coarsens the grid (day shifts are always valid); a missed one biases the null, hence the
# liberal level. benchmarks/calibration.py measures the resulting false-claim rates.
RHYTHM_P = 0.2
RELATIONS = ("during", "before", "after")
MAX_PAIRS = 50_000_000  # about 2 GB of pair arrays
_BLOCK = 4_000_000  # pairs or (episode x shift) cells handled at once


def daily_rhythm_p(times: np.ndarray) -> float:
    """p-value of "times of day are uniform": a Rayleigh-type test on the first two daily harmonics
    (2|sum exp(i k phase)|^2 / n is about chi-square(2) for each k, so their sum chi-square(4))."""
    n = len(times)
    if n < 2:
        return 1.0
    phase = 2 * np.pi * (np.asarray(times, dtype=np.int64) % DAY) / DAY
    stat = sum(2.0 * (np.cos(k * phase).sum() ** 2 + np.sin(k * phase).sum() ** 2) / n for k in (1, 2))
    return float(math.exp(-stat / 2) * (1 + stat / 2))


@dataclass(frozen=True)
class ShiftGrid:
    """Shifts 0, unit, 2 unit, ... (< period) of a calendar around [start, start + period)."""

    start: int
    period: int
    unit: int

    @classmethod
    def of(cls, start: int, end: int, daily: bool, most: int) -> "ShiftGrid":
        base = DAY if daily else HOUR
        period = int(end - start)
        return cls(int(start), period, base * max(1, math.ceil(math.ceil(period / base) / most)))

    @property
    def size(self) -> int:
        return -(-self.period // self.unit)


@dataclass(frozen=True)
class Pairs:
    """Every (outage, event) pair of one country and kind whose places match: c = a - s, the
    outage's length d, the event's length, and the outage's episode (0..n_episodes-1)."""

    c: np.ndarray
    d: np.ndarray
    length: np.ndarray
    episode: np.ndarray
    n_episodes: int

    @classmethod
    def build(cls, a, d, episode, s, e, place_ok) -> "Pairs":
        """`place_ok[i, j]`: may outage i relate to event j (regions); None when all may."""
        if len(a) * len(s) > MAX_PAIRS:
            raise InputError(f"{len(a):,} outages x {len(s):,} events of one country and kind is more "
                             f"than {MAX_PAIRS:,} pairs: narrow the span or the countries")
        i, j = np.divmod(np.arange(len(a) * len(s)), len(s)) if len(s) else (np.zeros(0, int),) * 2
        if place_ok is not None:
            keep = place_ok[i, j]
            i, j = i[keep], j[keep]
        n = int(episode.max()) + 1 if len(episode) else 0
        return cls(a[i] - s[j], d[i], (e - s)[j], episode[i], n)


def intervals(pairs: Pairs, relation: str, window: int) -> tuple[np.ndarray, np.ndarray]:
    """For each pair, the shifts [lo, hi) of the calendar at which outage and event relate.

    during: they overlap; before: the outage starts at most `window` ahead of the event
    (pre-emptive); after: the outage starts at most `window` after the event begins (reaction).
    """
    c = pairs.c
    if relation == "during":
        return c - pairs.length + 1, c + pairs.d
    if relation == "before":
        return c + 1, c + window + 1
    if relation == "after":
        return c - window, c + 1
    raise ValueError(f"unknown relation {relation!r}")


def shifted_counts(pairs: Pairs, relation: str, window: int, grid: ShiftGrid) -> np.ndarray:
    """Episodes related to at least one event, at every shift of the grid (index 0: observed)."""
    size = grid.size
    counts = np.zeros(size, dtype=np.int64)
    if pairs.n_episodes == 0 or len(pairs.c) == 0:
        return counts
    first, last, episode = _grid_ranges(*intervals(pairs, relation, window), pairs.episode, grid)
    cells = pairs.n_episodes * size
    if cells <= 8 * _BLOCK and (last - first).sum() <= cells // 8:  # few (episode, shift) hits: mark them
        hit = np.zeros(cells, dtype=bool)
        hit[_expand(first, last, episode * size)] = True
        return np.count_nonzero(hit.reshape(pairs.n_episodes, size), axis=0)
    order = np.argsort(episode, kind="stable")  # else a difference array per episode, in blocks
    first, last, episode = first[order], last[order], episode[order]
    rows_per_block = max(1, _BLOCK // (size + 1))
    bounds = np.searchsorted(episode, np.arange(0, pairs.n_episodes + rows_per_block, rows_per_block))
    for block, (p, q) in enumerate(zip(bounds[:-1], bounds[1:])):
        if p < q:
            rows = episode[p:q] - block * rows_per_block
            counts += _difference_counts(first[p:q], last[p:q], rows, rows_per_block, size)
    return counts


def _grid_ranges(lo, hi, episode, grid: ShiftGrid):
    """Shift intervals [lo, hi) (seconds, any phase) as ranges of grid indices [first, last),
    wrapped around the period (an interval past its end gives a second range from 0); empty
    ranges dropped."""
    size, unit, period = grid.size, grid.unit, grid.period
    length = np.minimum(hi - lo, period)
    keep = length > 0
    lo, length, episode = lo[keep], length[keep], episode[keep]
    p = np.mod(lo, period)
    q = p + length
    full = length >= period
    wraps = (q > period) & ~full
    first = np.concatenate([np.where(full, 0, -(-p // unit)), np.zeros(wraps.sum(), dtype=np.int64)])
    last = np.concatenate([np.where(full, size, np.minimum(-(-q // unit), size)),
                           np.minimum(-(-(q[wraps] - period) // unit), size)])
    rows = np.concatenate([episode, episode[wraps]])
    nonempty = last > first
    return first[nonempty], last[nonempty], rows[nonempty]


def _expand(first: np.ndarray, last: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """offset + k for every k in every range [first, last)."""
    widths = last - first
    starts = np.repeat(first + offset - np.cumsum(widths) + widths, widths)
    return starts + np.arange(widths.sum())


def _difference_counts(first, last, rows, n_rows: int, size: int) -> np.ndarray:
    """Shift counts for a block of episodes, by a difference array per episode."""
    width = size + 1
    diff = np.bincount(rows * width + first, minlength=n_rows * width) \
        - np.bincount(rows * width + last, minlength=n_rows * width)
    return (np.cumsum(diff.reshape(n_rows, width), axis=1)[:, :size] > 0).sum(axis=0)
