"""RIPEstat country-resource-stats: parser on an illustrative payload (shape per docs/sources.md), fetch
over real HTTP."""

from __future__ import annotations

import copy
import re
import json
from pathlib import Path

import pandas as pd
import pytest

from monitor.entities import Entity
from monitor.errors import InputError, SourceError
from monitor.http import HttpClient
from monitor.sources import ripestat

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures/ripestat/country-resource-stats-IR.json"


@pytest.fixture
def payload():
    return json.loads(FIXTURE.read_text())


def test_timelines_are_expanded_onto_the_resolution_grid(payload):
    df = ripestat.parse_resource_stats(payload, "country/IR", "1h")
    assert set(df["datasource"]) == set(ripestat.SERIES.values())
    asns = df[df["datasource"] == "ripestat-asns-ris"].set_index("time")["value"]
    assert len(asns) == 24 and asns.index.is_monotonic_increasing            # 00:00..23:00, each hour once
    assert asns[pd.Timestamp("2019-11-16 13:00", tz="UTC")] == 620          # interval ends are inclusive
    assert asns[pd.Timestamp("2019-11-16 14:00", tz="UTC")] == 540
    assert asns[pd.Timestamp("2019-11-16 23:00", tz="UTC")] == 480
    v6 = df[df["datasource"] == "ripestat-v6-prefixes-ris"].set_index("time")["value"]
    assert pd.isna(v6[pd.Timestamp("2019-11-16 14:00", tz="UTC")])  # null -> NaN, not 0


@pytest.mark.parametrize("mutate, field", [
    (lambda p: p.__setitem__("status", "error"), "status is 'error'"),
    (lambda p: p["data"]["stats"][0].pop("timeline"), r"data.stats\[0\].timeline is missing"),
    (lambda p: p["data"]["stats"][1].__setitem__("asns_ris", "540"), r"data.stats\[1\].asns_ris is str"),
    (lambda p: p["data"]["stats"][0]["timeline"][0].__setitem__("starttime", "yesterday"),
     r"data.stats\[0\].timeline\[0\].starttime is not a time"),
    (lambda p: p["data"]["stats"][0]["timeline"][0].__setitem__("endtime", "2019-11-15T00:00:00"),
     r"endtime \(2019-11-15T00:00:00Z\) is before starttime"),
])
def test_malformed_payloads_name_the_field(payload, mutate, field):
    bad = copy.deepcopy(payload)
    mutate(bad)
    with pytest.raises(SourceError, match=field):
        ripestat.parse_resource_stats(bad, "country/IR", "1h")


def test_unknown_resolution_is_an_input_error(payload):
    with pytest.raises(InputError, match="resolution '2h'"):
        ripestat.parse_resource_stats({**payload, "data": {**payload["data"], "resolution": "2h"}}, "country/IR", "1h")


def test_fetch_asks_for_the_window_and_keeps_only_it(httpserver, payload):
    httpserver.expect_request("/data/country-resource-stats/data.json", query_string={
        "resource": "IR", "starttime": "2019-11-16T06:00:00Z", "endtime": "2019-11-16T18:00:00Z",
        "resolution": "1h", "sourceapp": "outage-monitor"}).respond_with_json(payload)
    start, end = pd.Timestamp("2019-11-16 06:00", tz="UTC"), pd.Timestamp("2019-11-16 18:00", tz="UTC")
    with HttpClient("ripestat") as client:
        batch = ripestat.fetch(client, httpserver.url_for("/data"), Entity.parse("country/IR"), start, end,
                               ripestat.SOURCE.check_options({}))
    assert batch.signals["time"].min() == start and batch.signals["time"].max() == end - pd.Timedelta("1h")
    assert len(batch.signals) == 3 * 12 and batch.outages.empty


def test_a_timeline_of_decades_is_clipped_to_the_window_or_refused(payload):
    span = {"starttime": "2010-01-01T00:00:00", "endtime": "2030-01-01T00:00:00"}
    payload["data"]["stats"] = [{**payload["data"]["stats"][0], "timeline": [span]}]
    day = (pd.Timestamp("2019-11-16 00:30", tz="UTC"), pd.Timestamp("2019-11-17", tz="UTC"))
    df = ripestat.parse_resource_stats(payload, "country/IR", "1h", start=day[0], end=day[1])
    times = df["time"].drop_duplicates()
    assert len(times) == 23 and times.min() == pd.Timestamp("2019-11-16 01:00", tz="UTC")  # on the span's grid
    with pytest.raises(SourceError, match=r"data.stats\[0\].timeline\[0\] spans 175321 bins"):
        ripestat.parse_resource_stats(payload, "country/IR", "1h")


PLACE_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures/ripestat/rir-stats-country-AS44244.json"


def test_fetch_for_an_asn_gives_its_registered_country(httpserver):
    httpserver.expect_request("/data/rir-stats-country/data.json", query_string={
        "resource": "AS44244", "sourceapp": "outage-monitor"}).respond_with_json(json.loads(PLACE_FIXTURE.read_text()))
    with HttpClient("ripestat") as client:
        batch = ripestat.fetch(client, httpserver.url_for("/data"), Entity.parse("asn/44244"),
                               pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-02", tz="UTC"),
                               ripestat.SOURCE.check_options({}))
    assert batch.signals.empty
    assert batch.places.to_dict("records") == [{"entity": "asn/44244", "country": "IR", "name": None,
                                                "source": "ripestat"}]


@pytest.mark.parametrize("mutate,field", [
    (lambda p: p["data"].pop("located_resources"), "data.located_resources"),
    (lambda p: p["data"]["located_resources"][0].update(location="Iran"), "data.located_resources[0].location"),
    (lambda p: p.update(status="error"), "status"),
])
def test_malformed_place_answers_name_the_field(mutate, field):
    payload = json.loads(PLACE_FIXTURE.read_text())
    mutate(payload)
    with pytest.raises(SourceError, match=re.escape(field)):
        ripestat.parse_rir_country(payload, Entity.parse("asn/44244"), "u")
