"""Access Now's STOP list -> all-day shutdown_report events, messy rows reported and skipped."""

import json
from pathlib import Path

import pandas as pd
import pytest

from monitor.errors import ParseError
from monitor.events.stop import parse_stop

DATA = Path(__file__).resolve().parents[2] / "data"
STOP = "accessnow-stop/stop_combined_2016-2025_snapshot-2026-05-20.csv"
T = pd.Timestamp
COLUMNS = "start_date,end_date,country,area_name,shutdown_type,affected_network,shutdown_extent,duration,count_year"


@pytest.fixture(scope="module")
def stop():
    return parse_stop((DATA / STOP).read_text(encoding="utf-8"), where="stop.csv")


def test_counts_add_up(stop):
    multi_country = sum(len(json.loads(r)["country"].split(";")) - 1 for r in set(stop.events["raw"]))
    assert stop.rows == 2102
    assert len(stop.events) == stop.rows - len(stop.skipped) + multi_country
    assert stop.events["uid"].is_unique
    assert (stop.events["kind"] == "shutdown_report").all() and stop.events["all_day"].all()
    assert (stop.events["source"] == "stop").all()


def test_messy_rows_are_skipped_with_row_field_and_reason(stop):
    skipped = {s.row: s for s in stop.skipped}
    # end before start (India 2020-02-18 -> 02-12, Belarus 2020-06-19 -> 06-16)
    assert (skipped[658].field, skipped[658].value) == ("end_date", "2020-02-12")
    assert "before start_date 2020-02-18" in skipped[658].reason
    assert skipped[712].field == "end_date"
    # STOP's derived duration is not a reason: Myanmar 2021-02-04 (ongoing, -44230) and DRC
    # 2017-01-01..12-30 (-363) are real shutdowns with sound dates
    assert 830 not in skipped and 87 not in skipped
    drc = stop.events[(stop.events["country"] == "CD") & (stop.events["start"] == "2016-12-31T23:00Z")]
    assert len(drc) == 1 and drc.iloc[0]["end"] == pd.Timestamp("2017-12-30T23:00Z")  # local days, UTC+1
    # a multi-year shutdown repeated per count_year is kept once, from its latest year
    assert skipped[2].field == "count_year" and "repeat of row 195" in skipped[2].reason
    assert "repeat of row 195" in skipped[82].reason and 195 not in skipped
    assert "exact duplicate of row 792" in skipped[793].reason
    assert not any(s.field == "duration" for s in stop.skipped)


def test_multi_year_shutdown_appears_once_spanning_its_local_days(stop):
    wana = stop.events[stop.events["region"] == "Wana, South Waziristan"]
    assert len(wana) == 1
    row = wana.iloc[0]
    # Asia/Karachi is UTC+5: 2009-01-01 00:00 local .. 2018-05-05 24:00 local
    assert (row["start"], row["end"]) == (T("2008-12-31T19:00Z"), T("2018-05-05T19:00Z"))
    assert "count_year 2016, 2017, 2018" in row["description"]


def test_known_shutdowns_are_whole_local_days(stop):
    ev = stop.events
    belarus = ev[(ev["country"] == "BY") & (ev["start"] == T("2020-08-08T21:00Z"))]  # Minsk is UTC+3
    assert len(belarus) == 1 and belarus.iloc[0]["end"] == T("2020-12-07T21:00Z")
    assert "Elections" in belarus.iloc[0]["title"]
    myanmar = ev[(ev["country"] == "MM") & (ev["start"] == T("2021-01-31T17:30Z"))]  # Yangon is UTC+6:30
    assert len(myanmar) == 1 and myanmar.iloc[0]["end"] == T("2021-02-01T17:30Z")
    assert json.loads(myanmar.iloc[0]["raw"])["start_date"] == "2021-02-01"


def test_a_row_without_end_date_is_its_first_day_and_says_so(stop):
    raw = stop.events["raw"].map(json.loads)
    open_ended = stop.events[raw.map(lambda r: r["end_date"] == "")]
    assert len(open_ended) > 400
    assert ((open_ended["end"] - open_ended["start"]) <= pd.Timedelta(hours=25)).all()
    assert open_ended["description"].str.contains("end date not recorded").all()


def test_multi_country_rows_become_one_event_per_country(stop):
    raw = stop.events["raw"].map(json.loads)
    laos_myanmar = stop.events[raw.map(lambda r: r["country"] == "Laos; Myanmar")]
    assert sorted(laos_myanmar["country"]) == ["LA", "MM"]


def test_country_filter_keeps_one_country(data_dir):
    result = parse_stop((data_dir / STOP).read_text(encoding="utf-8"), where="stop.csv", country="Tajikistan")
    assert set(result.events["country"]) == {"TJ"}
    assert len(result.events) == 5


def test_small_list_dedup_and_spellings():
    text = COLUMNS + "\n" + "\n".join([
        "2020-01-05,,Tajikistan,GBAO,Shutdown,Mobile,Full network,,2020",
        "2020-01-05,2021-03-01,Tajikistan,GBAO,Shutdown,Mobile,Full network,,2021",  # same shutdown, later year
        "1/7/2020,1/8/2020,Kenya,Nairobi,Shutdown,Mobile,Full network,2,2020",  # STOP's M/D/YYYY
        "07.01.2020,,Kenya,Mombasa,Shutdown,Mobile,Full network,,2020",  # neither spelling
        "2020-01-09,,Atlantis,,Shutdown,Mobile,Full network,,2020",
    ]) + "\n"
    result = parse_stop(text, where="s.csv")
    assert [(s.row, s.field) for s in result.skipped] == [(2, "count_year"), (5, "start_date"), (6, "country")]
    ev = result.events.set_index("country")
    assert ev.loc["TJ", "end"] == T("2021-03-01T19:00Z")  # the 2021 entry, with the end date, is kept
    assert (ev.loc["KE", "start"], ev.loc["KE", "end"]) == (T("2020-01-06T21:00Z"), T("2020-01-08T21:00Z"))
    with pytest.raises(ParseError, match=r"^s.csv, row 5: field start_date = '07.01.2020'"):
        parse_stop(text, where="s.csv", strict=True)


def test_a_file_that_is_not_stop_is_refused():
    with pytest.raises(ParseError, match=r"row 1 \(header\): field start_date: required column missing"):
        parse_stop("country,start,end\nTJ,2020-01-01,2020-01-02\n", where="x.csv")
