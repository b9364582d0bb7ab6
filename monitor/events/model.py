"""The event model shared by every calendar format: kinds, stable ids, local days, row errors,
and building/validating an EVENT_COLUMNS frame.

Parsers are pure: text in, a `ParseResult` out (events, the rows they skipped and why). A bad row
is a `RowError` naming its field and value; `collect` turns it into a `Skipped` entry, or into a
`ParseError` naming file, row and field when the caller is strict.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import pandas as pd

from monitor.errors import InputError, ParseError
from monitor.frames import EVENT_COLUMNS, EVENT_KINDS, empty
from monitor.text import printable, storable  # noqa: F401 - printable re-exported (it lived here)

_SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_TEXT_COLUMNS = ("uid", "source", "kind", "country", "region", "title", "url", "description", "raw")


class RowError(InputError):
    """One record is unusable: `field` holds `value`, which is wrong for `reason`."""

    def __init__(self, field: str, value: Any, reason: str):
        self.field, self.value, self.reason = field, value, reason
        super().__init__(printable(f"field {field} = {_show(value)}: {reason}"))


@dataclass(frozen=True)
class Skipped:
    """A record left out of an import, and why; `unit` says what `row` counts (row, line, event)."""

    row: int | str
    field: str
    value: str
    reason: str
    unit: str = "row"

    def __str__(self) -> str:
        return printable(f"{self.unit} {self.row}, field {self.field} = {_show(self.value)}: {self.reason}")


@dataclass
class ParseResult:
    """What a parser made of one source: its events, the records read and the ones skipped.

    `cancelled` holds uids the source marks as withdrawn (iCalendar STATUS:CANCELLED).
    """

    events: pd.DataFrame
    rows: int
    skipped: list[Skipped] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:80] + "..." if len(text) > 80 else text)


def parse_kind(text: Any) -> str:
    """One of EVENT_KINDS, accepting any case and spaces or dashes for underscores."""
    kind = re.sub(r"[\s\-]+", "_", str(text).strip().lower())
    if kind not in EVENT_KINDS:
        raise InputError(f"unknown event kind {text!r}: use one of {', '.join(EVENT_KINDS)}")
    return kind


def source_name(text: str) -> str:
    """A valid source name (lower-case letters, digits, '-', '_', '.'), as stored with each event."""
    if not isinstance(text, str) or not _SOURCE_RE.match(text):
        raise InputError(f"bad source name {text!r}: use lower-case letters, digits, '-', '_' or '.'")
    return text


def source_from_path(stem: str) -> str:
    """A source name derived from a file name's stem: 'My Events 2020' -> 'my-events-2020'."""
    name = re.sub(r"[^a-z0-9_.\-]+", "-", stem.lower()).strip("-._")[:64]
    return source_name(name or "calendar")


def stable_uid(*parts: Any) -> str:
    """A short id that stays the same for the same parts (a content hash, for sources without ids)."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def raw_json(record: Any) -> str:
    """The original record as JSON text (keys sorted), kept with the event for provenance."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)


