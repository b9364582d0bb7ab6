"""IODA: parsers on payloads built from the real Iran 2019 series, fetch over real HTTP."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitor.entities import Entity
from monitor.errors import SourceError
from monitor.http import HttpClient
from monitor.replay import running
from monitor.sources import ioda
from monitor.sources.registry import get_source

BGP = "ioda-iran-2019/20191123-ioda-iran-countrywide-bgp_window_2019-11-15T17_2019-11-17T20.csv"
DATA = Path(__file__).resolve().parents[2] / "data"
T0, T1 = pd.Timestamp("2019-11-14", tz="UTC"), pd.Timestamp("2019-11-24", tz="UTC")


def envelope(data, error=None) -> dict:
    return {"type": "signals", "metadata": {"requestTime": "2019-11-24T00:00:00+00:00"}, "requestParameters": {},
            "error": error, "perf": None, "data": data, "copyright": ioda.NAME}


@pytest.fixture(scope="module")
def bgp_csv():
    df = pd.read_csv(DATA / BGP)
    df["time"] = pd.to_datetime(df["timestamp"], utc=True)
    return df


@pytest.fixture
def bgp_payload(bgp_csv):
    """The real BGP window in IODA's /signals/raw envelope (nulls where the original is empty)."""
    start = int(bgp_csv["time"].iloc[0].timestamp())
    values = [None if np.isnan(v) else int(v) for v in bgp_csv["value"]]
    series = {"entityType": "country", "entityCode": "IR", "entityName": "Iran", "entityFqid": "geo.provider.AS.IR",
              "datasource": "bgp", "subtype": "", "from": start, "until": start + 300 * len(values), "step": 300,
              "nativeStep": 300, "values": values}
    return envelope([[series]])


def test_parse_signals_keeps_every_real_value_at_its_utc_time(bgp_payload, bgp_csv):
    df = ioda.parse_signals(bgp_payload)
    assert list(df.columns) == ["entity", "datasource", "time", "value"]
    assert len(df) == len(bgp_csv) == 615
    assert (df["entity"] == "country/IR").all() and (df["datasource"] == "bgp").all()
    assert df["time"].dt.tz is not None
    assert (df["time"].to_numpy() == bgp_csv["time"].to_numpy()).all()
    np.testing.assert_array_equal(df["value"].to_numpy(), bgp_csv["value"].to_numpy())


def test_nulls_stay_gaps_not_zeros(bgp_payload):
    df = ioda.parse_signals(bgp_payload).set_index("time")["value"]
    gaps = df[df.isna()].index
    assert [t.strftime("%Y-%m-%d %H:%M") for t in gaps] == ["2019-11-16 07:55", "2019-11-16 15:55"]
    assert (df.dropna() > 0).all()


@pytest.mark.parametrize("mutate, field", [
    (lambda s: s["values"].pop(), "data[0][0].values has 614 values, expected 615"),
    (lambda s: s.pop("step"), "data[0][0].step is missing"),
    (lambda s: s.__setitem__("from", "1573837200"), "data[0][0].from is str"),
    (lambda s: s["values"].__setitem__(3, "46122"), "data[0][0].values[3] is '46122'"),
    (lambda s: s["values"].__setitem__(4, True), "data[0][0].values[4] is True"),
    (lambda s: s["values"].__setitem__(5, 10**400), "data[0][0].values[5] is 1000"),
    (lambda s: s["values"].__setitem__(6, float("inf")), "data[0][0].values[6] is inf"),
    (lambda s: s.__setitem__("from", 10**20), "data[0][0].from is 100000000000000000000, outside"),
    (lambda s: s.__setitem__("until", s["until"] + 7), "data[0][0].until"),
    (lambda s: s.__setitem__("step", 0), "data[0][0].step is 0"),
    (lambda s: s.__setitem__("entityCode", "Iran!"), "data[0][0].entityCode is not an entity"),
])
def test_malformed_series_name_the_field(bgp_payload, mutate, field):
    bad = copy.deepcopy(bgp_payload)
    mutate(bad["data"][0][0])
    with pytest.raises(SourceError, match="malformed payload") as info:
        ioda.parse_signals(bad, url="http://x/v2/signals/raw/country/IR")
    assert field in str(info.value) and info.value.url == "http://x/v2/signals/raw/country/IR"


@pytest.mark.parametrize("payload, field", [
    ([], "payload is list"), ({"error": None}, "data is missing"), ({"data": {"a": 1}, "error": None}, "data is dict"),
    ({"data": [{"a": 1}], "error": None}, "data[0] is dict"),
])
def test_malformed_envelopes_name_the_field(payload, field):
    with pytest.raises(SourceError) as info:
        ioda.parse_signals(payload)
    assert field in str(info.value)


