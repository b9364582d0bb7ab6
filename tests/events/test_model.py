"""The event model: kinds, ids, local days, row errors, and the EVENT_COLUMNS frame."""

import datetime as dt

import pandas as pd
import pytest

from monitor.errors import InputError, ParseError
from monitor.events.model import (RowError, collect, events_frame, local_days, parse_kind, source_from_path,
                                  source_name, stable_uid, validate_events)
from monitor.frames import EVENT_COLUMNS

UTC = "UTC"


def _record(**over):
    rec = {"uid": "a", "source": "test", "kind": "election", "country": "TJ", "region": "",
           "start": pd.Timestamp("2020-10-10T19:00Z"), "end": pd.Timestamp("2020-10-11T19:00Z"), "all_day": True,
           "title": "Election", "url": "", "description": None, "raw": "{}"}
    rec.update(over)
    return rec


@pytest.mark.parametrize("text, kind", [("election", "election"), ("Opposition event", "opposition_event"),
                                        ("shutdown-report", "shutdown_report"), (" COUP ", "coup")])
def test_parse_kind_normalises(text, kind):
    assert parse_kind(text) == kind


def test_parse_kind_refuses_unknown():
    with pytest.raises(InputError, match="unknown event kind 'riot'"):
        parse_kind("riot")


def test_stable_uid_depends_on_every_part_only():
    assert stable_uid("TJ", "2020-10-11", "Election") == stable_uid("TJ", "2020-10-11", "Election")
    assert stable_uid("TJ", "2020-10-11", "Election") != stable_uid("TJ", "2020-10-12", "Election")
    assert stable_uid("a", "bc") != stable_uid("ab", "c")  # parts are separated, not concatenated
    assert len(stable_uid("x")) == 16


def test_source_names():
    assert source_name("ioda-outages") == "ioda-outages"
    assert source_from_path("My Events 2020") == "my-events-2020"
    with pytest.raises(InputError):
        source_name("Has Spaces")


def test_local_days_are_whole_local_days_in_utc():
    start, end = local_days(dt.date(2020, 10, 11), dt.date(2020, 10, 11), "Asia/Dushanbe")
    assert (start, end) == (pd.Timestamp("2020-10-10T19:00Z"), pd.Timestamp("2020-10-11T19:00Z"))
    # a day with a DST change is 23 hours long, and the range is inclusive of the last day
    start, end = local_days(dt.date(2020, 3, 28), dt.date(2020, 3, 29), "Europe/Berlin")
    assert start == pd.Timestamp("2020-03-27T23:00Z")
    assert end == pd.Timestamp("2020-03-29T22:00Z")
    with pytest.raises(InputError, match="before first day"):
        local_days(dt.date(2020, 3, 29), dt.date(2020, 3, 28), "Europe/Berlin")


def _parse_row(row):
    if row["v"] == "bad":
        raise RowError("v", row["v"], "not good")
    return [{"v": row["v"]}]


def test_collect_skips_and_reports_bad_rows_when_lenient():
    rows = [(2, {"v": "ok"}), (3, {"v": "bad"}), (4, {"v": "ok2"})]
    records, skipped, count = collect(rows, _parse_row, "f.csv", strict=False)
    assert [r["v"] for r in records] == ["ok", "ok2"]
    assert count == 3
    assert [(s.row, s.field, s.value, s.reason) for s in skipped] == [(3, "v", "bad", "not good")]
    assert str(skipped[0]) == "row 3, field v = 'bad': not good"


def test_collect_strict_names_file_row_and_field():
    with pytest.raises(ParseError) as err:
        collect([(2, {"v": "ok"}), (7, {"v": "bad"})], _parse_row, "f.csv", strict=True)
    assert str(err.value) == "f.csv, row 7: field v = 'bad': not good"
    assert "\n" not in str(err.value)


def test_events_frame_has_the_contract_dtypes():
    df = events_frame([_record(), _record(uid="b", start=pd.Timestamp("2020-09-16T14:40Z"),
                                          end=pd.Timestamp("2020-09-16T15:40Z"), all_day=False)])
    assert list(df.columns) == EVENT_COLUMNS
    assert str(df["start"].dtype) == "datetime64[s, UTC]"
    assert df["all_day"].tolist() == [True, False]
    assert df["region"].tolist() == [None, None]  # empty text becomes None, not ''
    validate_events(df)
    empty = events_frame([])
    assert list(empty.columns) == EVENT_COLUMNS and empty.empty


@pytest.mark.parametrize("over, message", [
    ({"kind": "riot"}, "field kind"),
    ({"country": "Tajikistan"}, "not an ISO alpha-2 code"),
    ({"end": pd.Timestamp("2020-10-01T00:00Z")}, "end before start"),
])
def test_validate_events_refuses_contract_breaks(over, message):
    df = events_frame([_record(**over)])
    with pytest.raises(InputError, match=message):
        validate_events(df, "x.csv")


def test_validate_events_refuses_duplicate_ids():
    df = events_frame([_record(), _record(title="Other")])
    with pytest.raises(InputError, match="duplicate"):
        validate_events(df)
