"""RIPE Atlas: parsers on the real Kenya 2016 connection log, fetch over real HTTP (replay, httpserver)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from monitor.entities import Entity
from monitor.errors import SourceError
from monitor.http import HttpClient
from monitor.replay import running
from monitor.sources import ripe_atlas as atlas
from monitor.sources.registry import get_source

LOG = Path(__file__).resolve().parents[2] / "data/ripe-atlas-kenya-2016/ke_msm7000_2016-06-01_07.jsonl"
KE = Entity.parse("country/KE")
WEEK = (pd.Timestamp("2016-06-01", tz="UTC"), pd.Timestamp("2016-06-08", tz="UTC"))


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture(scope="module")
def records():
    return [json.loads(line) for line in LOG.read_text().splitlines()]


@pytest.fixture(scope="module")
def replay():
    with running() as server:
        yield server


# A probe object as in a real /probes/ response (docs/sources.md).
PROBE = {"address_v4": "81.56.27.40", "address_v6": None, "asn_v4": 29447, "asn_v6": None, "country_code": "IT",
         "description": "", "firmware_version": 5040, "first_connected": 1637514104,
         "geometry": {"type": "Point", "coordinates": [12.2405, 45.4985]}, "id": 1003272, "is_anchor": False,
         "is_public": True, "last_connected": 1719564602, "prefix_v4": "81.56.0.0/15", "prefix_v6": None,
         "status": {"id": 4, "name": "Written Off", "since": "2024-06-28T08:50:02.769177Z"},
         "status_since": 1719564602, "tags": [], "type": "Probe"}


def test_parse_probes_reads_id_asn_and_status():
    page = {"count": 2, "next": None, "previous": None,
            "results": [PROBE, {**PROBE, "id": 7, "asn_v4": None, "status": {"id": 1, "name": "Connected"}}]}
    probes = atlas.parse_probes(page)
    assert probes[0] == atlas.Probe(1003272, 29447, False, 1719564602)
    assert probes[1].connected is True and probes[1].asn is None
    with pytest.raises(SourceError, match=r"results\[0\]\.id is str"):
        atlas.parse_probes({"results": [{**PROBE, "id": "1003272"}]})


def test_parse_connection_log_reads_the_real_records(records):
    df = atlas.parse_connection_log(records, "country/KE")
    assert len(df) == 249 and df["time"].is_monotonic_increasing
    assert df["asn"].dtype == "Int64" and set(df["asn"]) >= {15399, 36866}  # '15399' (string) and 15399 both
    first = df[df["probe_id"] == 23459].iloc[0]
    assert first["time"] == pd.Timestamp(1464739737, unit="s", tz="UTC") and first["event"] == "connect"


@pytest.mark.parametrize("change, field", [
    ({"event": "reboot"}, r"results\[0\]\.event is 'reboot'"),
    ({"asn": "AS15399"}, r"results\[0\]\.asn is 'AS15399'"),
    ({"timestamp": None}, r"results\[0\]\.timestamp is missing"),
    ({"prb_id": 1.5}, r"results\[0\]\.prb_id is float"),
])
def test_malformed_log_records_name_the_field(records, change, field):
    with pytest.raises(SourceError, match=field):
        atlas.parse_connection_log([{**records[0], **change}], "country/KE")
    with pytest.raises(SourceError, match="results is dict"):
        atlas.parse_connection_log({"results": records}, "country/KE")


def test_initial_states_from_first_event_then_status():
    start = utc("2016-06-03")
    events = atlas.parse_connection_log([
        {"prb_id": 1, "timestamp": int(start.timestamp()) + 60, "event": "disconnect"},
        {"prb_id": 2, "timestamp": int(start.timestamp()) + 60, "event": "connect"}], "country/KE")
    probes = [atlas.Probe(1, None, True, None), atlas.Probe(2, None, True, None),
              atlas.Probe(3, None, True, int(start.timestamp()) - 1),   # unchanged since before start
              atlas.Probe(4, None, False, int(start.timestamp()) - 1),
              atlas.Probe(5, None, True, int(start.timestamp()) + 99)]  # changed later: unknown here
    assert atlas.initial_states(probes, events, start) == {1: True, 2: False, 3: True, 4: False, 5: None}


def test_connection_series_counts_per_bin():
    start = utc("2016-06-07 13:00")
    t = int(start.timestamp())
    events = atlas.parse_connection_log([
        {"prb_id": 1, "timestamp": t + 100, "event": "disconnect"},
        {"prb_id": 2, "timestamp": t + 200, "event": "disconnect"},
        {"prb_id": 2, "timestamp": t + 400, "event": "connect"},
        {"prb_id": 1, "timestamp": t + 900, "event": "connect"},
        {"prb_id": 9, "timestamp": t + 950, "event": "disconnect"}],  # state unknown: not counted as connected
        "country/KE")
    df = atlas.connection_series(events, {1: True, 2: True, 3: False, 9: None}, "country/KE", start,
                                 start + pd.Timedelta("20min"), pd.Timedelta("5min"))
    s = df.set_index(["datasource", "time"])["value"]
    assert s["atlas-connected"].tolist() == [0.0, 1.0, 1.0, 2.0]
    assert s["atlas-disconnects"].tolist() == [2.0, 0.0, 0.0, 1.0]


def test_fetch_follows_probe_pages_and_chunks_ids(replay):
    spec = get_source("ripe-atlas")
    probes_before, results_before = replay.count("/api/v2/probes"), replay.count("/api/v2/measurements")
    with HttpClient("ripe-atlas") as client:
        batch = spec.fetch(client, replay.base_urls["ripe-atlas"], KE, *WEEK,
                           spec.check_options({"page_size": 5, "probe_chunk": 7}))
    assert replay.count("/api/v2/probes") - probes_before == 4          # 18 probes, 5 a page
    assert replay.count("/api/v2/measurements") - results_before == 3   # 18 ids, 7 a request
    assert len(batch.probe_events) == 249 and batch.probe_events["probe_id"].nunique() == 18
    assert len(batch.signals) == 2 * 7 * 288


def test_the_2016_06_07_wave_shows_in_the_series(replay):
    spec = get_source("ripe-atlas")
    with HttpClient("ripe-atlas") as client:
        batch = spec.fetch(client, replay.base_urls["ripe-atlas"], KE, *WEEK, spec.check_options({}))
    s = batch.signals.set_index(["datasource", "time"])["value"]
    hourly = s["atlas-disconnects"].resample("1h").sum()
    assert hourly.idxmax() == utc("2016-06-07 13:00") and hourly.max() == 17
    assert s["atlas-disconnects"][utc("2016-06-07 08:30"):utc("2016-06-07 08:35")].sum() >= 5
    connected = s["atlas-connected"]
    wave = connected[utc("2016-06-07 13:00"):utc("2016-06-07 14:00")]
    assert wave.min() <= connected[:utc("2016-06-07")].median() - 5


def test_a_short_window_agrees_with_the_whole_week(replay):
    """Probes silent in a one-day window get their state from the look-ahead request."""
    spec = get_source("ripe-atlas")
    day = (utc("2016-06-03"), utc("2016-06-04"))
    with HttpClient("ripe-atlas") as client:
        week = spec.fetch(client, replay.base_urls["ripe-atlas"], KE, *WEEK, spec.check_options({}))
        before = replay.count("/api/v2/measurements")
        short = spec.fetch(client, replay.base_urls["ripe-atlas"], KE, *day, spec.check_options({}))
        assert replay.count("/api/v2/measurements") - before == 2  # the window, then the look-ahead
    pick = lambda b: b.signals[(b.signals["datasource"] == atlas.CONNECTED) & (b.signals["time"] >= day[0])
                               & (b.signals["time"] < day[1])].reset_index(drop=True)
    pd.testing.assert_frame_equal(pick(short), pick(week))


def test_api_key_is_sent_as_a_header(httpserver):
    httpserver.expect_request("/api/v2/probes/", headers={"Authorization": "Key 0000-key"},
                              query_string={"asn_v4": "36866", "page_size": "500"}).respond_with_json(
        {"count": 0, "next": None, "previous": None, "results": []})
    spec = get_source("ripe-atlas")
    with spec.client({"RIPE_ATLAS_KEY": "0000-key"}) as client:
        batch = spec.fetch(client, httpserver.url_for("/api/v2"), Entity.parse("asn/36866"), *WEEK,
                           spec.check_options({}))
    assert batch.signals.empty and batch.probe_events.empty
    assert len(httpserver.log) == 1


def test_a_next_link_that_loops_is_refused(httpserver):
    url = httpserver.url_for("/api/v2/probes/")
    httpserver.expect_request("/api/v2/probes/").respond_with_json(
        {"count": 1, "next": url + "?page=2", "previous": None, "results": [PROBE]})
    with HttpClient("ripe-atlas") as client, pytest.raises(SourceError, match="repeated 'next' link"):
        atlas.list_probes(client, httpserver.url_for("/api/v2"), KE, 500)


@pytest.mark.parametrize("change, field", [
    ({"asn": 2**40}, r"results\[0\]\.asn is 1099511627776, outside 0\.\.4294967295"),
    ({"asn": "²"}, r"results\[0\]\.asn is '²'"),
    ({"prb_id": -3}, r"results\[0\]\.prb_id is -3"),
    ({"timestamp": 10**19}, r"results\[0\]\.timestamp is 10000000000000000000"),
])
def test_out_of_range_numbers_are_refused_not_overflowed(records, change, field):
    with pytest.raises(SourceError, match=field):
        atlas.parse_connection_log([{**records[0], **change}], "country/KE")
