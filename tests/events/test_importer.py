"""import_events: format guessing, one-transaction sync, idempotent re-import, and safety on errors."""

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from monitor.errors import ConfigError, InputError, ParseError
from monitor.events.importer import import_events
from monitor.http import HttpClient

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
STOP = "accessnow-stop/stop_combined_2016-2025_snapshot-2026-05-20.csv"
IODA = "ioda-outages/ioda_investigated_outages_cleaned_phase1+2.csv"
WINDOW = (pd.Timestamp("2020-09-01T00:00Z"), pd.Timestamp("2020-11-01T00:00Z"))
T = pd.Timestamp


def _feed(tmp_path, fixture, name="feed.ics"):
    """Copy a fixture to one path, so successive versions are the same feed."""
    path = tmp_path / name
    shutil.copy(FIXTURES / fixture, path)
    return str(path)


@pytest.mark.parametrize("relpath, source, rows", [(STOP, "stop", 2102), (IODA, "ioda-outages", 1704)])
def test_documented_shutdown_lists_import_once(sqlite_store, data_dir, relpath, source, rows):
    first = import_events(sqlite_store, str(data_dir / relpath))
    assert (first.source, first.fmt, first.rows) == (source, source, rows)  # format recognised from the header
    assert first.added == first.events == rows - len(first.skipped) + (6 if source == "stop" else 0)
    assert first.skipped and all(s.reason for s in first.skipped)
    stored = sqlite_store.read_events(sources=[source])
    assert len(stored) == first.events
    again = import_events(sqlite_store, str(data_dir / relpath))
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, first.events)
    assert len(sqlite_store.read_events(sources=[source])) == len(stored)
    report = str(again)
    assert f"read {rows} record(s)" in report and f"skipped {len(first.skipped)}" in report
    assert "unchanged" in report


def test_stop_all_day_events_round_trip_through_the_store(sqlite_store, data_dir):
    import_events(sqlite_store, str(data_dir / STOP), country="BY")
    by = sqlite_store.read_events(countries=["BY"], start=T("2020-08-09T00:00Z"), end=T("2020-08-10T00:00Z"))
    election = by[by["title"].str.contains("Elections")]
    assert election["start"].tolist() == [T("2020-08-08T21:00Z")]
    assert election["end"].tolist() == [T("2020-12-07T21:00Z")]
    assert election["all_day"].tolist() == [True]
    assert json.loads(election.iloc[0]["raw"])["count_year"] == "2020"


def test_updated_ics_feed_updates_adds_and_removes_without_duplicates(sqlite_store, tmp_path):
    path = _feed(tmp_path, "dushanbe_weekly.ics")
    first = import_events(sqlite_store, path, window=WINDOW)
    assert (first.source, first.added, first.events) == ("feed", 6, 6)
    shutil.copy(FIXTURES / "dushanbe_weekly_v2.ics", path)
    second = import_events(sqlite_store, path, window=WINDOW)
    # the 09-30 instance is retitled, the exam is now CANCELLED, a results event is new
    assert (second.added, second.updated, second.unchanged, second.removed) == (1, 1, 4, 1)
    stored = sqlite_store.read_events(sources=["feed"]).set_index("uid")
    assert len(stored) == 6 and stored.index.is_unique
    assert "exam-day@example.org" not in stored.index
    assert stored.loc["weekly-briefing@example.org/20200930T140000Z", "title"] == "Last briefing before the election"
    assert stored.loc["results@example.org", "kind"] == "results"
    third = import_events(sqlite_store, path, window=WINDOW)
    assert (third.added, third.updated, third.removed) == (0, 0, 0)


