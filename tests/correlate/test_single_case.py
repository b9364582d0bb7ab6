"""The single-case chance against a brute-force count of start times."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from monitor.correlate.coincidences import related
from monitor.correlate.single_case import SINGLE_CASE_CAVEAT, single_case_chance

T = pd.Timestamp("2020-09-10", tz="UTC")


def test_chance_equals_the_share_of_start_times_that_relate(events):
    ev = events([T + pd.Timedelta("2D 3h"), T + pd.Timedelta("2D 5h"), T + pd.Timedelta("6D")], hours=2)
    ev.loc[2, "end"] = pd.NaT  # a point in time
    got = single_case_chance(pd.Timedelta("90min"), ev, T, T + pd.Timedelta("8D"),
                             pd.Timedelta("2h"), pd.Timedelta("3h"))
    s = ((ev["start"] - T).dt.total_seconds()).astype(int).to_numpy()
    e = ((ev["end"].fillna(ev["start"]) - T).dt.total_seconds()).astype(int).to_numpy()
    length, last = 5400, 8 * 86400 - 5400
    starts = np.arange(0, last, 60)  # every minute
    hits = [any(related(t, t + length, si, ei, 7200, 10800) for si, ei in zip(s, e)) for t in starts]
    assert got == pytest.approx(np.mean(hits), abs=2e-3)


def test_no_events_no_chance_and_an_outage_longer_than_the_span_has_none(events):
    assert single_case_chance(pd.Timedelta("1h"), events([]), T, T + pd.Timedelta("1D"),
                              pd.Timedelta("1h"), pd.Timedelta("1h")) == 0.0
    assert math.isnan(single_case_chance(pd.Timedelta("2D"), events([T]), T, T + pd.Timedelta("1D"),
                                         pd.Timedelta("1h"), pd.Timedelta("1h")))


def test_by_hand_a_reaction_counts_from_the_event_start_not_its_end(events):
    """Span 100 h, outage 1 h (starts 0..99 h), an event 10-20 h, 2 h before and 3 h after: related
    for t in [8 h, 20 h): pre-emptive from 8 h, overlapping from 9 h to 20 h; the reaction window
    (10-13 h) lies inside. 12 h of 99 h."""
    ev = events([T + pd.Timedelta("10h")], hours=10)
    share = single_case_chance(pd.Timedelta("1h"), ev, T, T + pd.Timedelta("100h"), pd.Timedelta("2h"),
                               pd.Timedelta("3h"))
    assert share == pytest.approx(12 / 99)


def test_caveat_says_it_is_not_a_p_value():
    assert "not a p-value" in SINGLE_CASE_CAVEAT and "chosen because of the coincidence" in SINGLE_CASE_CAVEAT
