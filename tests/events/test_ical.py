"""iCalendar: zones, floating and all-day times, DURATION, RRULE/EXDATE/RECURRENCE-ID, cancellation."""

from pathlib import Path

import pandas as pd
import pytest

from monitor.errors import ParseError
from monitor.events.ical import IcsLimits, parse_ics

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
WINDOW = (pd.Timestamp("2020-09-01T00:00Z"), pd.Timestamp("2020-11-01T00:00Z"))
T = pd.Timestamp


def _parse(name_or_text, window=WINDOW, **kw):
    text = (FIXTURES / name_or_text).read_bytes() if name_or_text.endswith(".ics") else name_or_text
    kw.setdefault("source", "test")
    kw.setdefault("where", name_or_text if name_or_text.endswith(".ics") else "inline.ics")
    return parse_ics(text, window=window, **kw)


def _cal(*events, header="X-COUNTRY:TJ"):
    body = "".join(f"BEGIN:VEVENT\r\nDTSTAMP:20200901T000000Z\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{header}\r\n{body}END:VCALENDAR\r\n"


def test_the_dushanbe_calendar_imports_to_exactly_the_expected_utc_instances():
    """Asia/Dushanbe is UTC+5 all year: 19:00 local = 14:00 UTC (worked out by hand)."""
    result = _parse("dushanbe_weekly.ics")
    got = [(r.uid, r.kind, r.country, r.start, r.end, r.all_day) for r in result.events.itertuples()]
    b = "weekly-briefing@example.org/"
    assert sorted(got, key=lambda g: g[3]) == [
        (b + "20200902T140000Z", "opposition_event", "TJ", T("2020-09-02T14:00Z"), T("2020-09-02T15:00Z"), False),
        (b + "20200909T140000Z", "opposition_event", "TJ", T("2020-09-09T14:00Z"), T("2020-09-09T15:00Z"), False),
        # 09-16 is an EXDATE; 09-23 is overridden: moved to Thursday 21:00 local, DURATION 1h30
        (b + "20200923T140000Z", "opposition_event", "TJ", T("2020-09-24T16:00Z"), T("2020-09-24T17:30Z"), False),
        # floating 09:00 in Kyrgyzstan (X-COUNTRY, Asia/Bishkek = UTC+6), DURATION 3h
        ("exam-day@example.org", "exam", "KG", T("2020-09-25T03:00Z"), T("2020-09-25T06:00Z"), False),
        (b + "20200930T140000Z", "opposition_event", "TJ", T("2020-09-30T14:00Z"), T("2020-09-30T15:00Z"), False),
        # all-day 2020-10-11: the whole local day in Dushanbe
        ("election-day@example.org", "election", "TJ", T("2020-10-10T19:00Z"), T("2020-10-11T19:00Z"), True),
    ]
    assert result.cancelled == ["cancelled-rally@example.org"]
    assert result.rows == 5
    assert result.skipped == []


def test_folded_lines_are_unfolded_and_properties_kept():
    ev = _parse("dushanbe_weekly.ics").events.set_index("uid").loc["weekly-briefing@example.org/20200902T140000Z"]
    assert ev["title"] == "Weekly online briefing of the opposition, streamed from abroad to viewers in Tajikistan"
    assert "seventy-five octets so that" in ev["description"]
    assert ev["url"] == "https://example.org/briefings"
    assert "BEGIN:VEVENT" in ev["raw"]


def test_the_window_limits_recurring_expansion():
    text = _cal("UID:daily\r\nDTSTART;TZID=Asia/Dushanbe:20200101T090000\r\nRRULE:FREQ=DAILY\r\nSUMMARY:d")
    result = _parse(text, window=(T("2020-09-16T00:00Z"), T("2020-09-19T00:00Z")))
    assert result.events["start"].tolist() == [T("2020-09-16T04:00Z"), T("2020-09-17T04:00Z"),
                                                T("2020-09-18T04:00Z")]
    # instants (no DTEND, no DURATION) are zero-length
    assert (result.events["end"] == result.events["start"]).all()


def test_floating_times_follow_the_calendar_zone_when_it_declares_one():
    text = _cal("UID:f\r\nDTSTART:20200916T194000\r\nSUMMARY:x", header="X-COUNTRY:TJ\r\nX-WR-TIMEZONE:Europe/Berlin")
    assert _parse(text).events["start"].iloc[0] == T("2020-09-16T17:40Z")  # Berlin is UTC+2 in September
    text = _cal("UID:f\r\nDTSTART:20200916T194000\r\nSUMMARY:x")
    assert _parse(text).events["start"].iloc[0] == T("2020-09-16T14:40Z")  # Dushanbe, UTC+5


def test_utc_and_zoned_times_are_exact():
    text = _cal("UID:u\r\nDTSTART:20200916T144000Z\r\nDTEND:20200916T154000Z\r\nSUMMARY:u",
                "UID:z\r\nDTSTART;TZID=America/New_York:20200916T104000\r\nDURATION:PT1H\r\nSUMMARY:z")
    ev = _parse(text).events.set_index("uid")
    assert (ev.loc["u", "start"], ev.loc["u", "end"]) == (T("2020-09-16T14:40Z"), T("2020-09-16T15:40Z"))
    assert (ev.loc["z", "start"], ev.loc["z", "end"]) == (T("2020-09-16T14:40Z"), T("2020-09-16T15:40Z"))


def test_country_precedence_event_then_category_then_calendar_then_argument():
    text = _cal("UID:a\r\nDTSTART:20200916T100000Z\r\nX-COUNTRY:Iran\r\nCATEGORIES:country:BY\r\nSUMMARY:a",
                "UID:b\r\nDTSTART:20200916T100000Z\r\nCATEGORIES:protest,country:Belarus\r\nSUMMARY:b",
                "UID:c\r\nDTSTART:20200916T100000Z\r\nSUMMARY:c")
    ev = _parse(text, country="MM").events.set_index("uid")
    assert ev["country"].to_dict() == {"a": "IR", "b": "BY", "c": "TJ"}
    assert ev.loc["b", "kind"] == "protest"
    no_calendar_country = _cal("UID:c\r\nDTSTART:20200916T100000Z\r\nSUMMARY:c", header="X-NOTHING:1")
    assert _parse(no_calendar_country, country="MM", kind="coup").events[["country", "kind"]].values.tolist() == \
        [["MM", "coup"]]


def test_an_event_without_country_names_uid_line_and_field():
    text = _cal("UID:lost\r\nDTSTART:20200916T100000Z\r\nSUMMARY:c", header="X-NOTHING:1")
    with pytest.raises(ParseError) as err:
        _parse(text)
    assert "inline.ics, event UID=lost (line 7): field X-COUNTRY" in str(err.value)


def test_an_unknown_country_is_an_error_naming_the_event():
    text = _cal("UID:x\r\nDTSTART:20200916T100000Z\r\nX-COUNTRY:Atlantis\r\nSUMMARY:c")
    with pytest.raises(ParseError, match=r"UID=x \(line \d+\): field X-COUNTRY = 'Atlantis': unknown country"):
        _parse(text)


def test_broken_and_non_calendars_raise_one_line_naming_the_file():
    with pytest.raises(ParseError, match=r"^not_a_calendar.ics: not a valid iCalendar file") as err:
        _parse("not_a_calendar.ics")
    assert "\n" not in str(err.value)
    with pytest.raises(ParseError) as err:
        _parse("broken_dtstart.ics")
    assert str(err.value).startswith("broken_dtstart.ics, event UID=broken@example.org (line 13): field DTSTART")


def test_broken_events_are_skipped_when_lenient():
    result = _parse("broken_dtstart.ics", strict=False)
    assert result.events["uid"].tolist() == ["fine@example.org"]
    assert [(s.row, s.field) for s in result.skipped] == [("UID=broken@example.org (line 13)", "DTSTART")]


def test_an_unknown_tzid_is_an_error_not_a_silent_floating_time():
    text = _cal("UID:t\r\nDTSTART;TZID=Mars/Olympus_Mons:20200916T100000\r\nSUMMARY:t")
    with pytest.raises(ParseError, match="field DTSTART = 'Mars/Olympus_Mons': unknown time zone"):
        _parse(text)


def test_a_cancelled_series_cancels_every_instance_in_the_window():
    text = _cal("UID:s\r\nDTSTART:20200916T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nSTATUS:CANCELLED\r\nSUMMARY:s")
    result = _parse(text)
    assert result.events.empty
    assert result.cancelled == ["s/20200916T100000Z", "s/20200917T100000Z", "s/20200918T100000Z"]


def test_an_end_before_the_start_is_an_error():
    text = _cal("UID:back\r\nDTSTART:20200916T100000Z\r\nDTEND:20200916T090000Z\r\nSUMMARY:b")
    with pytest.raises(ParseError, match=r"UID=back \(line \d+\): field DTEND = .*: before DTSTART"):
        _parse(text)


def test_a_rule_without_freq_is_an_error_naming_the_event():
    text = _cal("UID:nofreq\r\nDTSTART:20200916T100000Z\r\nRRULE:COUNT=3\r\nSUMMARY:b",
                "UID:fine\r\nDTSTART:20200917T100000Z\r\nSUMMARY:c")
    with pytest.raises(ParseError, match=r"UID=nofreq \(line \d+\): field RRULE = 'COUNT=3': has no FREQ"):
        _parse(text)
    assert list(_parse(text, strict=False).events["title"]) == ["c"]


def test_a_cancelled_instance_of_a_series_is_reported_and_the_rest_kept():
    text = _cal("UID:s\r\nDTSTART:20200916T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nSUMMARY:s",
                "UID:s\r\nRECURRENCE-ID:20200917T100000Z\r\nDTSTART:20200917T100000Z\r\nSTATUS:CANCELLED\r\nSUMMARY:s")
    result = _parse(text)
    assert result.events["uid"].tolist() == ["s/20200916T100000Z", "s/20200918T100000Z"]
    assert result.cancelled == ["s/20200917T100000Z"]


def test_a_series_with_too_many_instances_in_the_window_is_refused():
    text = _cal("UID:often\r\nDTSTART:20200916T000000Z\r\nRRULE:FREQ=HOURLY\r\nSUMMARY:o")
    limits = IcsLimits(ics_max_occurrences=100)
    with pytest.raises(ParseError, match="more than 100 occurrences in the window .reached at event UID=often"):
        _parse(text, limits=limits)
    assert len(_parse(text, window=(T("2020-09-16T00:00Z"), T("2020-09-17T00:00Z")), limits=limits).events) == 24
