"""The replay server: real paths and envelopes over the bundled data, limits, faults, latency."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import requests

from monitor.errors import SourceError
from monitor.http import HttpClient
from monitor.replay import DERIVED, IODA_COPYRIGHT, Fault, ReplayServer, running

DATA = Path(__file__).resolve().parents[1] / "data"
AP = DATA / "ioda-iran-2019/20191123-ioda-iran-countrywide-active-probing.csv"
DAY = 86400
NOV14 = int(pd.Timestamp("2019-11-14", tz="UTC").timestamp())


@pytest.fixture(scope="module")
def replay():
    with running() as server:
        yield server


def get(server: ReplayServer, path: str, **params) -> requests.Response:
    return requests.get(server.url + path, params=params, timeout=10)


def test_signals_envelope_and_real_values(replay):
    r = get(replay, "/v2/signals/raw/country/IR", **{"from": NOV14, "until": NOV14 + 10 * DAY,
                                                       "datasource": "ping-slash24"})
    body = r.json()
    assert r.status_code == 200 and body["type"] == "signals" and body["error"] is None
    assert body["copyright"] == IODA_COPYRIGHT and set(body["metadata"]) == {"requestTime", "responseTime"}
    [[series]] = body["data"]
    csv = pd.read_csv(AP)
    assert series["from"] == int(pd.Timestamp(csv["timestamp"].iloc[0]).timestamp())
    assert series["until"] - series["from"] == series["step"] * len(series["values"]) and series["step"] == 600
    assert series["values"] == csv["value"].tolist() and series["entityName"] == "Iran"
    assert "synthetic" not in series


def test_from_is_rounded_down_to_the_step_and_until_is_exclusive(replay):
    start = int(pd.Timestamp("2019-11-16 07:52", tz="UTC").timestamp())
    until = int(pd.Timestamp("2019-11-16 08:05", tz="UTC").timestamp())
    [[series]] = get(replay, "/v2/signals/raw/country/IR", **{"from": start, "until": until,
                                                                "datasource": "bgp"}).json()["data"]
    assert series["from"] == start - 2 * 60 and len(series["values"]) == 3  # 07:50, 07:55 (null), 08:00
    assert series["values"][1] is None and series["values"][0] > 0


@pytest.mark.parametrize("params, message", [
    ({"from": NOV14, "until": NOV14 + 100 * DAY}, "Time range for a single query must be less than 100 days"),
    ({"until": NOV14}, "Missing required request parameter 'from'"),
    ({"from": NOV14 + 5, "until": NOV14}, f"from ({NOV14 + 5}) must be earlier than until ({NOV14})"),
    ({"from": "yesterday", "until": NOV14}, "'from'"),
    ({"from": NOV14, "until": NOV14 + DAY, "datasource": "ucsd-nt"}, "invalid datasource ucsd-nt"),
])
def test_signals_bad_requests_are_400_with_ioda_errors(replay, params, message):
    r = get(replay, "/v2/signals/raw/country/IR", **params)
    assert r.status_code == 400 and message in r.json()["error"] and r.json()["data"] is None


def test_unknown_country_and_datasources_without_data(replay):
    assert get(replay, "/v2/signals/raw/country/ZZ", **{"from": NOV14, "until": NOV14 + DAY}).status_code == 400
    body = get(replay, "/v2/signals/raw/country/IR,KE", **{"from": NOV14, "until": NOV14 + DAY}).json()
    assert [s["datasource"] for s in body["data"][0]] == ["ping-slash24"]  # no bgp on the 14th, no merit-nt
    assert body["data"][1] == []                                           # no bundled data for Kenya


def test_synthetic_values_only_when_asked_and_marked():
    with running(synthetic=True) as server:
        body = get(server, "/v2/signals/raw/country/KE", **{"from": NOV14, "until": NOV14 + DAY}).json()
        iran = get(server, "/v2/signals/raw/country/IR", **{"from": NOV14, "until": NOV14 + DAY}).json()
    names = [s["datasource"] for s in body["data"][0]]
    assert names == ["bgp", "ping-slash24", "merit-nt", "gtr"] and all(s["synthetic"] for s in body["data"][0])
    assert len(body["data"][0][0]["values"]) == DAY // 300
    assert all("synthetic" not in s for s in iran["data"][0])  # real entities never get generated values


def test_outage_alerts_and_events_are_derived_and_say_so(replay):
    q = {"from": NOV14, "until": NOV14 + 10 * DAY, "entityType": "country", "entityCode": "IR"}
    alerts = get(replay, "/v2/outages/alerts", **q).json()
    events = get(replay, "/v2/outages/events", **q).json()
    assert alerts["type"] == "outages.alerts" and events["type"] == "outages.events"
    assert all(a["replay"] == DERIVED for a in alerts["data"]) and all(e["replay"] == DERIVED for e in events["data"])
    ping = [e for e in events["data"] if e["datasource"] == "ping-slash24"]
    assert len(ping) == 1 and pd.Timestamp(ping[0]["start"], unit="s") == pd.Timestamp("2019-11-16 17:20")
    assert get(replay, "/v2/outages/alerts", **{**q, "limit": 1, "page": 1}).json()["data"] == alerts["data"][1:2]
    assert get(replay, "/v2/outages/alerts", **{**q, "entityCode": "KE"}).json()["data"] == []


def test_atlas_probe_pages_follow_next(replay):
    url, params, seen, pages = replay.url + "/api/v2/probes/", {"country_code": "ke", "page_size": 5}, [], 0
    while url:
        body = requests.get(url, params=params, timeout=10).json()
        assert body["count"] == 18 and (pages > 0) == (body["previous"] is not None)
        seen += [p["id"] for p in body["results"]]
        url, params, pages = body["next"], None, pages + 1
    assert pages == 4 and len(set(seen)) == 18
    assert all(p["status"]["id"] in (1, 2) for p in body["results"])
    assert get(replay, "/api/v2/probes/", country_code="KE", page=9).status_code == 404


def test_atlas_results_filter_by_time_and_probe(replay):
    lo, hi = 1464739737, 1464745566  # probe 23459's first and fourth records
    body = get(replay, "/api/v2/measurements/7000/results/", start=lo, stop=hi, probe_ids="23459,1").json()
    assert [r["timestamp"] for r in body] == [1464739737, 1464743659, 1464744093, 1464745566]
    assert {r["asn"] for r in body} == {"15399", 15399}  # the log's own mix of string and int, kept
    text = get(replay, "/api/v2/measurements/7000/results/", start=lo, stop=hi, probe_ids="23459", format="txt").text
    assert [json.loads(line) for line in text.splitlines()] == body
    assert get(replay, "/api/v2/measurements/1001/results/").status_code == 404


def test_atlas_results_outside_the_log_answer_no_data(replay):
    """An empty log would read as 'every probe connected': Kenya, November 2019, is not in the bundle."""
    nov2019 = int(pd.Timestamp("2019-11-01", tz="UTC").timestamp())
    answer = get(replay, "/api/v2/measurements/7000/results/", start=nov2019, stop=nov2019 + DAY)
    assert answer.status_code == 404 and "no data" in answer.json()["error"]["detail"]
    june = int(pd.Timestamp("2016-06-07", tz="UTC").timestamp())
    straddling = get(replay, "/api/v2/measurements/7000/results/", start=june, stop=june + 2 * DAY)
    assert straddling.status_code == 404
    assert get(replay, "/api/v2/measurements/7000/results/", start=june, stop=june + DAY - 1).status_code == 200


def test_collecting_kenya_outside_the_log_stores_nothing(replay, tmp_path):
    from monitor.collect import collect
    from monitor.store import open_store
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    summary = collect(store, "ripe-atlas", ["country/KE"], start="2019-11-01", end="2019-11-03",
                      base_url=replay.base_urls["ripe-atlas"])
    assert not summary.ok
    assert store.read_signals(entities=["country/KE"]).empty
    store.close()


def test_latency_and_fault_hook():
    calls = []

    def flaky(req):
        calls.append(req.number)
        return Fault(429, '{"error": "slow down"}', headers={"Retry-After": "0"}) if req.number == 1 else None
    with running(latency=0.05, fault=flaky) as server:
        client = HttpClient("ioda", retries=2, backoff=0.01)
        started = time.monotonic()
        body = client.get_json(server.base_urls["ioda"] + "/signals/raw/country/IR",
                               {"from": NOV14 + 8 * 3600, "until": NOV14 + 9 * 3600})
        assert time.monotonic() - started >= 0.1  # two requests, each delayed 50 ms
        assert client.requests == 2 and calls == [1, 2] and body["data"][0][0]["values"]
        server.fault = lambda req: Fault(drop=True)
        with pytest.raises(SourceError, match="connection failed"):
            HttpClient("ioda", retries=0).get_json(server.base_urls["ioda"] + "/signals/raw/country/IR")


def test_context_manager_releases_the_port():
    with running() as server:
        url = server.url
        assert requests.get(url + "/nothing", timeout=5).status_code == 404
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/nothing", timeout=2)


def test_cli_replay_prints_its_base_urls():
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "replay", "--port", "0", "--latency-ms", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        url = lines[1].split("--base-url")[1].strip()
        assert url.endswith("/v2") and "/api/v2" in lines[2]
        r = requests.get(url + "/signals/raw/country/IR", timeout=10,
                         params={"from": NOV14 + 8 * 3600, "until": NOV14 + 9 * 3600})
        assert r.json()["data"][0][0]["values"][0] == 14047
    finally:
        proc.terminate()
        proc.wait(timeout=10)
