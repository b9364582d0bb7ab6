"""IODA's hand-checked outage list ("Destination Unreachable", SIGCOMM '23) -> `shutdown_report` events.

Times are UTC (see data/ioda-outages/PROVENANCE.md), spelled `Saturday, November 16, 2019, 2:00:00 PM`.
Accepted: that spelling, also without seconds (`2:00 PM`), with an empty seconds field (`2:30: AM`)
or without the comma after the weekday; the weekday must match the date. The sheet's numeric
spelling `7/28/2020  17:00:00 PM` is month/day/year (rows that give both spellings agree: row 7 starts
"Tuesday, July 28, 2020" and ends "7/28/2020 17:00:00 PM"). An hour of 13-23 is a 24-hour clock
whatever suffix follows it (`23:40:00 AM` can only be 23:40); hours 1-12 follow AM/PM. An end written
in the midnight hour (`12:20:00 AM`) of the start's own date, before a start later that day, is the
next day's midnight hour: the sheet kept the start's date when an outage ran past midnight (41 rows).
Skipped with their row number (header = row 1) and reason: a numeric date whose first number is over
12 (day first: the order is unknown), a missing end time, any other end not after the start, a
country with no ISO code (`European Union`), and exact duplicates.
Every row becomes one event of kind `shutdown_report` whatever its cause (Government-Ordered, Exams,
Cable-Cut, Power-Outage...): the cause is in the title and description so a reader can filter.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from monitor.errors import InputError, ParseError
from monitor.events.countries import country_code
from monitor.events.model import (ParseResult, RowError, Skipped, collect, csv_records, events_frame, field_value,
                                  raw_json, stable_uid)

SOURCE = "ioda-outages"
REQUIRED = ("ID", "Begin time", "End time", "Country", "Cause")
_LONG_RE = re.compile(r"^(?P<weekday>[A-Za-z]+),? (?P<date>[A-Za-z]+ \d{1,2}, \d{4}), "
                      r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})?)? (?P<ampm>[AP]M)$")
_NUMERIC_RE = re.compile(r"^(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4}) "
                         r"(?P<hour>\d{1,2}):(?P<minute>\d{1,2})(?::(?P<second>\d{1,2})?)?(?: (?P<ampm>[AP]M))?$")
_SCOPE_RE = re.compile(r"^(?P<kind>[A-Za-z]+)\s*(?:\((?P<name>.*)\))?$")


def parse_ioda_outages(text: str, *, where: str, source: str = SOURCE, country: str | None = None,
                       strict: bool = False) -> ParseResult:
    """Events from the outage list CSV; `country` keeps only that country's outages."""
    names, rows = csv_records(text, where)
    header = {name.strip() for name in names}
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ParseError(f"field {missing[0]}: required column missing (is this IODA's outage list?)",
                         f"{where}, row 1 (header)")
    only = country_code(country) if country else None

    def one(numbered: tuple[int, dict]) -> list[dict]:
        number, record = numbered
        clean = {(k or "").strip(): (v or "").strip() for k, v in record.items() if k and k.strip()}
        event = {**_event(clean, source), "_row": number}
        return [event] if not only or event["country"] == only else []

    records, skipped, count = collect(((n, (n, r)) for n, r in rows), one, where, strict)
    records, dups = _deduplicate(records)
    return ParseResult(events_frame(records), count, sorted(skipped + dups, key=lambda s: s.row))


