"""Curated event lists in CSV or YAML (the format is documented in data/events/README.md).

Columns: country, start, end, kind, title, url (required); uid, region, timezone, description
(optional). `start`/`end` are ISO 8601: a bare date is an all-day event over whole local days of
the row's `timezone` (else the country's zone) and a bare `end` date is the last day, inclusive;
a date-time carries its offset or `Z`, or is wall-clock time in the row's `timezone`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml

from monitor.errors import InputError, ParseError
from monitor.events.countries import country_code, country_timezone
from monitor.events.model import (ParseResult, RowError, collect, csv_records, events_frame, field_value,
                                  local_days, parse_kind, printable, raw_json, stable_uid)
from monitor.text import MAX_JSON_DEPTH

REQUIRED = ("country", "start", "end", "kind", "title", "url")
OPTIONAL = ("uid", "region", "timezone", "description")
MAX_YAML_DEPTH = MAX_JSON_DEPTH  # a curated list nests 2 levels (a list of mappings)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_csv(text: str, *, source: str, where: str, country: str | None = None, kind: str | None = None,
              strict: bool = True) -> ParseResult:
    """Events from a curated CSV (header row = row 1); `country`/`kind` fill empty cells."""
    header, rows = csv_records(text, where)
    _check_columns(header, where, "row 1 (header)")
    return _parse(rows, source=source, where=where, country=country, kind=kind, strict=strict, unit="row")


def parse_yaml(text: str, *, source: str, where: str, country: str | None = None, kind: str | None = None,
               strict: bool = True) -> ParseResult:
    """Events from a YAML list of mappings (or a mapping whose `events` key holds that list)."""
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f", line {mark.line + 1}" if mark else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise ParseError(printable(f"not valid YAML ({problem})"), f"{where}{at}") from exc
    items = doc.get("events") if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ParseError("expected a list of events (mappings), or a mapping with an 'events' list", where)
    rows = []
    for item in items:
        line = item.pop("__line__")
        _check_columns([str(k) for k in item], where, f"line {line}")
        rows.append((line, {str(k): v for k, v in item.items()}))
    return _parse(rows, source=source, where=where, country=country, kind=kind, strict=strict, unit="line")


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records each mapping's line number under `__line__` and refuses documents
    nested more than MAX_YAML_DEPTH deep (PyYAML composes recursively: 100,000 `[` or `- ` levels
    would end in RecursionError)."""

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def _text(name: str, value: Any) -> str:
    """A cell as text: CSV text as is, YAML scalars as a CSV cell would hold them (dates in ISO 8601,
    keeping any offset). A YAML list or mapping is refused (never turned into text: a nest of aliases
    would expand to gigabytes)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | dict | set | tuple):
        raise RowError(name, type(value).__name__, "must be a single value, not a list or mapping")
    return str(value).strip()


def _check_columns(columns: list[str], where: str, at: str) -> None:
    names = [c.strip() for c in columns if c is not None]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ParseError(f"field {missing[0]}: required column missing (need {', '.join(REQUIRED)})",
                         f"{where}, {at}")
    unknown = [c for c in names if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise ParseError(printable(f"field {unknown[0]}: unknown column (optional ones: {', '.join(OPTIONAL)})"),
                         f"{where}, {at}")


def _parse(rows, *, source, where, country, kind, strict, unit) -> ParseResult:
    def one(numbered: tuple[int, dict]) -> list[dict]:
        number, row = numbered
        return [{**_event(row, source=source, default_country=country, default_kind=kind), "_row": number}]

    records, skipped, count = collect(((n, (n, r)) for n, r in rows), one, where, strict, unit)
    first: dict[str, int] = {}
    for rec in records:
        if rec["uid"] in first:
            raise ParseError(f"field uid = {rec['uid']!r}: the same event as {unit} {first[rec['uid']]} "
                             "(give each row its own uid, or different country/kind/start/title)",
                             f"{where}, {unit} {rec['_row']}")
        first[rec["uid"]] = rec["_row"]
    return ParseResult(events_frame(records), count, skipped)


def _cell(row: dict, name: str) -> str:
    return _text(name, row.get(name))


def _event(row: dict, *, source: str, default_country: str | None, default_kind: str | None) -> dict:
    cc = field_value("country", _cell(row, "country") or default_country or "", country_code)
    zone = _cell(row, "timezone")
    if zone:
        field_value("timezone", zone, _zone)
    start, end, all_day = _span(_cell(row, "start"), _cell(row, "end"), zone or country_timezone(cc),
                                has_zone=bool(zone))
    kind = field_value("kind", _cell(row, "kind") or default_kind or "", parse_kind)
    title = _cell(row, "title")
    if not title:
        raise RowError("title", "", "empty")
    return {"uid": _cell(row, "uid") or stable_uid(cc, kind, _cell(row, "start"), title),
            "source": source, "kind": kind, "country": cc, "region": _cell(row, "region"),
            "start": start, "end": end, "all_day": all_day, "title": title, "url": _cell(row, "url"),
            "description": _cell(row, "description"), "raw": raw_json({k: _cell(row, k) for k in row if k})}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"unknown time zone {name!r}: use an IANA name such as Asia/Dushanbe") from exc


def _span(start: str, end: str, zone: str, *, has_zone: bool) -> tuple[pd.Timestamp, pd.Timestamp, bool]:
    """(start, end, all_day) in UTC from the start/end cells."""
    if not start:
        raise RowError("start", start, "empty")
    if _DATE_RE.match(start):
        first = field_value("start", start, _date)
        if end and not _DATE_RE.match(end):
            raise RowError("end", end, "start is a date, so end must be a date (the last day) too")
        last = field_value("end", end, _date) if end else first
        if last < first:
            raise RowError("end", end, f"last day is before the first day {start}")
        begin, finish = local_days(first, last, zone)
        return begin, finish, True
    begin = _instant("start", start, zone, has_zone)
    if not end:
        raise RowError("end", end, "empty: a date-time start needs an end time")
    if _DATE_RE.match(end):
        raise RowError("end", end, "start is a date-time, so end must be a date-time too")
    finish = _instant("end", end, zone, has_zone)
    if finish < begin:
        raise RowError("end", end, f"before start {start}")
    return begin, finish, False


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"not a date (YYYY-MM-DD): {exc}") from exc


def _instant(name: str, text: str, zone: str, has_zone: bool) -> pd.Timestamp:
    """A date-time with offset/Z, or a wall-clock time in the row's own `timezone` column."""
    try:
        ts = pd.Timestamp(text)
    except (ValueError, OverflowError) as exc:
        raise RowError(name, text, "not an ISO 8601 date-time") from exc
    if ts is pd.NaT:
        raise RowError(name, text, "not an ISO 8601 date-time")
    if ts.tzinfo is None:
        if not has_zone:
            raise RowError(name, text, "a date-time needs a UTC offset or 'Z' (or a timezone column)")
        try:
            ts = ts.tz_localize(zone, nonexistent="raise", ambiguous="raise")
        except ValueError as exc:  # a wall-clock time skipped or repeated by a DST change
            raise RowError(name, text, f"not a single instant in {zone} ({exc})") from exc
    return ts.tz_convert("UTC").floor("s")
