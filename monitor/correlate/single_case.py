"""A single case (one outage, one event): no test is possible, but a reader can weigh one figure.

The figure is the chance that an outage of the same length, placed at a random time in the span
observed for that country, would be related to at least one event of the kind, by the same rules
as the correlator: it overlaps the event, or starts at most `before` ahead of it (pre-emptive), or
at most `after` after it begins (reaction). It is a description of how crowded the calendar is,
not evidence: the case was picked because of the coincidence.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from monitor.timeutil import to_epoch

SINGLE_CASE_CAVEAT = (
    "This is not a p-value: the case was chosen because of the coincidence, so no test of chance "
    "is possible from it alone. The figure only says how often an outage of that length would "
    "meet such an event by accident, given how many events there were; a small figure makes the "
    "coincidence worth looking into, it does not show that one caused the other.")


def single_case_chance(duration: pd.Timedelta, events: pd.DataFrame, span_start: pd.Timestamp,
                       span_end: pd.Timestamp, before: pd.Timedelta, after: pd.Timedelta) -> float:
    """Share of start times t in [span_start, span_end - duration] for which an outage
    [t, t + duration) is related to at least one of `events` (an EVENT_COLUMNS frame of the
    relevant kind and country; a missing end makes an event a point in time). NaN when the span is
    shorter than the outage."""
    starts = pd.to_datetime(events["start"], utc=True)
    ends = pd.to_datetime(events["end"], utc=True).fillna(starts)
    s = to_epoch(starts) if len(events) else np.zeros(0, dtype=np.int64)
    e = to_epoch(ends) if len(events) else np.zeros(0, dtype=np.int64)
    seconds = [int(pd.Timedelta(x).total_seconds()) for x in (duration, before, after)]
    lo, hi = (int(to_epoch(pd.DatetimeIndex([_utc(t)]))[0]) for t in (span_start, span_end))
    return chance_seconds(seconds[0], s, e, lo, hi, seconds[1], seconds[2])


def chance_seconds(length: int, s: np.ndarray, e: np.ndarray, lo: int, hi: int, before: int,
                   after: int) -> float:
    """single_case_chance on unix seconds: events [s, e), span [lo, hi), outage length `length`.

    Outage [t, t + length) and event [s, e) relate (coincidences.related) when they overlap
    (s - length < t < e), or t is in [s - before, s] (pre-emptive) or [s, s + after] (reaction):
    together one interval of t per event, from min(s - length, s - before) to max(e, s + after).
    """
    length = max(int(length), 1)
    last = hi - length
    if last <= lo:
        return math.nan
    first = np.minimum(s - length, s - before)
    stop = np.maximum(np.maximum(e, s), s + after)
    return float(_union_length(np.clip(first, lo, last), np.clip(stop, lo, last)) / (last - lo))


def _utc(t) -> pd.Timestamp:
    t = pd.Timestamp(t)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _union_length(first: np.ndarray, stop: np.ndarray) -> int:
    """Total length of the union of the intervals [first, stop)."""
    if len(first) == 0:
        return 0
    order = np.argsort(first, kind="stable")
    first, stop = first[order], stop[order]
    reach = np.maximum.accumulate(stop)
    gaps = np.maximum(first[1:] - reach[:-1], 0)
    return int(max(reach[-1] - first[0] - gaps.sum(), 0))