def test_a_parse_error_leaves_the_store_untouched(sqlite_store, tmp_path):
    path = _feed(tmp_path, "dushanbe_weekly.ics")
    import_events(sqlite_store, path, window=WINDOW)
    before = sqlite_store.read_events()
    shutil.copy(FIXTURES / "broken_dtstart.ics", path)
    with pytest.raises(ParseError, match="feed.ics, event UID=broken@example.org"):
        import_events(sqlite_store, path, window=WINDOW)
    shutil.copy(FIXTURES / "not_a_calendar.ics", path)
    with pytest.raises(ParseError, match="not a valid iCalendar file"):
        import_events(sqlite_store, path, window=WINDOW)
    pd.testing.assert_frame_equal(sqlite_store.read_events(), before)


def test_a_feed_that_yields_nothing_deletes_nothing(sqlite_store, tmp_path):
    path = _feed(tmp_path, "dushanbe_weekly.ics")
    import_events(sqlite_store, path, window=WINDOW)
    (tmp_path / "feed.ics").write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n")
    summary = import_events(sqlite_store, path, window=WINDOW)
    assert (summary.events, summary.removed) == (0, 0)
    assert len(sqlite_store.read_events(sources=["feed"])) == 6


def test_pruning_stays_inside_the_window_and_country(sqlite_store, data_dir):
    import_events(sqlite_store, str(data_dir / STOP), country="TJ")
    import_events(sqlite_store, str(data_dir / STOP), country="KG")
    tj = sqlite_store.read_events(sources=["stop"], countries=["TJ"])
    kg = sqlite_store.read_events(sources=["stop"], countries=["KG"])
    assert len(tj) == 5 and len(kg) > 0  # importing KG did not prune TJ
    summary = import_events(sqlite_store, str(data_dir / STOP), country="TJ",
                            window=(T("2021-01-01T00:00Z"), T("2021-02-01T00:00Z")))
    assert (summary.events, summary.unchanged, summary.removed) == (1, 1, 0)
    assert len(sqlite_store.read_events(sources=["stop"])) == len(tj) + len(kg)


def test_curated_csv_and_yaml_and_names(sqlite_store, data_dir):
    starter = import_events(sqlite_store, str(data_dir / "events/starter.csv"))
    assert (starter.source, starter.fmt, starter.added) == ("starter", "csv", 6)
    yaml_summary = import_events(sqlite_store, str(FIXTURES / "curated.yaml"), name="mine")
    assert (yaml_summary.source, yaml_summary.fmt, yaml_summary.added) == ("mine", "yaml", 2)
    tj = sqlite_store.read_events(countries=["TJ"], start=T("2020-09-01T00:00Z"), end=T("2020-11-01T00:00Z"))
    assert set(tj["uid"]) == {"tj-2020-09-16-kabiri-gwu", "tj-2020-09-16-outage",
                              "tj-2020-10-11-presidential-election", "yaml-election"}


@pytest.mark.parametrize("fixture, message", [
    ("missing_end_column.csv", r"missing_end_column.csv, row 1 \(header\): field end: required column missing"),
    ("unknown_country.csv", r"unknown_country.csv, row 3: field country = 'Atlantis': unknown country"),
])
def test_bad_curated_files_store_nothing(sqlite_store, fixture, message):
    with pytest.raises(ParseError, match=message):
        import_events(sqlite_store, str(FIXTURES / fixture))
    assert sqlite_store.read_events().empty


def test_option_errors(sqlite_store, data_dir, tmp_path):
    with pytest.raises(InputError, match="cannot tell the format"):
        import_events(sqlite_store, str(tmp_path / "calendar.txt"))
    with pytest.raises(InputError, match="cannot read"):
        import_events(sqlite_store, str(tmp_path / "missing.ics"))
    with pytest.raises(InputError, match="--kind does not apply to format stop"):
        import_events(sqlite_store, str(data_dir / STOP), kind="protest")
    with pytest.raises(InputError, match="ACLED needs a date range"):
        import_events(sqlite_store, "acled", country="TJ")


