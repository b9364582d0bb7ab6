"""Significance on synthetic calendars whose answer is known, and the pieces it is built from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.correlate import SUMMARY_COLUMNS, CorrelateParams, correlate
from monitor.correlate.coincidences import EventSet
from monitor.correlate.significance import Circle, _circle_share, _trigger

T0 = pd.Timestamp("2016-01-04", tz="UTC")  # a Monday
DAYS = 4 * 364                             # 208 whole weeks
T1 = T0 + pd.Timedelta(days=DAYS)


def summary_of(outages, events, params=None, start=T0, end=T1):
    return correlate(outages, events, params or CorrelateParams(permutations=999), start, end)[1] \
        .set_index(["country", "kind", "method"])


def test_events_at_outage_starts_give_tiny_p_values(outages, events, times):
    rng = np.random.default_rng(1)
    starts = times(rng, 40, T0, DAYS)
    s = summary_of(outages(starts), events(starts[::2] - pd.Timedelta("10min")))
    row = s.loc[("SY", "opposition_event")]
    assert list(row.reset_index().columns) == [c for c in SUMMARY_COLUMNS if c not in ("country", "kind")] \
        and len(row) == 3
    assert row.loc["eca-precursor", "observed"] == 20 and row.loc["eca-precursor", "p_value"] < 1e-15
    assert row.loc["eca-trigger", "observed"] == 20 and row.loc["eca-trigger", "p_value"] < 1e-15
    perm = row.loc["permutation"]
    assert perm["permutations"] == 207                   # every other weekly rotation of 208 weeks
    assert perm["p_value"] == pytest.approx(1 / 208)     # none of them reaches 20: the smallest p possible
    assert (row["verdict"] == "significant").all()
    assert (row["rate_ratio"] > 10).all() and (row["ci_low"] > 5).all()


def _rejection_rates(outages, events, times, clustered: bool, related: float, n: int, seed: int) -> pd.DataFrame:
    """Share of n random calendars (a fraction `related` of their events at outage starts) with
    p <= 0.05 and p <= 0.5, per method."""
    rng = np.random.default_rng(seed)
    out_starts = times(rng, 100, T0, DAYS, clustered=clustered)
    out = outages(out_starts)
    p_values = []
    for _ in range(n):
        ev = times(rng, 60, T0, DAYS, clustered=clustered)
        k = int(related * len(ev))
        if k:
            ev = ev[k:].append(pd.DatetimeIndex(rng.choice(out_starts, k, replace=False)) + pd.Timedelta("1h"))
        s = summary_of(out, events(ev, kind="election"))
        p_values.append(s["p_value"].droplevel([0, 1]))
    p = pd.DataFrame(p_values)
    return pd.DataFrame({"alpha_05": (p <= 0.05).mean(), "alpha_50": (p <= 0.5).mean()})


def test_unrelated_calendars_are_rarely_significant(outages, events, times):
    """200 calendars unrelated to the outages: under the null the share with p <= 0.05 is about
    5 % (at most: counts are discrete). Binomial(200, 0.05) exceeds 20 (10 %) with probability
    3e-4, so the bound cannot pass by the luck of one draw; and at alpha 0.5 about half reject,
    so the p-values are spread over [0, 1], not stuck at 1 (a test that never rejects would fail)."""
    rates = _rejection_rates(outages, events, times, clustered=False, related=0.0, n=200, seed=11)
    assert (rates["alpha_05"] <= 0.10).all(), rates
    assert rates.loc["permutation", "alpha_05"] > 0
    assert rates["alpha_50"].between(0.3, 0.7).all(), rates


def test_permutation_test_holds_when_outages_and_events_cluster(outages, events, times):
    """Outages and events in bursts (as exam seasons and protest waves are): the rotation test keeps
    its level where an independence assumption would not."""
    rates = _rejection_rates(outages, events, times, clustered=True, related=0.0, n=200, seed=12)
    assert rates.loc["permutation", "alpha_05"] <= 0.10, rates
    assert rates.loc["permutation", "alpha_50"] >= 0.3, rates


def test_calendars_partly_placed_at_outages_are_found(outages, events, times):
    rates = _rejection_rates(outages, events, times, clustered=False, related=0.25, n=100, seed=13)
    assert (rates["alpha_05"] >= 0.9).all(), rates


def test_too_few_outages_or_events_are_said_plainly(outages, events):
    s = summary_of(outages([T0 + pd.Timedelta("10D"), T0 + pd.Timedelta("400D")]),
                   events([T0 + pd.Timedelta("10D")] * 5))
    assert (s["verdict"] == "insufficient").all()
    assert s["p_value"].isna().all() and s["p_adjusted"].isna().all()
    assert s["note"].str.startswith("too few to conclude anything: 2 outage(s)").all()
    assert (s.loc[("SY", "opposition_event", "eca-precursor"), "observed"]) == 1


def test_a_short_span_cannot_support_a_rotation_test(outages, events):
    start = T0 + pd.Timedelta("3h")
    starts = [start + pd.Timedelta(days=d) for d in range(0, 21, 2)]
    s = summary_of(outages(starts), events(starts), start=T0, end=T0 + pd.Timedelta("21D"))
    perm = s.loc[("SY", "opposition_event", "permutation")]
    assert perm["verdict"] == "insufficient" and perm["permutations"] == 2
    assert "only 3 rotation(s)" in perm["note"]
    assert s.loc[("SY", "opposition_event", "eca-precursor"), "verdict"] == "significant"


def test_random_rotations_are_reproducible_with_the_seed(outages, events, times):
    rng = np.random.default_rng(5)
    out, ev = outages(times(rng, 50, T0, 120)), events(times(rng, 40, T0, 120), kind="protest")
    hourly = dict(shift_unit=pd.Timedelta("1h"), permutations=300)
    end = T0 + pd.Timedelta("120D")
    a = summary_of(out, ev, CorrelateParams(seed=1, **hourly), end=end)
    b = summary_of(out, ev, CorrelateParams(seed=1, **hourly), end=end)
    c = summary_of(out, ev, CorrelateParams(seed=2, **hourly), end=end)
    key = ("SY", "protest", "permutation")
    assert a.loc[key, "permutations"] == 300 and a.loc[key, "seed"] == 1
    pd.testing.assert_frame_equal(a, b)
    assert a.loc[key, "expected"] != c.loc[key, "expected"]


def test_rows_per_country_kind_and_overall_with_bh(outages, events, times):
    rng = np.random.default_rng(8)
    frames_out, frames_ev = [], []
    for cc in ("SY", "IQ"):
        starts = times(rng, 30, T0, DAYS)
        frames_out.append(outages(starts, country=cc, ids=[f"{cc}{i}" for i in range(30)]))
        frames_ev += [events(starts[:10], kind="exam", country=cc), events(times(rng, 20, T0, DAYS), country=cc)]
    flags, summary = correlate(pd.concat(frames_out), pd.concat(frames_ev), CorrelateParams(permutations=999), T0, T1)
    s = summary.set_index(["country", "kind", "method"])
    cells = {(c, k) for c, k, _ in s.index}
    assert cells == {("IQ", "exam"), ("IQ", "opposition_event"), ("IQ", "all"), ("SY", "exam"),
                     ("SY", "opposition_event"), ("SY", "all"), ("all", "exam"), ("all", "opposition_event"),
                     ("all", "all")}
    for method in ("eca-precursor", "eca-trigger", "permutation"):
        rows = summary[summary["method"] == method]
        assert (rows["p_adjusted"] >= rows["p_value"] - 1e-15).all()
    # observed counts are the flags: distinct outages per cell, summed over countries overall
    for cc in ("SY", "IQ"):
        exam_flags = flags[(flags["country"] == cc) & (flags["event_kind"] == "exam")]
        assert s.loc[(cc, "exam", "eca-precursor"), "observed"] == exam_flags["outage_id"].nunique()
        assert s.loc[(cc, "exam", "eca-trigger"), "observed"] == exam_flags["event_uid"].nunique()
        assert s.loc[(cc, "all", "permutation"), "observed"] == flags[flags["country"] == cc]["outage_id"].nunique()
    assert s.loc[("all", "all", "permutation"), "observed"] == flags["outage_id"].nunique()
    assert s.loc[("all", "exam", "eca-precursor"), "verdict"] == "significant"


def test_circle_share_matches_counting_seconds():
    rng = np.random.default_rng(2)
    period = 2000
    s = np.sort(rng.integers(0, period, 12))
    reach = s + rng.integers(1, 300, 12)
    events = EventSet.build(s, reach, before=0)
    widen = np.array([0, 5, 60, 400, 1500])
    got = _circle_share(events, widen, period)
    for w, share in zip(widen, got):
        covered = np.zeros(period, bool)
        for a, b in zip(s - w, reach):
            covered[np.arange(a, b) % period] = True
        assert share == pytest.approx(covered.mean())


def test_trigger_chance_is_the_poisson_form():
    period = 1000
    kev = pd.DataFrame({"s": [100], "reach": [150], "before": [20], "region_key": [None]})
    a, d = np.array([500, 700]), np.array([10, 60])
    hit, q = _trigger(a, d, np.array([None, None], dtype=object), kev, period)
    widths = (150 - 100) + np.maximum(20, d - 1)
    assert not hit[0] and q[0] == pytest.approx(1 - np.exp(-widths.sum() / period))


def test_circle_rounds_up_to_whole_units():
    c = Circle.of(0, 10 * 86400 + 1, 7 * 86400)
    assert c.rotations == 2 and c.period == 14 * 86400


def test_rotated_counts_match_rotating_the_calendar_by_hand(outages, events, times):
    """The fast path moves outages back instead of the calendar forward, without a modulo; check it
    against rotating each event around the circle and testing every pair by the reference rule."""
    from monitor.correlate.coincidences import prepare_events, prepare_outages, related
    from monitor.correlate.significance import _country_cells
    rng = np.random.default_rng(4)
    span = 49
    out = outages(times(rng, 20, T0, span), hours=5)
    ev = pd.concat([events(times(rng, 15, T0, span), kind="exam", hours=20),
                    events(times(rng, 10, T0, span), kind="protest")], ignore_index=True)
    params = CorrelateParams()
    po, pe = prepare_outages(out), prepare_events(ev, params)
    circle = Circle.of(int(T0.timestamp()), int(T0.timestamp()) + span * 86400, 86400)
    cells, any_cell = _country_cells(po, pe, circle, np.arange(circle.rotations))
    windows = {k: tuple(int(w.total_seconds()) for w in params.window(k)) for k in ("exam", "protest")}
    for shift in range(circle.rotations):
        x = shift * circle.unit
        hit = {}
        for kind in windows:
            kev = pe[pe["kind"] == kind]
            moved = circle.start + (kev["s"].to_numpy() - circle.start + x) % circle.period
            length = kev["e"].to_numpy() - kev["s"].to_numpy()
            hit[kind] = {o.outage_id for o in po.itertuples() for s, n in zip(moved, length)
                         for copy in (-circle.period, 0, circle.period)
                         if related(o.a, o.b, s + copy, s + copy + n, *windows[kind])}
            assert cells[kind].rotated[shift] == len(hit[kind]), (kind, shift)
        assert any_cell.rotated[shift] == len(hit["exam"] | hit["protest"])
    assert 0 < any_cell.rotated.min() < any_cell.rotated.max()  # the rotations do change the count
