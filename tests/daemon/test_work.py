"""The daemon's jobs over the replayed Iran November 2019 data: collect, analyse what changed, write
reports once, queue alerts for new coincidences and deliver them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from monitor.daemon.work import ANALYSED, Work
from monitor.errors import ConfigError

CALENDAR = """uid,country,start,end,kind,title,url,region,timezone,description
test-ir-2019-11-16,IR,2019-11-16T13:00:00Z,2019-11-16T15:00:00Z,protest,Test fixture event (not a real event),,,,"made up for the alert test"
"""


def test_collect_analyse_report_once(sqlite_store, make_config, tmp_path):
    work = Work(sqlite_store, make_config())
    out = work.collect("ioda", work.config.sources["ioda"])
    assert out.errors == [] and out.detail["points"] == 615 + 1332 and out.detail["new_points"] == 1947
    assert work.pending()
    analysed = work.analyse()
    assert analysed.errors == [] and analysed.items == 1 and analysed.detail["reports"] == 1
    assert not work.pending()
    outage = sqlite_store.read_outages(sources=["detected"]).iloc[0]
    assert outage["start"] == pd.Timestamp("2019-11-16T14:05:00Z")
    reports = sorted((tmp_path / "reports").iterdir())
    assert [p.name for p in reports] == ["incident-country-IR-20191116T140500Z-html.csv",
                                         "incident-country-IR-20191116T140500Z-html.evidence.json",
                                         "incident-country-IR-20191116T140500Z.html"]
    assert sqlite_store.get_cursor(ANALYSED, "country/IR") == pd.Timestamp("2019-11-24", tz="UTC")
    # Nothing new: no detection, no second report.
    again = work.analyse()
    assert again.detail == {"entities": 0, "reports": 0}
    # Collecting again re-fetches only the overlap and adds nothing.
    assert work.collect("ioda", work.config.sources["ioda"]).detail["new_points"] == 0


def test_a_failing_source_reports_its_error_and_leaves_others_alone(sqlite_store, make_config):
    work = Work(sqlite_store, make_config())
    atlas = work.collect("ripe-atlas", work.config.sources["ripe-atlas"])
    assert len(atlas.errors) == 1 and "HTTP 404" in atlas.errors[0]
    assert work.collect("ioda", work.config.sources["ioda"]).errors == []


def test_restart_catches_up_from_the_analysed_position(sqlite_store, make_config):
    first = Work(sqlite_store, make_config())
    first.collect("ioda", first.config.sources["ioda"])
    first.analyse()
    restarted = Work(sqlite_store, make_config(reanalyse="2D"))
    restarted.catch_up()
    assert restarted._dirty == {"country/IR": pd.Timestamp("2019-11-22", tz="UTC")}


def test_a_new_coincidence_rewrites_the_report_and_alerts(sqlite_store, make_config, tmp_path, httpserver):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_json({"ok": True})
    calendar = tmp_path / "test-events.csv"
    calendar.write_text(CALENDAR)
    config = make_config(calendar=calendar, alerts={"webhook_url": httpserver.url_for("/hook"), "max_age": "30D"})
    woken = []
    work = Work(sqlite_store, config, wake=woken.append)
    work.collect("ioda", config.sources["ioda"])
    work.analyse()
    assert work.calendar("starter", config.calendars["starter"]).detail["added"] == 1
    assert woken[-1] == "analyse"
    out = work.analyse()
    assert out.detail["coincidences"] == 1 and out.detail["alerts_queued"] == 1 and out.detail["reports"] == 1
    assert woken[-1] == "alerts"
    report = sqlite_store.read_deliveries(channel="report").iloc[0]["payload"]
    assert report["coincidences"] == 1
    # A later correlation run of another scope (a user's, for Tajikistan) changes nothing here.
    sqlite_store.write_correlation({"outages": "detected", "countries": ["TJ"],
                                    "span": ["2019-11-01T00:00:00Z", "2019-12-01T00:00:00Z"]},
                                   pd.DataFrame(), pd.DataFrame())
    assert work.analyse().detail["reports"] == 0
    delivered = work.deliver_alerts()
    assert delivered.items == 1 and delivered.errors == []
    alert = json.loads(httpserver.log[0][0].get_data())
    assert alert["entity"] == "country/IR" and alert["event_title"] == "Test fixture event (not a real event)"
    assert work.deliver_alerts().items == 0


def test_digest_covers_the_watched_countries(sqlite_store, make_config, tmp_path):
    work = Work(sqlite_store, make_config(digest_span="10D"))
    work.collect("ioda", work.config.sources["ioda"])
    work.analyse()
    out = work.digest()
    assert out.items == 1
    assert out.detail["path"] == str(tmp_path / "reports" / "digest-20191114T000000Z-20191124T000000Z.html")
    assert "Iran" in (tmp_path / "reports" / "digest-20191114T000000Z-20191124T000000Z.html").read_text()


def test_bad_settings_are_config_errors_naming_the_section(sqlite_store, make_config):
    with pytest.raises(ConfigError, match=r"\[daemon\].*unknown key 'report_dri'"):
        Work(sqlite_store, make_config(report_dri="x"))
    with pytest.raises(ConfigError, match="heartbeat"):
        Work(sqlite_store, make_config(heartbeat="5min"))
