"""Curated CSV/YAML lists, and the starter calendar shipped in data/events/."""

from pathlib import Path

import pandas as pd
import pytest

from monitor.errors import ParseError
from monitor.events.curated import parse_csv, parse_yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
T = pd.Timestamp
HEADER = "country,start,end,kind,title,url\n"


def _csv(text, **kw):
    kw.setdefault("strict", True)
    return parse_csv(text, source="test", where="list.csv", **kw)


def test_fixture_csv_times():
    ev = parse_csv((FIXTURES / "curated.csv").read_text(), source="c", where="curated.csv").events
    spans = {r.title: (r.country, r.start, r.end, r.all_day) for r in ev.itertuples()}
    assert spans == {
        "Election day (one local day)": ("TJ", T("2020-10-10T19:00Z"), T("2020-10-11T19:00Z"), True),
        # "20-24 June": the bare end date is the last day, inclusive (Asia/Bishkek, UTC+6)
        "Exam week, 20-24 June inclusive": ("KG", T("2021-06-19T18:00Z"), T("2021-06-24T18:00Z"), True),
        "A speech with an offset": ("IR", T("2019-11-16T08:30Z"), T("2019-11-16T09:30Z"), False),
        "Polls close (UTC)": ("BY", T("2020-08-09T17:00Z"), T("2020-08-09T19:00Z"), False),
        # wall-clock time in the row's own zone (Vladivostok, UTC+10), not Moscow
        "Wall-clock time in the row's own zone": ("RU", T("2021-01-23T04:00Z"), T("2021-01-23T06:00Z"), False),
    }
    assert ev.set_index("title").loc["Exam week, 20-24 June inclusive", "region"] == "Bishkek"
    assert ev["uid"].is_unique and "exam-week" in set(ev["uid"])


def test_uids_are_stable_across_parses_and_change_with_content():
    text = HEADER + "TJ,2020-10-11,,election,Election,\n"
    first = _csv(text).events["uid"].iloc[0]
    assert _csv(text).events["uid"].iloc[0] == first
    assert _csv(text.replace("Election,", "Vote,")).events["uid"].iloc[0] != first


def test_the_starter_calendar_has_the_tajik_events(data_dir):
    result = parse_csv((data_dir / "events/starter.csv").read_text(), source="starter", where="starter.csv")
    assert result.skipped == []
    ev = result.events.set_index("uid")
    kabiri = ev.loc["tj-2020-09-16-kabiri-gwu"]
    assert (kabiri["kind"], kabiri["country"], kabiri["all_day"]) == ("opposition_event", "TJ", True)
    assert (kabiri["start"], kabiri["end"]) == (T("2020-09-15T19:00Z"), T("2020-09-16T19:00Z"))
    assert "not given" in kabiri["description"] and "George Washington University" in kabiri["title"]
    outage = ev.loc["tj-2020-09-16-outage"]
    assert (outage["kind"], outage["start"], outage["all_day"]) == ("shutdown_report", T("2020-09-16T14:40Z"), False)
    assert T("2020-09-16T15:10Z") <= outage["end"] <= T("2020-09-16T15:40Z")
    election = ev.loc["tj-2020-10-11-presidential-election"]
    assert (election["kind"], election["start"]) == ("election", T("2020-10-10T19:00Z"))
    assert set(ev["country"]) >= {"TJ", "IR", "BY", "MM"}
    assert set(ev["kind"]) >= {"election", "protest", "coup", "opposition_event", "shutdown_report"}
    assert ev["url"].str.startswith("https://").all()  # every row is sourced


@pytest.mark.parametrize("row, where, field", [
    ("Atlantis,2020-10-11,,election,E,", "list.csv, row 2", "field country = 'Atlantis': unknown country"),
    ("TJ,2020-10-11T10:00,2020-10-11T11:00,election,E,", "list.csv, row 2",
     "field start = '2020-10-11T10:00': a date-time needs a UTC offset"),
    ("TJ,2020-10-12,2020-10-11,election,E,", "list.csv, row 2", "field end = '2020-10-11': last day is before"),
    ("TJ,2020-10-11T10:00Z,,election,E,", "list.csv, row 2", "field end = '': empty"),
    ("TJ,2020-10-11,2020-10-11T10:00Z,election,E,", "list.csv, row 2", "field end"),
    ("TJ,2020-13-11,,election,E,", "list.csv, row 2", "field start = '2020-13-11': not a date"),
    ("TJ,2020-10-11,,riot,E,", "list.csv, row 2", "field kind = 'riot': unknown event kind"),
    ("TJ,2020-10-11,,election,,", "list.csv, row 2", "field title"),
])
def test_bad_rows_raise_one_line_naming_file_row_and_field(row, where, field):
    with pytest.raises(ParseError) as err:
        _csv(HEADER + row + "\n")
    message = str(err.value)
    assert message.startswith(f"{where}: ") and field in message and "\n" not in message


