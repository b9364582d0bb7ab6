"""Cloudflare Radar outage annotations: parser on an illustrative payload (shape per docs/sources.md),
fetch over real HTTP with offset paging and the bearer token."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from monitor.entities import Entity
from monitor.errors import SourceError
from monitor.sources import cloudflare_radar as radar

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures/cloudflare_radar/annotations-outages-IR.json"
IR = Entity.parse("country/IR")


@pytest.fixture
def payload():
    return json.loads(FIXTURE.read_text())


def test_annotations_become_reference_outages_with_cause_and_scope(payload):
    df = radar.parse_annotations(payload, "country/IR")
    assert list(df["outage_id"]) == ["cloudflare-radar:illustrative-1:country/IR",
                                     "cloudflare-radar:illustrative-2:country/IR"]
    first, second = df.iloc[0], df.iloc[1]
    assert first["start"] == pd.Timestamp("2022-09-21 14:00", tz="UTC")
    assert first["end"] == pd.Timestamp("2022-09-21 22:30", tz="UTC")
    assert first["detail"]["cause"] == "POWER_OUTAGE" and first["detail"]["scope"] == "Multiple regions/cities"
    assert first["country"] == "IR" and first["datasources"] == ["cloudflare-all"]
    assert first["method"] == "cloudflare-radar"
    assert pd.isna(second["end"]) and second["detail"]["type"] == "NATIONWIDE"


@pytest.mark.parametrize("mutate, field", [
    (lambda p: p.update(success=False, errors=[{"code": 10000, "message": "Authentication error"}]),
     "success is false: Authentication error"),
    (lambda p: p["result"].pop("annotations"), "result.annotations is missing"),
    (lambda p: p["result"]["annotations"][0].__setitem__("startDate", "soon"),
     r"result.annotations\[0\].startDate is not a time"),
    (lambda p: p["result"]["annotations"][1].pop("id"), r"result.annotations\[1\].id is missing"),
])
def test_malformed_payloads_name_the_field(payload, mutate, field):
    bad = copy.deepcopy(payload)
    mutate(bad)
    with pytest.raises(SourceError, match=field):
        radar.parse_annotations(bad, "country/IR")


def test_fetch_pages_by_offset_with_the_bearer_token(httpserver, payload):
    template = payload["result"]["annotations"][0]
    full = [{**template, "id": f"p{i}"} for i in range(radar.PAGE_SIZE)]
    base = {"location": "IR", "dateStart": "2022-09-01T00:00:00Z", "dateEnd": "2022-10-01T00:00:00Z",
            "format": "json", "limit": str(radar.PAGE_SIZE)}
    auth = {"Authorization": "Bearer tok-123"}
    httpserver.expect_request("/radar/annotations/outages", headers=auth, query_string={**base, "offset": "0"}
                              ).respond_with_json({"success": True, "errors": [], "result": {"annotations": full}})
    httpserver.expect_request("/radar/annotations/outages", headers=auth,
                              query_string={**base, "offset": str(radar.PAGE_SIZE)}).respond_with_json(payload)
    spec = radar.SOURCE
    with spec.client({"CLOUDFLARE_API_TOKEN": "tok-123"}) as client:
        batch = spec.fetch(client, httpserver.url_for("/radar"), IR, pd.Timestamp("2022-09-01", tz="UTC"),
                           pd.Timestamp("2022-10-01", tz="UTC"), spec.check_options({}))
    assert len(batch.outages) == radar.PAGE_SIZE + 2 and batch.outages["outage_id"].is_unique
    assert batch.signals.empty


def test_no_token_no_client():
    with pytest.raises(SourceError, match="CLOUDFLARE_API_TOKEN is not set"):
        radar.SOURCE.client({})


@pytest.mark.parametrize("date", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "999999999999", "2022-13-01"])
def test_absurd_dates_are_refused(payload, date):
    payload["result"]["annotations"][0]["startDate"] = date
    with pytest.raises(SourceError, match=r"result.annotations\[0\].startDate is"):
        radar.parse_annotations(payload, "country/IR")
