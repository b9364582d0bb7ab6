"""The single-case chance: the share of start times at which an outage of the observed length
would relate to at least one event, checked against hand-computed intervals."""

import math

import pandas as pd
import pytest

from monitor.correlate.single_case import SINGLE_CASE_CAVEAT, single_case_chance

T = pd.Timestamp
H = pd.Timedelta("1h")


def _events(*spans):
    return pd.DataFrame([{"start": T(a), "end": T(b) if b else pd.NaT} for a, b in spans],
                        columns=["start", "end"])


def test_share_of_start_times_by_hand():
    # span 0..100 h, outage 1 h, so start times 0..99 h; one event 10..20 h with 2 h before and 3 h after:
    # the outage relates when t in (8 - 1, 23) h, 16 h of 99
    events = _events(("2020-01-01T10:00Z", "2020-01-01T20:00Z"))
    share = single_case_chance(H, events, T("2020-01-01T00:00Z"), T("2020-01-01T00:00Z") + 100 * H, 2 * H, 3 * H)
    assert share == pytest.approx(16 / 99)


def test_overlapping_events_count_once_and_edges_are_clipped():
    events = _events(("2020-01-01T10:00Z", "2020-01-01T20:00Z"), ("2020-01-01T15:00Z", None),
                     ("2019-12-31T23:00Z", "2020-01-01T01:00Z"))
    lo = T("2020-01-01T00:00Z")
    share = single_case_chance(H, events, lo, lo + 100 * H, pd.Timedelta(0), pd.Timedelta(0))
    # (9, 20) and [0, 1): 11 h + 1 h of 99 h; the instant at 15 h lies inside the first
    assert share == pytest.approx(12 / 99)


def test_no_events_and_a_span_shorter_than_the_outage():
    lo = T("2020-01-01T00:00Z")
    assert single_case_chance(H, _events(), lo, lo + 10 * H, H, H) == 0.0
    assert math.isnan(single_case_chance(20 * H, _events(("2020-01-01T01:00Z", None)), lo, lo + 10 * H, H, H))
    assert "not a p-value" in SINGLE_CASE_CAVEAT
