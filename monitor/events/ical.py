"""iCalendar (RFC 5545) feeds -> events, with recurring events expanded over a window.

Conventions (documented in data/events/README.md):
- country, most specific first: the event's `X-COUNTRY`, a category `country:CC`, the calendar's
  `X-COUNTRY`, then the importer's `--country`; an ISO code or a known name. No country = error.
- kind: the event's `X-KIND`, a category `kind:K` or a category that is a kind name (`election`),
  then the calendar's `X-KIND`, then `--kind`, else `other`. region: `X-REGION`, else `LOCATION`.
- times: `TZID` and UTC (`Z`) times are exact; floating times and all-day dates are local to the
  calendar's `X-WR-TIMEZONE`, else to the event's country (`country_timezone`).
- ids: the event's UID; an instance of a recurring event is `UID/<RECURRENCE-ID in UTC>`, so a moved
  (overridden) instance keeps its id. `STATUS:CANCELLED` instances are reported in `cancelled`.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import pandas as pd
import recurring_ical_events

from monitor.errors import InputError, ParseError
from monitor.events.countries import country_code, country_timezone
from monitor.events.model import (ParseResult, RowError, collect, events_frame, field_value, parse_kind,
                                  printable, raw_json)
from monitor.frames import EVENT_KINDS

_ZONED_PROPS = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")


@dataclass(frozen=True)
class IcsLimits:
    """What one calendar may cost to expand: the `[events]` section of the config file.

    `ics_max_occurrences`: occurrences of all its events together in the import window (one
    event's or many events' recurrences alike); each costs about 0.3 ms to turn into an event.
    `ics_max_expand_seconds`: CPU time the recurrence library may spend finding them, which bounds
    rules that match rarely or never (`FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30` makes it scan every
    day to the year 9999: about 4 s per rule). A calendar over either is refused whole, naming the
    limit: importing part of it would make the sync delete the events left out. The defaults keep
    any calendar of 50 kB within 10 s and 500 MB on one core (benchmarks/reliability.py measures it).
    """

    ics_max_occurrences: int = 10_000
    ics_max_expand_seconds: float = 3.0

    def __post_init__(self):
        if self.ics_max_occurrences < 1 or not self.ics_max_expand_seconds > 0:
            raise InputError("ics_max_occurrences and ics_max_expand_seconds must be positive")


class _OverBudget(BaseException):
    """Raised from the profile hook; BaseException so library code catching Exception cannot hide it."""


@contextmanager
def _cpu_budget(seconds: float) -> Iterator[None]:
    """Raise _OverBudget inside whatever runs in this block (in this thread) once it has used
    `seconds` of this thread's CPU time. A profile hook sees every call, so even a recurrence
    loop that never yields is stopped."""
    deadline = time.thread_time() + seconds
    calls = 0

    def hook(frame, event, arg):
        nonlocal calls
        calls += 1
        if calls & 0xFFF == 0 and time.thread_time() > deadline:
            raise _OverBudget

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        yield
    finally:
        sys.setprofile(previous)
_UID_LINE_RE = re.compile(r"^UID[;:]", re.IGNORECASE)


def parse_ics(text: str | bytes, *, source: str, where: str, window: tuple[pd.Timestamp, pd.Timestamp],
              country: str | None = None, kind: str | None = None, strict: bool = True,
              limits: IcsLimits = IcsLimits()) -> ParseResult:
    """Events (recurring ones expanded over `window`, UTC [start, end)) from one VCALENDAR, within
    `limits` (a ParseError naming the limit otherwise)."""
    cal = _calendar(text, where)
    lines = _uid_lines(text if isinstance(text, str) else text.decode("utf-8", "replace"))
    defaults = _calendar_defaults(cal, where, country, kind)
    vevents = list(cal.walk("VEVENT"))
    broken, skipped = _drop_broken(cal, vevents, lines, where, strict)
    recurring = {str(v.get("UID")) for v in vevents if ("RRULE" in v or "RDATE" in v) and v not in broken}
    cancelled: list[str] = []

    def one(occ: icalendar.Event) -> list[dict]:
        event = _occurrence(occ, source, defaults, recurring)
        if str(occ.get("STATUS", "")).upper() == "CANCELLED":
            cancelled.append(event["uid"])
            return []
        return [event] if _overlaps(event, window) else []

    def label(occ: icalendar.Event) -> str:
        uid = str(occ.get("UID"))
        return _label(uid, lines, occ.get("RECURRENCE-ID") if uid in recurring else None)

    numbered = ((label(o), o) for o in _expand(cal, window, where, limits))
    records, more, _ = collect(numbered, one, where, strict, unit="event")
    return ParseResult(events_frame(records), len(vevents), skipped + more, cancelled)


def _calendar(text: str | bytes, where: str) -> icalendar.Calendar:
    try:
        return icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        message = " ".join(str(exc).split())[:160]
        raise ParseError(f"not a valid iCalendar file ({message})", where) from exc


def _uid_lines(text: str) -> dict[str, int]:
    """UID -> line number of its first `UID:` line (for messages a person can follow)."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if _UID_LINE_RE.match(line):
            found.setdefault(line.split(":", 1)[-1].strip(), number)
    return found


