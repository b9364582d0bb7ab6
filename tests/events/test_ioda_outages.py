"""IODA's hand-checked outage list -> timed shutdown_report events in UTC."""

import re
from pathlib import Path

import pandas as pd
import pytest

from monitor.errors import InputError, ParseError
from monitor.events.ioda_outages import parse_ioda_outages, parse_time

DATA = Path(__file__).resolve().parents[2] / "data"
LIST = "ioda-outages/ioda_investigated_outages_cleaned_phase1+2.csv"
T = pd.Timestamp


@pytest.fixture(scope="module")
def outages():
    return parse_ioda_outages((DATA / LIST).read_text(encoding="utf-8"), where="ioda.csv")


@pytest.mark.parametrize("text, ts", [
    ("Saturday, November 16, 2019, 2:00:00 PM", "2019-11-16T14:00Z"),
    ("Monday, February 1, 2021, 12:20:00 AM", "2021-02-01T00:20Z"),
    ("Monday, February 1, 2021, 12:20:00 PM", "2021-02-01T12:20Z"),
    ("Sunday, May 27, 2018, 11:00 PM", "2018-05-27T23:00Z"),      # no seconds
    ("Monday, October 25, 2021, 2:30: AM", "2021-10-25T02:30Z"),  # empty seconds field
    ("Saturday June 2, 2018, 8:00 AM", "2018-06-02T08:00Z"),      # no comma after the weekday
    ("7/28/2020  17:00:00 PM", "2020-07-28T17:00Z"),              # the sheet's numeric spelling
    ("4/15/2020  23:40:00 AM", "2020-04-15T23:40Z"),              # 23 can only be a 24-hour clock
    ("1/31/2020  21:0:00 PM", "2020-01-31T21:00Z"),
    ("Saturday, November 16, 2019, 14:00:00 PM", "2019-11-16T14:00Z"),
])
def test_accepted_spellings(text, ts):
    assert parse_time(text) == T(ts)


@pytest.mark.parametrize("text, reason", [
    ("15/4/2020  23:40:00 AM", "day first or month first is unknown"),
    ("2020-04-15 23:40", "not recognised"),
    ("Monday, May 29, 2018, 11:00 PM", "weekday Monday does not match the date (Tuesday)"),
    ("Saturday, November 16, 2019, 0:30:00 PM", "ambiguous"),
    ("Saturday, November 16, 2019, 24:30:00 PM", "no such time"),
    ("Saturday, Novembre 16, 2019, 2:00:00 PM", "not a calendar date"),
])
def test_ambiguous_or_inconsistent_spellings_are_refused(text, reason):
    with pytest.raises(InputError, match=re.escape(reason)):
        parse_time(text)


def test_counts_add_up(outages):
    assert outages.rows == 1704
    assert len(outages.events) + len(outages.skipped) == outages.rows
    assert outages.events["uid"].is_unique
    assert (outages.events["kind"] == "shutdown_report").all() and not outages.events["all_day"].any()
    assert (outages.events["end"] > outages.events["start"]).all()


def test_messy_rows_are_reported(outages):
    skipped = {s.row: s for s in outages.skipped}
    assert 16 not in skipped and 66 not in skipped  # numeric spellings are read
    assert "weekday Monday does not match" in skipped[36].reason
    assert (skipped[45].field, skipped[45].value, skipped[45].reason) == ("End time", "N/A", "no end time")
    assert skipped[162].field == "End time" and "not after Begin time" in skipped[162].reason
    assert "exact duplicate of row 1668" in skipped[1669].reason
    by_reason = pd.Series([s.reason.split(" (")[0].split(" Begin")[0] for s in outages.skipped]).value_counts()
    assert by_reason["no end time"] == 34
    assert by_reason["not after"] == 36  # ends past midnight on the start's date are read
    assert len(outages.skipped) == 74  # of 125 before: 10 numeric spellings, 41 ends past midnight


def test_numeric_and_past_midnight_ends_are_read(outages):
    ev = outages.events.set_index("uid")
    assert (ev.loc["B652B11F", "start"], ev.loc["B652B11F", "end"]) == (T("2020-07-28T11:10Z"), T("2020-07-28T17:00Z"))
    past_midnight = ev[ev["raw"].str.contains('"End time": "Tuesday, June 30, 2020, 12:20:00 AM"', regex=False)]
    assert len(past_midnight) >= 1
    assert (past_midnight["end"] == T("2020-07-01T00:20Z")).all()


def test_known_outages_in_utc(outages):
    ev = outages.events
    iran = ev[(ev["country"] == "IR") & (ev["start"] == T("2019-11-16T14:00Z"))]
    assert iran["end"].tolist() == [T("2019-11-24T20:30Z")]
    assert "Government-Ordered" in iran.iloc[0]["title"]
    myanmar = ev[(ev["country"] == "MM") & (ev["start"] == T("2021-02-01T00:20Z"))]
    assert myanmar["end"].tolist() == [T("2021-02-01T08:15Z")]
    assert "European Union" not in set(ev["title"].str.extract(r"Outage in ([^:(]+)")[0].str.strip())


def test_regions_from_scope(outages):
    ev = outages.events.set_index("uid")
    assert ev.loc["61AE093F", "region"] == "Central Equitoria"  # spelled so in the list
    assert ev["region"].dropna().str.match(r"^AS\d+$").sum() > 50


def test_country_filter_and_a_foreign_file():
    text = (DATA / LIST).read_text(encoding="utf-8")
    tj = parse_ioda_outages(text, where="ioda.csv", country="TJ")
    assert set(tj.events["country"]) == {"TJ"} and len(tj.events) == 11
    with pytest.raises(ParseError, match=r"row 1 \(header\): field ID: required column missing"):
        parse_ioda_outages("a,b\n1,2\n", where="x.csv")
