"""Collection runs against the replay of the real data: every point stored, windows split, failures
leave nothing partial and the cursor in place, resumes, idempotence, transient faults survived."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from monitor.collect import collect, job_name
from monitor.errors import InputError
from monitor.http import HttpClient
from monitor.replay import Fault, running

DATA = Path(__file__).resolve().parents[1] / "data"
AP = DATA / "ioda-iran-2019/20191123-ioda-iran-countrywide-active-probing.csv"
BGP = DATA / "ioda-iran-2019/20191123-ioda-iran-countrywide-bgp_window_2019-11-15T17_2019-11-17T20.csv"
IR = "country/IR"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def replay():
    with running() as server:
        yield server


def quick_client(source="ioda", **kwargs) -> HttpClient:
    kwargs.setdefault("retries", 2)
    kwargs.setdefault("backoff", 0.01)
    return HttpClient(source, **kwargs)


def ioda(store, replay, start="2019-11-14", end="2019-11-24", **kwargs):
    kwargs.setdefault("client", quick_client())
    return collect(store, "ioda", [IR], start=start, end=end, base_url=replay.base_urls["ioda"], **kwargs)


def test_iran_series_stored_point_for_point_with_utc_times(sqlite_store, replay):
    summary = ioda(sqlite_store, replay)
    assert summary.ok and summary.results[0].windows == 1
    for path, datasource in ((AP, "ping-slash24"), (BGP, "bgp")):
        csv = pd.read_csv(path)
        got = sqlite_store.read_signals(entities=[IR], datasources=[datasource])
        assert len(got) == len(csv)
        assert (got["time"].to_numpy() == pd.to_datetime(csv["timestamp"], utc=True).to_numpy()).all()
        pd.testing.assert_series_equal(got["value"], csv["value"].astype("float64"), check_names=False)
    assert sqlite_store.read_signals(datasources=["bgp"])["value"].isna().sum() == 2
    outages = sqlite_store.read_outages(entities=[IR])
    assert set(outages["source"]) == {"ioda-events", "ioda-alerts"}
    assert sqlite_store.get_cursor(job_name("ioda"), IR) == utc("2019-11-24")
    run = sqlite_store.read_runs(job="collect:ioda").iloc[0]
    assert run["status"] == "ok" and run["key"] == IR and run["items"] == 1947 + len(outages)


def test_long_ranges_are_split_under_the_100_day_limit(sqlite_store, replay):
    summary = ioda(sqlite_store, replay, start="2019-08-01", end="2019-12-01", options={"reference": False})
    assert summary.ok and summary.results[0].windows == 2 and summary.requests == 2
    spans = [int(r.query["until"]) - int(r.query["from"]) for r in replay.requests]
    assert len(spans) == 2 and max(spans) < 100 * 86400  # the replay answers 400 otherwise
    assert len(sqlite_store.read_signals()) == 1947


def test_running_twice_adds_no_rows(sqlite_store, replay):
    first = ioda(sqlite_store, replay)
    counts = (len(sqlite_store.read_signals()), len(sqlite_store.read_outages()))
    second = ioda(sqlite_store, replay)
    assert (len(sqlite_store.read_signals()), len(sqlite_store.read_outages())) == counts
    assert first.results[0].new_points == 1947 and second.results[0].new_points == 0
    assert second.results[0].points == 1947


def test_a_failed_window_writes_nothing_and_keeps_the_cursor(sqlite_store, replay):
    """Window 2's signals and events arrive; its alerts fail: none of window 2 may be stored."""
    second_from = str(int(utc("2019-11-08").timestamp()))
    replay.fault = lambda req: Fault(500, '{"error": "scripted"}') \
        if req.path.endswith("/outages/alerts") and req.query.get("from") == second_from else None
    summary = ioda(sqlite_store, replay, start="2019-08-01", end="2019-11-24")  # windows split at 2019-11-08
    result = summary.results[0]
    assert not summary.ok and result.windows == 2 and result.windows_done == 1
    assert "HTTP 500" in result.error and "scripted" in result.error
    assert sqlite_store.read_signals().empty  # window 1 (Aug..Nov 8) has no Iran data; window 2 nothing partial
    assert sqlite_store.read_outages().empty
    assert sqlite_store.get_cursor(job_name("ioda"), IR) == utc("2019-11-08")
    run = sqlite_store.read_runs(job="collect:ioda").iloc[0]
    assert run["status"] == "error" and "scripted" in run["error"] and run["detail"]["windows_done"] == 1

    replay.fault = None
    resumed = ioda(sqlite_store, replay, start=None, end="2019-11-24")
    assert resumed.ok and resumed.results[0].start == utc("2019-11-08") - pd.Timedelta("2h")
    assert len(sqlite_store.read_signals()) == 1947
    assert sqlite_store.get_cursor(job_name("ioda"), IR) == utc("2019-11-24")