def _label(uid: str, lines: dict[str, int], instance: Any = None) -> str:
    """How messages name an event: `UID=x instance 2020-09-02T19:00:00+05:00 (line 14)`."""
    at = f" (line {lines[uid]})" if uid in lines else ""
    rid = f" instance {instance.dt.isoformat()}" if instance is not None else ""
    return f"UID={uid}{rid}{at}"


def _calendar_defaults(cal, where: str, country: str | None, kind: str | None) -> dict:
    """Calendar-wide country (X-COUNTRY, else the caller's), kind and zone for floating times."""
    out = {"country": None, "kind": None, "zone": None}
    for key, prop, convert in (("country", "X-COUNTRY", country_code), ("kind", "X-KIND", parse_kind),
                               ("zone", "X-WR-TIMEZONE", _zone_name)):
        value = cal.get(prop)
        try:
            out[key] = convert(str(value)) if value else None
        except InputError as exc:
            raise ParseError(f"field {prop}: {exc}", f"{where}, calendar") from exc
    try:
        out["country"] = out["country"] or (country_code(country) if country else None)
        out["kind"] = out["kind"] or (parse_kind(kind) if kind else None)
    except InputError as exc:
        raise ParseError(str(exc), where) from exc
    return out


def _zone_name(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"unknown time zone {name!r}") from exc
    return name


def _drop_broken(cal, vevents: list, lines: dict[str, int], where: str, strict: bool) -> tuple[list, list]:
    """Remove VEVENTs with unreadable properties before expansion; strict raises on the first."""
    def check(vevent) -> list[dict]:
        _check_vevent(vevent)
        return []

    broken, skipped = [], []
    for vevent in vevents:
        _, bad, _ = collect([(_label(str(vevent.get("UID", "")), lines), vevent)], check, where, strict,
                            unit="event")
        if bad:
            broken.append(vevent)
            skipped.extend(bad)
    if broken:  # wherever they are nested (a VEVENT inside another component is still walked)
        for component in cal.walk():
            component.subcomponents = [c for c in component.subcomponents if not any(c is b for b in broken)]
    return broken, skipped


# Properties RFC 5545 allows at most once per VEVENT; icalendar hands repeats back as a list.
_SINGLE_PROPS = ("UID", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "STATUS", "SUMMARY")


def _check_vevent(vevent) -> None:
    if getattr(vevent, "errors", None):
        prop, message = vevent.errors[0]
        raise RowError(prop or "VEVENT", str(vevent.get(prop, "")) if prop else "", message)
    for prop in _SINGLE_PROPS:
        if isinstance(vevent.get(prop), list):
            raise RowError(prop, "", "appears more than once (RFC 5545 allows one per VEVENT)")
    if not str(vevent.get("UID", "")).strip():
        raise RowError("UID", "", "missing (RFC 5545 requires one)")
    if "DTSTART" not in vevent:
        raise RowError("DTSTART", "", "missing")
    rules = vevent.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        if not rule.get("FREQ"):
            raise RowError("RRULE", rule.to_ical().decode("utf-8", "replace"), "has no FREQ (RFC 5545 requires one)")
    start, end = vevent["DTSTART"].dt, vevent.get("DTEND")
    if end is not None and type(end.dt) is type(start) and _comparable(start, end.dt) and end.dt < start:
        raise RowError("DTEND", end.dt.isoformat(), f"before DTSTART {start.isoformat()}")
    for prop in _ZONED_PROPS:
        values = vevent.get(prop)
        for value in values if isinstance(values, list) else [values]:
            tzid = getattr(value, "params", {}).get("TZID") if value is not None else None
            dts = getattr(value, "dts", None) or ([value] if value is not None else [])
            if tzid and any(isinstance(d.dt, dt.datetime) and d.dt.tzinfo is None for d in dts):
                raise RowError(prop, tzid, "unknown time zone (TZID): use an IANA name or add a VTIMEZONE")


def _comparable(a: dt.date, b: dt.date) -> bool:
    """Both dates, or both date-times that are both naive or both aware."""
    return not isinstance(a, dt.datetime) or (a.tzinfo is None) == (b.tzinfo is None)


