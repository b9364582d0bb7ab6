"""Coincidence flags: relations, offsets, windows, local days, regions, and the vectorised search
checked pair by pair against the reference rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.correlate.coincidences import (find_coincidences, prepare_events, prepare_outages,
                                            region_key, related, same_place)
from monitor.correlate.params import CorrelateParams
from monitor.frames import COINCIDENCE_COLUMNS

T = pd.Timestamp("2020-09-16 12:00", tz="UTC")
H = pd.Timedelta("1h")


def flags(outages, events, params=None):
    params = params or CorrelateParams()
    return find_coincidences(prepare_outages(outages), prepare_events(events, params))


def test_relations_and_offsets(outages, events):
    # opposition_event default windows: 2 h before, 3 h after; event 12:00-13:00
    out = outages([T - 90 * pd.Timedelta("1min"), T + 30 * pd.Timedelta("1min"), T - 5 * H, T + 2 * H,
                   T + 2.5 * H, T - 3 * H, T + 4 * H], hours=0.5)
    got = flags(out, events([T], hours=1.0))
    assert list(got.columns) == COINCIDENCE_COLUMNS
    assert dict(zip(got["outage_id"], got["relation"])) == {
        "o0": "before", "o1": "during", "o3": "after", "o4": "after"}
    assert dict(zip(got["outage_id"], got["offset_minutes"])) == {"o0": -90.0, "o1": 30.0, "o3": 120.0, "o4": 150.0}


def test_outage_that_began_long_before_and_covers_the_event_is_during(outages, events):
    got = flags(outages([T - 10 * H], hours=12), events([T]))
    assert got["relation"].tolist() == ["during"] and got["offset_minutes"].tolist() == [-600.0]


def test_ongoing_outage_covers_later_events(outages, events):
    out = outages([T - 10 * H], hours=None)
    got = find_coincidences(prepare_outages(out, until=int((T + 48 * H).timestamp())),
                            prepare_events(events([T + 30 * H]), CorrelateParams()))
    assert got["relation"].tolist() == ["during"]
    assert got["outage_end"].isna().all()


def test_windows_per_kind_and_global_override(outages, events):
    out = outages([T - 5 * H, T - 7 * H], hours=1)
    exam = events([T], kind="exam")
    assert flags(out, exam)["outage_id"].tolist() == ["o0"]                 # exam: 6 h before
    assert flags(out, events([T], kind="protest")).empty                   # protest: 2 h before
    wide = CorrelateParams(window_before=pd.Timedelta("8h"))
    assert sorted(flags(out, exam, wide)["outage_id"]) == ["o0", "o1"]
    custom = CorrelateParams(windows={"exam": {"before": "30m"}})
    assert flags(out, exam, custom).empty
    assert custom.window("exam")[1] == pd.Timedelta("1h")                   # `after` kept


@pytest.mark.parametrize("stored", ["local", "utc"])
def test_all_day_events_are_local_days(outages, events, stored):
    """Syria (UTC+3) exam day 2019-06-09: 02:00 local is on it, 01:30 local on the 10th is not,
    whether the event was stored on local midnights (importer) or on UTC midnights (a bare date)."""
    day_start = pd.Timestamp("2019-06-08 21:00" if stored == "local" else "2019-06-09", tz="UTC")
    exam = events([day_start], kind="exam", all_day=True, ends=[day_start + pd.Timedelta("1D")])
    out = outages([pd.Timestamp("2019-06-08 23:00", tz="UTC"), pd.Timestamp("2019-06-09 22:30", tz="UTC")], hours=4)
    got = flags(out, exam)
    assert got["outage_id"].tolist() == ["o0"]
    assert got["event_start"].tolist() == [pd.Timestamp("2019-06-08 21:00", tz="UTC")]
    assert got["offset_minutes"].tolist() == [120.0]


def test_only_the_same_country(outages, events):
    assert flags(outages([T], country="IQ"), events([T], country="SY")).empty


def test_country_read_from_the_entity_and_unknown_country_left_out(outages, events):
    out = pd.concat([outages([T], country="SY"), outages([T], country="SY", ids=["asn"])], ignore_index=True)
    out.loc[0, "country"] = None
    out.loc[1, ["country", "entity"]] = [None, "asn/29256"]
    assert flags(out, events([T]))["outage_id"].tolist() == ["o0"]


@pytest.mark.parametrize("outage_region, event_region, expected", [
    ("Kurdistan - (Erbil, Sulaymaniyah, Duhok)", "Kurdistan", True),
    ("As-Sulaymaniyah", "Kurdistan", False),
    ("Nationwide", "Kurdistan", True),
    (None, "Kurdistan", True),
    ("Al-Basrah", None, True),
    ("AS 2514", "Kurdistan", True),
])
def test_regions(outages, events, outage_region, event_region, expected):
    got = flags(outages([T], country="IQ", region=outage_region), events([T], country="IQ", region=event_region))
    assert (len(got) == 1) is expected


def test_region_keys():
    assert region_key("  Jammu &  Kashmir ") == "jammu and kashmir"
    assert region_key("National except Kurdish region") is None
    assert region_key("National Capital Territory of Delhi") == "national capital territory of delhi"
    assert same_place("kurdistan", "kurdistan erbil") and not same_place("kurd", "kurdistan")


def test_shutdown_reports_are_not_calendar_events(outages, events):
    assert flags(outages([T]), events([T], kind="shutdown_report")).empty


def test_point_events_without_end(outages, events):
    ev = events([T])
    ev["end"] = pd.NaT
    got = flags(outages([T - 30 * pd.Timedelta("1min")], hours=1), ev)
    assert got["relation"].tolist() == ["during"]


def _brute_force(out, ev, params):
    pairs = set()
    for o in out.itertuples():
        for e in ev.itertuples():
            before, after = (int(w.total_seconds()) for w in params.window(e.kind))
            if o.country == e.country and same_place(o.region_key, e.region_key):
                rel = related(int(o.a), int(o.b), int(e.s), int(e.e), before, after)
                if rel:
                    pairs.add((o.outage_id, e.uid, rel, (o.a - e.s) / 60.0))
    return pairs


@pytest.mark.parametrize("seed", range(6))
def test_vectorised_search_agrees_with_the_rule_pair_by_pair(outages, events, seed):
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2021-01-01", tz="UTC")
    minutes = lambda n, span: t0 + pd.to_timedelta(rng.integers(0, span, n), unit="min")  # noqa: E731
    out = pd.concat([outages(minutes(30, 20000), hours=float(h), country=c, region=r,
                             ids=[f"{c}{h}{r}{i}" for i in range(30)])
                     for h, c, r in [(0.5, "SY", None), (7, "SY", "Idlib"), (0, "IQ", "Kurdistan")]], ignore_index=True)
    ev = pd.concat([events(minutes(25, 20000), hours=float(h), kind=k, country=c, region=r)
                    for h, k, c, r in [(1, "protest", "SY", None), (0, "exam", "SY", "idlib"),
                                       (30, "election", "IQ", None), (2, "opposition_event", "IQ", "Kurdistan erbil")]],
                   ignore_index=True)
    ev["uid"] = [f"e{i}" for i in range(len(ev))]
    params = CorrelateParams()
    po, pe = prepare_outages(out), prepare_events(ev, params)
    got = find_coincidences(po, pe)
    assert set(zip(got["outage_id"], got["event_uid"], got["relation"], got["offset_minutes"])) == \
        _brute_force(po, pe, params)
    assert len(got) > 20  # the random layout does produce coincidences to compare