def test_an_error_in_a_200_envelope_is_a_failure(bgp_payload):
    with pytest.raises(SourceError, match="error reports 'influx timeout'"):
        ioda.parse_signals(envelope(bgp_payload["data"], error="influx timeout"))


def test_subtypes_become_their_own_datasource():
    series = {"entityType": "country", "entityCode": "TR", "datasource": "gtr", "subtype": "WEB_SEARCH",
              "from": 1706745600, "until": 1706749200, "step": 1800, "values": [955040520, 761764750]}
    df = ioda.parse_signals(envelope([[series]]))
    assert set(df["datasource"]) == {"gtr.web_search"} and df["value"].iloc[0] == 955040520


# Recorded shapes from docs/sources.md (third-party fixtures of IODA's API).
EVENTS = {"type": "outages.events", "metadata": {}, "requestParameters": {}, "error": None, "perf": None, "data": [
    {"location": "region/1906", "start": 1788354900, "duration": 1209900, "uncertainty": None, "method": "median",
     "datasource": "bgp", "status": 0, "fraction": None, "score": 59189.58584640128, "location_name": "Cagliari",
     "overlaps_window": True},
    {"location": "country/TO", "start": 1788422700, "duration": 3600, "uncertainty": None, "method": "median",
     "datasource": "ping-slash24", "status": 0, "fraction": None, "score": 24585.36, "location_name": "Tonga",
     "overlaps_window": False}]}
ALERTS = {"type": "outages.alerts", "error": None, "data": [
    {"datasource": "bgp", "entity": {"code": "200899", "name": "AS200899 (INTERSPACE-EUROPE)", "type": "asn",
                                      "attrs": {"org": "INTERSPACE DOOEL Skopje", "ip_count": "7168"}},
     "time": 1784176200, "level": "critical", "condition": "< 0.99", "value": 28, "historyValue": 36,
     "method": "median"},
    {"datasource": "bgp", "entity": {"code": "200899", "name": "AS200899", "type": "asn", "attrs": {}},
     "time": 1784179800, "level": "normal", "condition": ">= 0.99", "value": 36, "historyValue": 36,
     "method": "median"}]}


def test_parse_events_marks_events_reaching_the_window_end_as_ongoing():
    until = pd.Timestamp(1788354900 + 1209900, unit="s", tz="UTC")
    df = ioda.parse_events(EVENTS, until=until).set_index("entity")
    assert df.loc["region/1906", "end"] is pd.NaT and pd.isna(df.loc["region/1906", "country"])
    tonga = df.loc["country/TO"]
    assert tonga["end"] - tonga["start"] == pd.Timedelta("1h") and tonga["country"] == "TO"
    assert tonga["outage_id"] == "ioda-events:country/TO:ping-slash24:median:1788422700"
    assert tonga["source"] == "ioda-events" and tonga["datasources"] == ["ping-slash24"]
    assert tonga["score"] == pytest.approx(24585.36) and tonga["detail"]["location_name"] == "Tonga"


def test_parse_alerts_keeps_non_normal_alerts_as_one_bin_outages():
    df = ioda.parse_alerts(ALERTS)
    assert len(df) == 1
    row = df.iloc[0]
    assert row["entity"] == "asn/200899" and row["source"] == "ioda-alerts"
    assert row["end"] - row["start"] == pd.Timedelta("5min")
    assert row["depth"] == pytest.approx(1 - 28 / 36)
    bad = copy.deepcopy(ALERTS)
    del bad["data"][0]["entity"]["code"]
    with pytest.raises(SourceError, match=r"data\[0\]\.entity\.code is missing"):
        ioda.parse_alerts(bad)


@pytest.fixture(scope="module")
def replay():
    with running() as server:
        yield server


def test_fetch_through_the_replay_gets_signals_and_reference_outages(replay):
    spec = get_source("ioda")
    before = replay.count()
    with HttpClient("ioda") as client:
        batch = spec.fetch(client, replay.base_urls["ioda"], Entity.parse("country/IR"), T0, T1, spec.check_options({}))
    assert replay.count() - before == 3  # one signals request (all datasources), events, alerts
    counts = batch.signals.groupby("datasource")["value"].agg(["size", "count"])
    assert counts.loc["ping-slash24"].tolist() == [1332, 1332] and counts.loc["bgp"].tolist() == [615, 613]
    assert set(batch.outages["source"]) == {"ioda-events", "ioda-alerts"}
    ping_event = batch.outages[(batch.outages["source"] == "ioda-events")
                               & (batch.outages["datasources"].map(tuple) == ("ping-slash24",))].iloc[0]
    assert pd.Timestamp("2019-11-16 16:00", tz="UTC") < ping_event["start"] < pd.Timestamp("2019-11-16 19:00", tz="UTC")