def _expand(cal, window: tuple[pd.Timestamp, pd.Timestamp], where: str, limits: IcsLimits) -> list:
    """Occurrences near the window (a day of slack for floating and all-day times), in start order.

    Within `limits` for the whole calendar: 10 events with `RRULE:FREQ=SECONDLY;COUNT=9999`, or 10
    rules that never match, must not keep the importer busy for a minute; the calendar is refused,
    naming the limit (and the UID that passed the occurrence limit); a narrower window gets it in.
    """
    slack = pd.Timedelta(days=1)
    start, end = (window[0] - slack).to_pydatetime(), window[1] + slack
    try:
        with _cpu_budget(limits.ics_max_expand_seconds):
            return _occurrences(cal, start, end, limits.ics_max_occurrences, where)
    except _OverBudget:
        raise ParseError(f"expanding recurring events took more than {limits.ics_max_expand_seconds:g} s of "
                         "CPU (events that repeat very often, or rules that match rarely or never): give a "
                         "narrower --from/--until, or raise [events] ics_max_expand_seconds", where) from None


def _occurrences(cal, start: dt.datetime, end: pd.Timestamp, limit: int, where: str) -> list:
    found: list = []
    try:
        for occ in recurring_ical_events.of(cal).after(start):
            if _rough_utc(occ.start) >= end:
                break
            if len(found) >= limit:
                uid = str(occ.get("UID"))
                raise ParseError(printable(f"more than {limit} occurrences in the window (reached at event "
                                           f"UID={uid}): give a narrower --from/--until, or raise [events] "
                                           "ics_max_occurrences"), where)
            found.append(occ)
    except (recurring_ical_events.InvalidCalendar, ValueError, OverflowError) as exc:
        if isinstance(exc, ParseError):
            raise
        raise ParseError(printable(f"cannot expand recurring events ({' '.join(str(exc).split())[:160]})"),
                         where) from exc
    return found


def _rough_utc(value: dt.date | dt.datetime) -> pd.Timestamp:
    """An occurrence's start as UTC, floating and all-day times read as UTC (for the window test only)."""
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _categories(occ) -> list[str]:
    cats = occ.get("CATEGORIES")
    out: list[str] = []
    for item in cats if isinstance(cats, list) else [cats] if cats is not None else []:
        out.extend(str(c).strip() for c in getattr(item, "cats", [item]))
    return [c for c in out if c]


def _tagged(categories: list[str], tag: str) -> str | None:
    for cat in categories:
        key, sep, value = cat.partition(":")
        if sep and key.strip().lower() == tag:
            return value.strip()
    return None


def _occurrence(occ, source: str, defaults: dict, recurring: set[str]) -> dict:
    cats = _categories(occ)
    given_country = str(occ.get("X-COUNTRY", "")).strip() or _tagged(cats, "country")
    if given_country:
        cc = field_value("X-COUNTRY", given_country, country_code)
    elif defaults["country"]:
        cc = defaults["country"]
    else:
        raise RowError("X-COUNTRY", "", "no country: set X-COUNTRY on the event or the calendar, "
                       "a category 'country:CC', or give --country")
    given_kind = str(occ.get("X-KIND", "")).strip() or _tagged(cats, "kind")
    named = [c for c in cats if c.lower().replace(" ", "_") in EVENT_KINDS]
    kind = field_value("X-KIND", given_kind or (named[0] if named else None) or defaults["kind"] or "other",
                       parse_kind)
    zone = defaults["zone"] or country_timezone(cc)
    start, all_day = _utc(occ.start, zone)
    end, _ = _utc(occ.end, zone)
    uid = str(occ.get("UID"))
    if uid in recurring:
        uid = f"{uid}/{_instance_id(occ.get('RECURRENCE-ID').dt, zone)}"
    region = str(occ.get("X-REGION", "") or occ.get("LOCATION", "")).strip()
    return {"uid": uid, "source": source, "kind": kind, "country": cc, "region": region,
            "start": start, "end": end, "all_day": all_day,
            "title": str(occ.get("SUMMARY", "")).strip() or "(no title)",
            "url": str(occ.get("URL", "")).strip(), "description": str(occ.get("DESCRIPTION", "")).strip(),
            "raw": raw_json({"vevent": occ.to_ical().decode("utf-8", "replace")})}


def _utc(value: dt.date | dt.datetime, zone: str) -> tuple[pd.Timestamp, bool]:
    """UTC instant of a DATE (local midnight), floating (local wall clock) or zoned DATE-TIME."""
    if not isinstance(value, dt.datetime):
        return pd.Timestamp(value).tz_localize(zone, nonexistent="shift_forward", ambiguous=False
                                               ).tz_convert("UTC"), True
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(zone, nonexistent="shift_forward", ambiguous=False)
    return ts.tz_convert("UTC").floor("s"), False


def _instance_id(rid: dt.date | dt.datetime, zone: str) -> str:
    if not isinstance(rid, dt.datetime):
        return rid.strftime("%Y%m%d")
    return _utc(rid, zone)[0].strftime("%Y%m%dT%H%M%SZ")


def _overlaps(event: dict, window: tuple[pd.Timestamp, pd.Timestamp]) -> bool:
    start, end = event["start"], event["end"]
    return start < window[1] and (end > window[0] or (end == start and start >= window[0]))