def local_days(first: dt.date, last: dt.date, zone: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC bounds of whole local days `first`..`last` (inclusive) in `zone`: [00:00 first, 00:00 after last)."""
    if last < first:
        raise InputError(f"last day {last.isoformat()} is before first day {first.isoformat()}")
    start = pd.Timestamp(first).tz_localize(zone, nonexistent="shift_forward", ambiguous=False)
    end = pd.Timestamp(last + dt.timedelta(days=1)).tz_localize(zone, nonexistent="shift_forward",
                                                                 ambiguous=False)
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def field_value(name: str, value: Any, convert: Callable[[Any], Any]) -> Any:
    """`convert(value)`, with any InputError turned into a RowError naming the field."""
    try:
        return convert(value)
    except RowError:
        raise
    except InputError as exc:
        raise RowError(name, value, str(exc)) from exc


def collect(rows: Iterable[tuple[int | str, Any]], parse_row: Callable[[Any], list[dict]],
            where: str, strict: bool, unit: str = "row") -> tuple[list[dict], list[Skipped], int]:
    """Run `parse_row` over numbered records; returns (event records, skipped, records read).

    strict: the first bad record raises ParseError("<where>, <unit> N, field F = 'v': reason").
    """
    records: list[dict] = []
    skipped: list[Skipped] = []
    count = 0
    for number, row in rows:
        count += 1
        try:
            records.extend(parse_row(row))
        except RowError as exc:
            if strict:
                raise ParseError(printable(f"field {exc.field} = {_show(exc.value)}: {exc.reason}"),
                                 printable(f"{where}, {unit} {number}")) from exc
            skipped.append(Skipped(number, exc.field, "" if exc.value is None else str(exc.value),
                                   exc.reason, unit))
    return records, skipped, count


def csv_records(text: str, where: str) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """(header, (row number, record) pairs) of CSV text; the header is row 1, as in a spreadsheet.

    A file the csv module cannot read (a stray quote, a field over its size limit) is a ParseError
    naming the row, even when bad rows are otherwise skipped: the file's structure is broken.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = list(reader.fieldnames or [])
    except csv.Error as exc:
        raise ParseError(f"not readable as CSV ({printable(exc)})", f"{where}, row 1 (header)") from exc

    def records() -> Iterator[tuple[int, dict]]:
        number = 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ParseError(f"not readable as CSV ({printable(exc)})", f"{where}, row {number + 1}") from exc
            number += 1
            yield number, {k: v for k, v in record.items() if isinstance(k, str)}
    return header, records()


def events_frame(records: list[dict]) -> pd.DataFrame:
    """An EVENT_COLUMNS frame from dicts (missing optional fields become None), times as UTC seconds."""
    if not records:
        return empty(EVENT_COLUMNS)
    df = pd.DataFrame.from_records(records, columns=EVENT_COLUMNS)
    for col in ("start", "end"):
        df[col] = pd.to_datetime(df[col], utc=True).dt.as_unit("s")
    df["all_day"] = df["all_day"].astype(bool)
    for col in _TEXT_COLUMNS:  # NUL, control characters and lone surrogates cleaned on the way in
        keep = df[col].notna() & (df[col] != "")
        df[col] = pd.Series([storable(v) for v in df[col]], index=df.index, dtype=object).where(keep, None)
    return df


def validate_events(df: pd.DataFrame, where: str = "events") -> pd.DataFrame:
    """Check the contract (columns, kinds, countries, start <= end, unique ids); returns df."""
    missing = [c for c in EVENT_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{where}: event frame lacks column(s) {', '.join(missing)}")
    for col in ("start", "end"):
        if not isinstance(df[col].dtype, pd.DatetimeTZDtype) or df[col].isna().any():
            raise InputError(f"{where}: column {col} must be timezone-aware UTC times without gaps")
    checks = [
        (~df["kind"].isin(EVENT_KINDS), "kind", "unknown kind"),
        (df["uid"].isna() | df["source"].isna() | df["title"].isna(), "uid", "uid, source and title are required"),
        (df["country"].notna() & ~df["country"].astype(str).str.match(_COUNTRY_RE), "country",
         "not an ISO alpha-2 code"),
        (df["end"] < df["start"], "end", "end before start"),
        (df.duplicated(["source", "uid"]), "uid", "duplicate (source, uid)"),
    ]
    checks += [(df[col].map(lambda v: isinstance(v, str) and storable(v) != v).astype(bool), col,
                "holds NUL, control characters or lone surrogates (events_frame cleans them)")
               for col in _TEXT_COLUMNS if col in df.columns]
    for mask, col, reason in checks:
        if mask.any():
            row = df[mask].iloc[0]
            raise InputError(printable(f"{where}: event {row['source']}:{row['uid']} field {col} = "
                                       f"{_show(str(row[col]))}: {reason}"))
    return df