def test_fetch_one_request_per_chosen_datasource_and_only_the_window(replay):
    spec = get_source("ioda")
    start, end = pd.Timestamp("2019-11-16 00:00", tz="UTC"), pd.Timestamp("2019-11-16 12:02", tz="UTC")
    before = replay.count("/v2/signals")
    with HttpClient("ioda") as client:
        batch = spec.fetch(client, replay.base_urls["ioda"], Entity.parse("country/IR"), start, end,
                           spec.check_options({"datasources": ["bgp", "merit-nt"], "reference": False}))
    assert replay.count("/v2/signals") - before == 2
    assert set(batch.signals["datasource"]) == {"bgp"} and batch.outages.empty
    assert batch.signals["time"].min() == start
    assert batch.signals["time"].max() == pd.Timestamp("2019-11-16 12:00", tz="UTC")
    assert len(batch.signals) == 12 * 12 + 1


def test_event_pages_are_followed_until_a_short_page(httpserver):
    alert = ALERTS["data"][0]
    page0 = [dict(alert, time=alert["time"] + 300 * i) for i in range(ioda.PAGE_SIZE)]
    page1 = [dict(alert, time=alert["time"] + 300 * (ioda.PAGE_SIZE + i)) for i in range(3)]
    empty = {"type": "signals", "error": None, "data": []}
    httpserver.expect_request("/v2/signals/raw/asn/200899").respond_with_json(empty)
    httpserver.expect_request("/v2/entities/query").respond_with_json({"error": None, "data": []})
    httpserver.expect_request("/v2/outages/events").respond_with_json({"error": None, "data": []})
    httpserver.expect_request("/v2/outages/alerts", query_string={"entityType": "asn", "entityCode": "200899",
                              "from": "1784000000", "until": "1784900000", "limit": "500", "page": "0"}
                              ).respond_with_json({"error": None, "data": page0})
    httpserver.expect_request("/v2/outages/alerts", query_string={"entityType": "asn", "entityCode": "200899",
                              "from": "1784000000", "until": "1784900000", "limit": "500", "page": "1"}
                              ).respond_with_json({"error": None, "data": page1})
    with HttpClient("ioda") as client:
        batch = ioda.fetch(client, httpserver.url_for("/v2"), Entity.parse("asn/200899"),
                           pd.Timestamp(1784000000, unit="s", tz="UTC"), pd.Timestamp(1784900000, unit="s", tz="UTC"),
                           ioda.SOURCE.check_options({}))
    assert len(batch.outages) == ioda.PAGE_SIZE + 3 and batch.outages["outage_id"].is_unique


# An `/entities/query` item as documented (docs/sources.md: {code, name, type, attrs, subnames}); the
# region's attrs follow IODA's region entities, the ASN's the alert fixture's (org, ip_count).
REGION_ITEM = {"code": "2369", "name": "Tehran", "type": "region",
               "attrs": {"country_code": "IR", "country_name": "Iran", "fqid": "geo.netacuity.AS.IR.2369"},
               "subnames": []}
ASN_ITEM = {"code": "200899", "name": "AS200899 (INTERSPACE-EUROPE)", "type": "asn",
            "attrs": {"org": "INTERSPACE DOOEL Skopje", "ip_count": "7168"}}


@pytest.mark.parametrize("entity,item,country,name", [
    ("region/2369", REGION_ITEM, "IR", "Tehran"),
    ("asn/200899", ASN_ITEM, None, "AS200899 (INTERSPACE-EUROPE)"),
])
def test_fetch_gives_where_a_region_or_asn_is(httpserver, entity, item, country, name):
    ent = Entity.parse(entity)
    empty = {"type": "signals", "error": None, "data": []}
    httpserver.expect_request(f"/v2/signals/raw/{ent.type}/{ent.code}").respond_with_json(empty)
    httpserver.expect_request("/v2/entities/query", query_string={"entityType": ent.type, "entityCode": ent.code}
                              ).respond_with_json({"type": "entities", "error": None, "data": [item]})
    with HttpClient("ioda") as client:
        batch = ioda.fetch(client, httpserver.url_for("/v2"), ent, pd.Timestamp(1784000000, unit="s", tz="UTC"),
                           pd.Timestamp(1784900000, unit="s", tz="UTC"),
                           ioda.SOURCE.check_options({"reference": False}))
    assert batch.places.to_dict("records") == [{"entity": entity, "country": country, "name": name,
                                                "source": "ioda"}]


def test_an_entity_not_listed_has_no_place_and_a_malformed_answer_names_the_field():
    assert ioda.parse_place({"error": None, "data": []}, Entity.parse("asn/1")).empty
    with pytest.raises(SourceError, match=r"data\[0\]"):
        ioda.parse_place({"error": None, "data": ["x"]}, Entity.parse("asn/1"), "u")