def test_row_numbers_count_the_header_as_row_one():
    with pytest.raises(ParseError, match=r"^list.csv, row 3: field country = 'Atlantis'"):
        _csv(HEADER + "TJ,2020-10-11,,election,E,\nAtlantis,2020-10-11,,election,E,\n")


def test_a_missing_or_unknown_column_names_the_header():
    with pytest.raises(ParseError, match=r"^missing_end_column.csv, row 1 \(header\): field end: required column"):
        parse_csv((FIXTURES / "missing_end_column.csv").read_text(), source="x", where="missing_end_column.csv")
    with pytest.raises(ParseError, match=r"field descripton: unknown column"):
        _csv("country,start,end,kind,title,url,descripton\n")


def test_duplicate_uids_name_both_rows():
    with pytest.raises(ParseError, match=r"row 3: field uid = 'same': the same event as row 2"):
        _csv("uid," + HEADER + "same,TJ,2020-10-11,,election,A,\nsame,TJ,2020-10-12,,election,B,\n")


def test_defaults_fill_empty_cells_and_lenient_mode_skips():
    result = _csv(HEADER + ",2020-10-11,,,E,\nAtlantis,2020-10-11,,,F,\n", country="TJ", kind="election",
                  strict=False)
    assert result.events[["country", "kind", "title"]].values.tolist() == [["TJ", "election", "E"]]
    assert [(s.row, s.field) for s in result.skipped] == [(3, "country")]
    assert result.rows == 2


def test_yaml_list_with_line_numbers():
    result = parse_yaml((FIXTURES / "curated.yaml").read_text(), source="y", where="curated.yaml")
    ev = result.events.set_index("uid")
    assert (ev.loc["yaml-election", "start"], ev.loc["yaml-election", "all_day"]) == (T("2020-10-10T19:00Z"), True)
    timed = ev[ev["country"] == "BY"].iloc[0]
    assert (timed["start"], timed["end"], timed["all_day"]) == (T("2020-08-09T17:00Z"), T("2020-08-09T19:00Z"), False)
    bad = "- country: Atlantis\n  start: 2020-10-11\n  end: 2020-10-11\n  kind: election\n  title: t\n  url: ''\n"
    good = bad.replace("Atlantis", "TJ")
    with pytest.raises(ParseError, match=r"^e.yaml, line 7: field country = 'Atlantis'"):
        parse_yaml(good + bad, source="y", where="e.yaml")


def test_yaml_that_is_not_a_list_of_events_is_refused():
    with pytest.raises(ParseError, match="expected a list of events"):
        parse_yaml("just: text\n", source="y", where="e.yaml")
    with pytest.raises(ParseError, match=r"^e.yaml, line 3: not valid YAML"):
        parse_yaml("- a: 1\n  b: [\n", source="y", where="e.yaml")


def test_yaml_lists_and_mappings_are_not_values():
    doc = "- {country: TJ, start: 2020-10-11, end: 2020-10-11, kind: election, url: '', title: [a, b]}\n"
    with pytest.raises(ParseError, match=r"line 1: field title = 'list': must be a single value"):
        parse_yaml(doc, source="y", where="e.yaml")


def test_a_structurally_broken_csv_names_the_row():
    with pytest.raises(ParseError, match=r"^list.csv, row 3: not readable as CSV"):
        _csv(HEADER + "TJ,2020-10-11,,election,E,\n" + 'TJ,2020-10-11,,election,"E' + "x" * 200_000 + "\n")
    # a carriage return inside a row is not a crash
    result = _csv(HEADER + "TJ,2020-10-11,,election,E\r,\n", strict=False)
    assert result.rows >= 1
