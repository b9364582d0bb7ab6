"""Access Now's #KeepItOn STOP shutdown list (the "Combined" CSV) -> `shutdown_report` events.

STOP dates are local calendar days, so each shutdown is an all-day event over whole local days of
its country (`country_timezone`), first day to `end_date` inclusive. Rows are checked, and the
messy ones skipped with their row number (header = row 1) and reason:
- `end_date` before `start_date`, a date in neither ISO 8601 nor STOP's per-year-tab spelling
  (M/D/YYYY), a country with no ISO code;
- multi-year shutdowns, which the Combined tab repeats once per `count_year`: the entry of the
  latest `count_year` is kept (it carries the latest end date and status), earlier ones are skipped;
- exact duplicates within a year.
A row without `end_date` (ongoing or unknown end) is stored as its first day, and says so. The
`duration` column is not used: it is derived, and negative on most ongoing rows (an empty end date
counted as day 0) and on some whose dates are fine (DRC 2017-01-01..12-30: -363); the dates decide.
A row naming several countries ("Laos; Myanmar") becomes one event per country.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from monitor.errors import InputError, ParseError
from monitor.events.countries import country_code, country_timezone
from monitor.events.model import (ParseResult, RowError, Skipped, collect, csv_records, events_frame, field_value,
                                  local_days, raw_json, stable_uid)

SOURCE = "stop"
REQUIRED = ("start_date", "end_date", "country", "area_name", "shutdown_type", "affected_network",
            "shutdown_extent", "duration", "count_year")
# What identifies one shutdown across the yearly repeats (besides the country).
IDENTITY = ("start_date", "area_name", "shutdown_type", "affected_network", "shutdown_extent")
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_US_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_URL_RE = re.compile(r"https?://[^\s;,]+")


@dataclass(frozen=True)
class _Row:
    """One readable STOP row before deduplication."""

    number: int
    record: dict
    countries: tuple[str, ...]
    first: dt.date
    last: dt.date | None
    year: str

    @property
    def key(self) -> tuple:
        return (self.record["country"],) + tuple(self.record[c] for c in IDENTITY)

    @property
    def content(self) -> tuple:
        return tuple(sorted((k, v) for k, v in self.record.items() if k != "count_year"))


def parse_stop(text: str, *, where: str, source: str = SOURCE, country: str | None = None,
               strict: bool = False) -> ParseResult:
    """Events from the STOP Combined CSV; `country` keeps only that country's shutdowns."""
    header, records = csv_records(text, where)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ParseError(f"field {missing[0]}: required column missing (is this the STOP Combined CSV?)",
                         f"{where}, row 1 (header)")
    only = country_code(country) if country else None
    rows, skipped, count = collect(((n, (n, r)) for n, r in records),
                                   lambda numbered: [_read_row(*numbered)], where, strict)
    kept, repeats = _deduplicate(rows)
    events = [e for row, suffix, years in kept for e in _events(row, suffix, years, source)
              if not only or e["country"] == only]
    return ParseResult(events_frame(events), count, sorted(skipped + repeats, key=lambda s: s.row))


def _read_row(number: int, record: dict) -> _Row:
    record = {k: (v or "").strip() for k, v in record.items() if k}
    first = field_value("start_date", record["start_date"], _date)
    last = field_value("end_date", record["end_date"], _date) if record["end_date"] else None
    if last is not None and last < first:
        raise RowError("end_date", record["end_date"], f"before start_date {record['start_date']}")
    countries = tuple(field_value("country", name.strip(), country_code)
                      for name in record["country"].split(";") if name.strip())
    if not countries:
        raise RowError("country", record["country"], "empty")
    return _Row(number, record, countries, first, last, record["count_year"])


def _date(text: str) -> dt.date:
    """ISO 8601 (the Combined tab) or M/D/YYYY (STOP's per-year tabs)."""
    try:
        if _ISO_RE.match(text):
            return dt.date.fromisoformat(text)
        us = _US_RE.match(text)
        if us:
            return dt.date(int(us.group(3)), int(us.group(1)), int(us.group(2)))
    except ValueError as exc:
        raise InputError(f"not a calendar date ({exc})") from exc
    raise InputError("date spelling not recognised (expected YYYY-MM-DD or M/D/YYYY)")


def _deduplicate(rows: list[_Row]) -> tuple[list[tuple[_Row, str, list[str]]], list[Skipped]]:
    """Keep the latest count_year's entries of each shutdown; returns (row, uid suffix, years), skips."""
    groups: dict[tuple, list[_Row]] = {}
    for row in rows:
        groups.setdefault(row.key, []).append(row)
    kept: list[tuple[_Row, str, list[str]]] = []
    skipped: list[Skipped] = []
    for group in groups.values():
        years = sorted({r.year for r in group})
        latest = years[-1]
        current = [r for r in group if r.year == latest]
        for r in group:
            if r.year != latest:
                skipped.append(Skipped(r.number, "count_year", r.year,
                                       f"repeat of row {current[0].number} (a multi-year shutdown listed "
                                       f"again for count_year {latest}; the latest entry is kept)"))
        seen: dict[tuple, int] = {}
        for r in current:
            if r.content in seen:
                skipped.append(Skipped(r.number, "*", "", f"exact duplicate of row {seen[r.content]}"))
                continue
            seen[r.content] = r.number
            kept.append((r, "" if len(seen) == 1 else f"-{len(seen)}", years))
    kept.sort(key=lambda pair: pair[0].number)
    return kept, skipped


def _events(row: _Row, suffix: str, years: list[str], source: str) -> list[dict]:
    rec = row.record
    links = _URL_RE.findall(rec.get("info_source_link", "")) or _URL_RE.findall(rec.get("an_link", ""))
    out = []
    for cc in row.countries:
        start, end = local_days(row.first, row.last or row.first, country_timezone(cc))
        uid = stable_uid(cc, *(rec[c] for c in IDENTITY)) + suffix
        out.append({"uid": uid, "source": source, "kind": "shutdown_report", "country": cc,
                    "region": rec["area_name"], "start": start, "end": end, "all_day": True,
                    "title": _title(rec), "url": links[0] if links else None,
                    "description": _description(rec, row.last is None, years), "raw": raw_json(rec)})
    return out


def _title(rec: dict) -> str:
    what = rec["shutdown_type"] or "Shutdown"
    network = f" ({rec['affected_network']})" if rec["affected_network"] else ""
    place = rec["area_name"] or rec["country"]
    cause = f": {rec['actual_cause']}" if rec.get("actual_cause") else ""
    return f"{what}{network}, {place}{cause}"


def _description(rec: dict, no_end: bool, years: list[str]) -> str:
    parts = [f"Access Now #KeepItOn STOP, count_year {', '.join(years)}"]
    if no_end:
        parts.append(f"end date not recorded (status: {rec.get('shutdown_status') or 'not given'}); "
                     "stored as its first day only")
    for label, col in (("cause", "actual_cause"), ("status", "shutdown_status"), ("extent", "shutdown_extent"),
                       ("ordered by", "ordered_by"), ("election", "election")):
        if rec.get(col):
            parts.append(f"{label}: {rec[col]}")
    if rec.get("event"):
        parts.append(rec["event"])
    return "; ".join(parts)