def test_resume_starts_at_cursor_minus_overlap_and_first_run_at_lookback(sqlite_store, replay):
    first = ioda(sqlite_store, replay, start=None, end="2019-11-20", options={"reference": False})
    assert first.results[0].start == utc("2019-11-13")  # seven days of lookback
    again = ioda(sqlite_store, replay, start=None, end="2019-11-24", options={"reference": False})
    assert again.results[0].start == utc("2019-11-19 22:00")
    assert int(replay.requests[-1].query["from"]) == int(utc("2019-11-19 22:00").timestamp())
    assert len(sqlite_store.read_signals()) == 1947


def test_a_backfill_never_moves_the_cursor_back(sqlite_store, replay):
    ioda(sqlite_store, replay, options={"reference": False})
    ioda(sqlite_store, replay, start="2019-11-14", end="2019-11-15", options={"reference": False})
    assert sqlite_store.get_cursor(job_name("ioda"), IR) == utc("2019-11-24")


@pytest.mark.parametrize("fault, waits", [
    (Fault(429, '{"error": "slow down"}', headers={"Retry-After": "3"}), [3.0]),
    (Fault(500, "oops"), None),
    (Fault(200, "{}", delay=0.6), None),  # answered too late: the client times out and retries
    (Fault(200, '{"type": "signals", "data": [[{"from": '), None),  # truncated JSON is not retried...
])
def test_transient_faults_on_the_first_request(sqlite_store, replay, fault, waits):
    replay.fault = lambda req: fault if req.number == 1 else None
    sleeps = Sleeps()
    summary = ioda(sqlite_store, replay, client=HttpClient("ioda", retries=2, timeout=0.3, backoff=0.2, sleep=sleeps),
                   options={"reference": False})
    if fault.body.startswith('{"type"'):
        assert not summary.ok and "malformed JSON" in summary.results[0].error  # ...it is reported, nothing stored
        assert sqlite_store.read_signals().empty
        return
    assert summary.ok and summary.requests == 2 and len(sqlite_store.read_signals()) == 1947
    assert sleeps == waits if waits else len(sleeps) == 1


def test_a_value_list_of_the_wrong_length_fails_the_window(sqlite_store, replay):
    body = ('{"type": "signals", "error": null, "data": [[{"entityType": "country", "entityCode": "IR", '
            '"datasource": "bgp", "from": 1573776000, "until": 1573776900, "step": 300, "values": [1, 2]}]]}')
    replay.fault = lambda req: Fault(200, body)
    summary = ioda(sqlite_store, replay)
    assert "data[0][0].values has 2 values, expected 3" in summary.results[0].error
    assert sqlite_store.read_signals().empty and sqlite_store.get_cursor(job_name("ioda"), IR) is None


def test_atlas_kenya_week_shows_the_june_7_wave(sqlite_store, replay):
    summary = collect(sqlite_store, "ripe-atlas", ["country/KE"], start="2016-06-01", end="2016-06-08",
                      base_url=replay.base_urls["ripe-atlas"], client=quick_client("ripe-atlas"))
    assert summary.ok and summary.results[0].probe_events == 249
    assert len(sqlite_store.read_probe_events(entities=["country/KE"])) == 249
    signals = sqlite_store.read_signals(entities=["country/KE"]).set_index(["datasource", "time"])["value"]
    hourly = signals["atlas-disconnects"].resample("1h").sum()
    assert hourly.idxmax() == utc("2016-06-07 13:00") and hourly.max() == 17
    assert (hourly.drop(utc("2016-06-07 13:00")) <= 6).all()  # every other hour of the week has at most 6
    again = collect(sqlite_store, "ripe-atlas", ["country/KE"], start="2016-06-01", end="2016-06-08",
                    base_url=replay.base_urls["ripe-atlas"], client=quick_client("ripe-atlas"))
    assert again.results[0].new_points == 0 and len(sqlite_store.read_probe_events()) == 249


@pytest.mark.parametrize("kwargs, message", [
    ({"source_name": "ripestat", "entities": ["region/4488"]}, "ripestat does not serve region entities"),
    ({"source_name": "ioda", "entities": [IR], "options": {"datasource": "bgp"}}, "unknown option 'datasource'"),
    ({"source_name": "ioda", "entities": [IR], "start": "2019-11-24", "end": "2019-11-14"}, "is not before end"),
    ({"source_name": "ioda", "entities": []}, "no entities"),
    ({"source_name": "gdelt", "entities": [IR]}, "unknown source 'gdelt'"),
])
def test_bad_arguments_fail_before_fetching(sqlite_store, kwargs, message):
    with pytest.raises(InputError, match=message):
        collect(sqlite_store, **kwargs)


def test_collecting_an_asn_from_ripestat_stores_where_it_is(sqlite_store, httpserver):
    fixture = Path(__file__).resolve().parent / "fixtures/ripestat/rir-stats-country-AS44244.json"
    httpserver.expect_request("/data/rir-stats-country/data.json").respond_with_data(
        fixture.read_text(), content_type="application/json")
    collect(sqlite_store, "ripestat", ["asn/44244"], start="2024-01-01", end="2024-01-02",
            base_url=httpserver.url_for("/data"), client=quick_client("ripestat"))
    assert sqlite_store.entity_countries() == {"asn/44244": "IR"}