def test_acled_saved_answer_and_live_query(sqlite_store, httpserver):
    saved = import_events(sqlite_store, str(FIXTURES / "acled_protests_page1.json"))
    assert (saved.source, saved.fmt, saved.added) == ("acled", "acled", 2)
    window = (T("2020-09-01T00:00Z"), T("2020-11-01T00:00Z"))
    with pytest.raises(ConfigError, match="ACLED_EMAIL and ACLED_PASSWORD"):
        import_events(sqlite_store, httpserver.url_for("/"), fmt="acled", country="TJ", window=window, env={})
    token = json.loads((FIXTURES / "acled_token.json").read_text())
    httpserver.expect_request("/oauth/token", method="POST").respond_with_json(token)
    for event_type, fixture in (("Protests", "acled_protests_page2.json"), ("Riots", "acled_riots_page1.json")):
        httpserver.expect_request("/api/acled/read", query_string={
            "_format": "json", "iso": "762", "event_type": event_type, "event_date": "2020-09-01|2020-10-31",
            "event_date_where": "BETWEEN", "limit": "5000", "page": "1"}).respond_with_json(
            json.loads((FIXTURES / fixture).read_text()))
    query = {"fmt": "acled", "country": "TJ", "window": window, "env": {"ACLED_EMAIL": "a@example.org",
                                                                        "ACLED_PASSWORD": "p"}}
    with HttpClient(source="acled", retries=0, timeout=5) as client:
        with pytest.raises(InputError, match="calendar 'acled' was imported from .*acled_protests_page1.json"):
            import_events(sqlite_store, httpserver.url_for("/"), client=client, **query)
        live = import_events(sqlite_store, httpserver.url_for("/"), client=client, replace=True, **query)
    # with replace, the live query for TJ in the window replaces the saved answer's events there
    assert (live.added, live.removed) == (2, 2)
    assert sorted(sqlite_store.read_events(sources=["acled"])["uid"]) == ["TJK9003", "TJK9004"]


def test_import_is_recorded_as_a_run(sqlite_store, data_dir):
    import_events(sqlite_store, str(data_dir / "events/starter.csv"))
    runs = sqlite_store.read_runs(job="events-import")
    assert runs["key"].tolist() == ["starter"] and runs["status"].tolist() == ["ok"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/feed.ics", "data:text/calendar,X"])
def test_urls_other_than_http_are_refused(sqlite_store, url):
    with pytest.raises(InputError, match="local files or http\\(s\\) URLs"):
        import_events(sqlite_store, url, fmt="ics")


def test_a_calendar_of_the_same_name_from_elsewhere_is_refused_unless_replace(sqlite_store, data_dir, tmp_path,
                                                                              monkeypatch):
    starter = data_dir / "events/starter.csv"
    import_events(sqlite_store, str(starter))
    before = sqlite_store.read_events()
    other = tmp_path.resolve() / "other" / "starter.csv"
    other.parent.mkdir()
    other.write_text("\n".join(starter.read_text().splitlines()[:2]) + "\n")  # the header and one event
    message = (f"calendar 'starter' was imported from {starter.resolve()}; importing {other} under the same "
               "name would replace its 6 event")
    for name in (None, "starter"):  # the file's stem, or an explicit --name reused by mistake
        with pytest.raises(InputError, match=re.escape(message)):
            import_events(sqlite_store, str(other), name=name)
    pd.testing.assert_frame_equal(sqlite_store.read_events(), before)
    kept = import_events(sqlite_store, str(other), name="other")  # another name keeps both
    assert (kept.source, kept.added) == ("other", 1) and len(sqlite_store.read_events()) == 7
    monkeypatch.chdir(starter.parent)  # the same file by another spelling is the same calendar
    assert import_events(sqlite_store, "starter.csv").unchanged == 6
    replaced = import_events(sqlite_store, str(other), replace=True)
    assert (replaced.unchanged, replaced.removed) == (1, 5)
    # now the calendar comes from the other file: re-importing it syncs, the original is refused
    assert import_events(sqlite_store, str(other)).unchanged == 1
    with pytest.raises(InputError, match=re.escape(f"was imported from {other};")):
        import_events(sqlite_store, str(starter))
