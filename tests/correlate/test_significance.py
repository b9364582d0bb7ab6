"""Verdicts on synthetic calendars whose answer is known: one row per relation, one BH family,
intervals that agree with verdicts, fragility, too little data, single cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.correlate import SUMMARY_COLUMNS, CorrelateParams, correlate
from monitor.correlate.significance import excess_interval

T0 = pd.Timestamp("2016-01-04", tz="UTC")
DAYS = 365
T1 = T0 + pd.Timedelta(days=DAYS)


def summary_of(outages, events, params=None, start=T0, end=T1):
    return correlate(outages, events, params or CorrelateParams(), start, end)[1]


def by_relation(summary, country="SY", kind="opposition_event"):
    return summary[(summary["country"] == country) & (summary["kind"] == kind)].set_index("relation")


def test_reactions_to_events_are_found_with_the_smallest_p(outages, events, times):
    rng = np.random.default_rng(1)
    starts = times(rng, 40, T0, DAYS - 2)
    s = summary_of(outages(starts), events(starts[::2] - pd.Timedelta("40min")))
    assert list(s.columns) == SUMMARY_COLUMNS and len(s) == 3
    after = by_relation(s).loc["after"]                    # outages begin 40 min after 20 of the events
    assert after["observed"] == 20 and after["verdict"] == "significant"
    # only the calendar itself and its shifts 1 h and 2 h earlier keep every event within 3 h
    # before its outage: no other shift comes close
    assert after["p_value"] == pytest.approx(3 / after["shifts"])
    assert after["shift_unit"] == "1h" and after["shifts"] == DAYS * 24   # no daily rhythm: hourly shifts
    assert after["ci_low"] >= 10 and after["ci_high"] <= 20 and after["excess"] > 15
    assert by_relation(s).loc["before", "verdict"] == "not significant"
    assert (s["tests"] == 3).all() and set(s["relation"]) == {"during", "before", "after"}


def test_the_span_is_not_padded_and_expected_is_the_mean_over_every_shift(outages, events):
    """8 days of data at all times of day: the calendar wraps at 8 days (not 14), and the expected
    count is the average of the count over all 192 hourly shifts, computed here by brute force."""
    start = T0 + pd.Timedelta("30min")
    out_starts = [start + pd.Timedelta(hours=h) for h in (1, 28, 55, 82, 109, 136, 163, 186)]
    ev_starts = [start + pd.Timedelta(hours=h) for h in (2, 31, 68, 105, 142)]
    s = by_relation(summary_of(outages(out_starts, hours=2), events(ev_starts, kind="protest"),
                               start=T0, end=T0 + pd.Timedelta("8D")), kind="protest")
    period = 8 * 24
    a = np.array([(t - T0) / pd.Timedelta("1h") for t in out_starts])
    e = np.array([(t - T0) / pd.Timedelta("1h") for t in ev_starts])
    counts = [sum(any(0 < ((x + k) % period) - o <= 2 for x in e) for o in a) for k in range(period)]
    assert s.loc["before", "shifts"] == period
    assert s.loc["before", "expected"] == pytest.approx(np.mean(counts))


def test_interval_excludes_no_effect_exactly_when_significant(outages, events, times):
    rng = np.random.default_rng(4)
    seen = set()
    for i in range(40):
        starts = times(rng, 30, T0, DAYS - 2, clustered=i % 2 == 0)
        ev = times(rng, 20, T0, DAYS - 2)
        k = i % 5  # 0 to 4 events placed just after an outage start
        if k:
            ev = ev[k:].append(pd.DatetimeIndex(starts[:k]) + pd.Timedelta("10min"))
        s = summary_of(outages(starts), events(ev.sort_values(), kind="protest"))
        tested = s[s["p_value"].notna()]
        assert ((tested["ci_low"] > 0) == (tested["verdict"] == "significant")).all(), tested
        assert (tested["ci_low"] <= tested["excess"] + 1).all() and (tested["excess"] - 1 <= tested["ci_high"]).all()
        seen |= set(tested["verdict"])
    assert seen == {"significant", "not significant"}


def test_excess_interval_inverts_the_shift_test():
    counts = np.array([7] + [0] * 50 + [1] * 30 + [2] * 15 + [3] * 4)  # observed 7, null mostly 0-3
    assert excess_interval(counts, 0.05) == (7 - 3 + 1, 7 + 1 - 1)     # P(count >= 3) = 5/100 <= 0.05
    assert excess_interval(counts, 0.01)[0] == 7 - 4 + 1               # 3 is not beyond 1 %: 4 is


def test_a_verdict_that_flips_with_the_window_is_fragile(outages, events, times):
    """Outages 4-5 h before exams: pre-emptive at the default 6 h window and at 12 h, not at 3 h."""
    rng = np.random.default_rng(6)
    ev = times(rng, 20, T0, DAYS - 2)
    starts = (ev - pd.to_timedelta(rng.uniform(4, 5, 20), unit="h")).append(times(rng, 20, T0, DAYS - 2))
    s = by_relation(summary_of(outages(starts.sort_values(), hours=1), events(ev, kind="exam")), kind="exam")
    before = s.loc["before"]
    assert before["window"] == "6h"
    assert (before["verdict"], before["verdict_half"], before["verdict_double"]) == \
        ("significant", "not significant", "significant")
    assert before["fragile"] and "fragile" in before["note"]
    assert not s.loc["during", "fragile"]


def test_too_few_episodes_or_events_get_neither_p_nor_interval(outages, events):
    s = by_relation(summary_of(outages([T0 + pd.Timedelta("10D"), T0 + pd.Timedelta("100D")]),
                               events([T0 + pd.Timedelta("10D")] * 5)))
    assert (s["verdict"] == "insufficient data").all()
    assert s[["p_value", "p_adjusted", "ci_low", "ci_high"]].isna().all().all()
    assert s["note"].str.contains("too few to test: 2 episode").all()
    assert s.loc["during", "observed"] == 1


def test_a_short_span_with_a_daily_rhythm_is_too_short(outages, events):
    """Nightly cuts over 12 days: shifts by whole days only, 12 of them, p cannot reach 0.05."""
    starts = [T0 + pd.Timedelta(days=d, hours=1) for d in range(12)]
    s = by_relation(summary_of(outages(starts), events(starts), start=T0, end=T0 + pd.Timedelta("12D")))
    assert (s["verdict"] == "insufficient data").all() and (s["shift_unit"] == "1D").all()
    assert s["note"].str.contains("allows 12 shift").all()


def test_episodes_count_once(outages, events, times):
    """Each outage reported four times (a national and three regional rows): 10 episodes, not 40."""
    rng = np.random.default_rng(9)
    starts = times(rng, 10, T0, DAYS - 2)
    rows = pd.concat([outages(starts, region=r, ids=[f"{r}{i}" for i in range(10)])
                      for r in ("Nationwide", "Zulia", "Mérida", "Táchira")], ignore_index=True)
    s = summary_of(rows, events(times(rng, 12, T0, DAYS - 2)))
    assert (s["n_outages"] == 40).all() and (s["n_episodes"] == 10).all()


def test_asn_outages_count_for_the_country_column(outages, events, times):
    rng = np.random.default_rng(10)
    starts = times(rng, 12, T0, DAYS - 2)
    asn = outages(starts).assign(entity="asn/12345", country="SY")
    s = summary_of(asn, events(starts + pd.Timedelta("30min")))
    assert by_relation(s).loc["before", "n_episodes"] == 12
    assert by_relation(s).loc["before", "verdict"] == "significant"


def test_one_family_over_countries_and_kinds_without_pooled_rows(outages, events, times):
    rng = np.random.default_rng(8)
    frames_out, frames_ev = [], []
    for cc in ("SY", "IQ"):
        starts = times(rng, 30, T0, DAYS - 2)
        frames_out.append(outages(starts, country=cc, ids=[f"{cc}{i}" for i in range(30)]))
        frames_ev += [events(starts[:10], kind="exam", country=cc), events(times(rng, 20, T0, DAYS - 2), country=cc)]
    s = summary_of(pd.concat(frames_out, ignore_index=True), pd.concat(frames_ev, ignore_index=True))
    assert len(s) == 12 and (s["tests"] == 12).all() and "all" not in set(s["country"]) | set(s["kind"])
    p = s["p_value"].to_numpy()
    order = np.argsort(p)
    assert np.all(np.diff(s["p_adjusted"].to_numpy()[order]) >= 0)   # BH keeps the order of p
    assert (s.loc[s["kind"] == "exam"].set_index(["country", "relation"]).loc[
        [("SY", "during"), ("IQ", "during")], "verdict"] == "significant").all()


def test_a_single_outage_is_a_single_case_with_its_chance(outages, events):
    s = summary_of(outages([T0 + pd.Timedelta("100D 5h")], hours=1),
                   events([T0 + pd.Timedelta(days=d) for d in (20, 100, 200)], kind="protest"))
    [row] = s.to_dict("records")
    assert row["verdict"] == "single case" and row["relation"] == "any" and row["observed"] == 1
    assert np.isnan(row["p_value"]) and np.isnan(row["ci_low"])
    # each 1 h event relates the starts from 2 h before it (protest: before 2h) to 12 h after it:
    # 14 h of the 364 d 23 h where a 1 h outage can start
    assert row["chance"] == pytest.approx(3 * 14 * 3600 / (DAYS * 86400 - 3600))
    assert "not a p-value" in row["note"]