def parse_time(text: str) -> pd.Timestamp:
    """One of the accepted spellings (long, or the sheet's numeric month/day/year) -> UTC Timestamp;
    InputError otherwise."""
    text = " ".join(text.split())
    m = _LONG_RE.match(text)
    if m:
        try:
            day = dt.datetime.strptime(m["date"], "%B %d, %Y").date()
        except ValueError as exc:
            raise InputError(f"not a calendar date ({exc})") from exc
        if day.strftime("%A").lower() != m["weekday"].lower():
            raise InputError(f"weekday {m['weekday']} does not match the date ({day.strftime('%A')})")
    else:
        m = _NUMERIC_RE.match(text)
        if not m:
            raise InputError("date spelling not recognised (expected e.g. 'Saturday, November 16, 2019, "
                             "2:00:00 PM' or '7/28/2020 17:00:00 PM')")
        if int(m["month"]) > 12:
            raise InputError(f"{m['month']}/{m['day']}: day first or month first is unknown")
        try:
            day = dt.date(int(m["year"]), int(m["month"]), int(m["day"]))
        except ValueError as exc:
            raise InputError(f"not a calendar date ({exc})") from exc
    hour, minute = int(m["hour"]), int(m["minute"])
    if hour > 23 or minute > 59:
        raise InputError(f"no such time of day {hour}:{minute:02d}")
    if hour == 0 and m["ampm"] == "PM":
        raise InputError("hour 0 with PM is ambiguous")
    if 1 <= hour <= 12 and m["ampm"]:
        hour = hour % 12 + (12 if m["ampm"] == "PM" else 0)
    return pd.Timestamp(dt.datetime(day.year, day.month, day.day, hour, minute, int(m["second"] or 0)), tz="UTC")


def _event(rec: dict, source: str) -> dict:
    start = field_value("Begin time", rec["Begin time"], parse_time)
    if rec["End time"] in ("", "N/A"):
        raise RowError("End time", rec["End time"], "no end time")
    end = field_value("End time", rec["End time"], parse_time)
    if end <= start and end.date() == start.date() and end.hour == 0 and "12:" in rec["End time"]:
        end += pd.Timedelta("1D")  # past midnight, written with the start's date
    if end <= start:
        raise RowError("End time", rec["End time"], f"not after Begin time {rec['Begin time']}")
    cc = field_value("Country", rec["Country"], country_code)
    region = _region(rec)
    cause = rec.get("Cause") or "cause not given"
    return {"uid": rec["ID"] or stable_uid(cc, rec["Begin time"], rec["End time"], region),
            "source": source, "kind": "shutdown_report", "country": cc, "region": region,
            "start": start, "end": end, "all_day": False,
            "title": f"Outage in {rec['Country']}{f' ({region})' if region else ''}: {cause}",
            "url": None, "description": _description(rec), "raw": raw_json(rec)}


def _region(rec: dict) -> str | None:
    """`Region (Rangpur)` -> 'Rangpur', `AS (2514)` -> 'AS2514', country scope -> None."""
    scope = next((v for k, v in rec.items() if k.startswith("Scope")), "")
    m = _SCOPE_RE.match(scope)
    if rec.get("Region"):
        return rec["Region"]
    if rec.get("AS"):
        return f"AS{rec['AS']}"
    if m and m["name"]:
        return f"AS{m['name'].strip()}" if m["kind"].upper() == "AS" else m["name"].strip()
    return None


def _description(rec: dict) -> str:
    signals = ", ".join(f"{name} {rec[col].upper()}" for name, col in
                        (("BGP", "IODA BGP visible by human"), ("active probing", "IODA AP visible by human"),
                         ("telescope", "IODA IBR visible by human")) if rec.get(col))
    parts = ["IODA hand-checked outage (times UTC)", f"cause: {rec.get('Cause') or 'not given'}"]
    if rec.get("Confirmation Status"):
        parts.append(f"confirmation: {rec['Confirmation Status']}")
    if signals:
        parts.append(f"signals visibly down: {signals}")
    if rec.get("Notes"):
        parts.append(f"notes: {rec['Notes']}")
    return "; ".join(parts)


def _deduplicate(records: list[dict]) -> tuple[list[dict], list[Skipped]]:
    """Drop exact repeats; a reused ID with different content gets a suffix so both are kept."""
    kept: list[dict] = []
    seen: dict[str, tuple[str, int]] = {}
    skipped: list[Skipped] = []
    for rec in records:
        row = rec["_row"]
        uid = rec["uid"]
        if uid in seen and seen[uid][0] == rec["raw"]:
            skipped.append(Skipped(row, "ID", uid, f"exact duplicate of row {seen[uid][1]}"))
            continue
        if uid in seen:
            rec = {**rec, "uid": f"{uid}-{stable_uid(rec['raw'])[:6]}"}
        seen.setdefault(uid, (rec["raw"], row))
        kept.append(rec)
    return kept, skipped
