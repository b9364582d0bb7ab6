"""How often an outage of a given length, placed at a random time, would coincide with an event.

For a single case (one outage, one or two events: too few for a test over many outages) the honest
figure is a share of time, not a p-value: of all start times in the span, the share at which an
outage as long as the observed one relates to at least one event of the calendar. A pure function
of the outage's length, the events and the coincidence window.
"""

from __future__ import annotations

import pandas as pd

SINGLE_CASE_CAVEAT = ("This share describes timing only: the case was chosen because of the coincidence, "
                      "so it is not a p-value, and a coincidence in time does not show that one caused the other.")


def single_case_chance(duration: pd.Timedelta, events: pd.DataFrame, span_start: pd.Timestamp,
                       span_end: pd.Timestamp, before: pd.Timedelta, after: pd.Timedelta) -> float:
    """Share of start times t in [span_start, span_end - duration] for which [t, t + duration)
    overlaps [event.start - before, event.end + after) of at least one event (an event without
    an end lasts an instant). NaN when the span is shorter than the outage."""
    room = (span_end - span_start - duration).total_seconds()
    if room <= 0:
        return float("nan")
    if events.empty:
        return 0.0
    ends = events["end"].where(events["end"].notna(), events["start"])
    # [t, t + d) overlaps [a, b) exactly when a - d < t < b
    lo = (events["start"] - before - duration).clip(lower=span_start)
    hi = (ends + after).clip(upper=span_end - duration)
    intervals = sorted((a, b) for a, b in zip(lo, hi) if b > a)
    covered, reach = 0.0, None
    for a, b in intervals:
        if reach is not None and a < reach:
            a = reach
        if b > a:
            covered += (b - a).total_seconds()
            reach = b
    return covered / room
