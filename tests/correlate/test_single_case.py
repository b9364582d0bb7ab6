"""The single-case chance against a brute-force count of start times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.correlate.coincidences import related
from monitor.correlate.single_case import SINGLE_CASE_CAVEAT, single_case_chance
from monitor.errors import InputError

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


def test_no_events_no_chance_and_an_outage_longer_than_the_span_is_refused(events):
    assert single_case_chance(pd.Timedelta("1h"), events([]), T, T + pd.Timedelta("1D"),
                              pd.Timedelta("1h"), pd.Timedelta("1h")) == 0.0
    with pytest.raises(InputError, match="does not fit"):
        single_case_chance(pd.Timedelta("2D"), events([T]), T, T + pd.Timedelta("1D"),
                           pd.Timedelta("1h"), pd.Timedelta("1h"))


def test_caveat_says_it_is_not_a_p_value():
    assert "not a p-value" in SINGLE_CASE_CAVEAT and "chosen because of the coincidence" in SINGLE_CASE_CAVEAT
