"""Import one calendar (file or URL) into the store: read, parse, then sync in one transaction.

A calendar is a snapshot of its source: re-importing it adds new events, updates changed ones,
leaves identical ones alone, deletes the ones it marks cancelled, and deletes stored events of that
source (within the import's country and window) that are no longer in it. Parsing happens before
anything is written, so a file that fails to parse leaves the store exactly as it was; an import
that yields no events at all never deletes anything by absence. A calendar remembers where it was
imported from (an absolute path, a URL, or `acled`): a sync of the same name from elsewhere is refused
unless `replace`, so two files called events.csv cannot silently replace each other.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
from monitor.errors import InputError
from monitor.events import acled, curated, ical, ioda_outages, stop
from monitor.events.countries import country_code
from monitor.events.model import (ParseResult, Skipped, printable, source_from_path, source_name,
                                  validate_events)
from monitor.http import HttpClient
from monitor.text import NestingError, load_json
from monitor.timeutil import epoch, now

log = logging.getLogger("monitor.events")

FORMATS = ("ics", "csv", "yaml", "stop", "ioda-outages", "acled")
_EXTENSIONS = {".ics": "ics", ".ical": "ics", ".ifb": "ics", ".csv": "csv", ".yaml": "yaml", ".yml": "yaml",
               ".json": "acled"}
# Third-party lists default to skipping (and reporting) bad rows; a person's own calendar to stopping.
_LENIENT = ("stop", "ioda-outages", "acled")
# Formats whose --country selects rows (or the ACLED query) rather than filling in a default.
_COUNTRY_FILTERS = ("stop", "ioda-outages", "acled")
_FIXED_NAMES = {"stop": stop.SOURCE, "ioda-outages": ioda_outages.SOURCE, "acled": acled.SOURCE}
_ICS_HORIZON = pd.Timedelta(days=366)
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):")  # two letters at least: C:\ is a path


@dataclass
class ImportSummary:
    """What an import did; `str()` is the report the CLI prints."""

    source: str
    fmt: str
    location: str
    rows: int = 0
    events: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    def lines(self, limit: int | None = 10) -> list[str]:
        """The report, listing at most `limit` skipped rows (None: all)."""
        out = [f"{self.source}: read {self.rows} record(s) from {self.location} (format {self.fmt})",
               f"  events {self.events}: added {self.added}, updated {self.updated}, unchanged {self.unchanged}; "
               f"removed {self.removed}",
               f"  skipped {len(self.skipped)}" + (f" ({_tally(self.skipped)}):" if self.skipped else "")]
        shown = self.skipped if limit is None else self.skipped[:limit]
        out += [f"    {s}" for s in shown]
        if len(shown) < len(self.skipped):
            out.append(f"    ... and {len(self.skipped) - len(shown)} more (-v lists them all)")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _tally(skipped: list[Skipped]) -> str:
    """'count_year 207, duration 35, ...': how many skips each field caused, most first."""
    return ", ".join(f"{name} {n}" for name, n in Counter(s.field for s in skipped).most_common())


def import_events(store, location: str, fmt: str | None = None, country: str | None = None,
                  kind: str | None = None, name: str | None = None,
                  window: tuple[pd.Timestamp | None, pd.Timestamp | None] | None = None,
                  strict: bool | None = None, client: HttpClient | None = None,
                  env: dict | None = None, replace: bool = False,
                  limits: ical.IcsLimits = ical.IcsLimits()) -> ImportSummary:
    """Read `location` (path or URL), parse it as `fmt` (guessed when None) and sync it into `store`.

    country: default country for ics/csv/yaml events; the only country kept for stop/ioda-outages;
    the country to query for acled. kind: default kind (ics/csv/yaml). window: (start, end) in UTC;
    recurring events are expanded over it and only events overlapping it are imported and pruned.
    strict: stop at the first bad record (default for ics/csv/yaml) or skip and report (the others).
    client: the HttpClient for URLs (default: one made here); env: where ACLED credentials are read
    (default os.environ). replace: allow replacing a calendar of the same name that was imported from
    another location (otherwise InputError).
    """
    guessed = fmt is None
    fmt = _format(fmt, location)
    window = _window(window)
    own = nullcontext(client) if client else HttpClient(source="acled" if fmt == "acled" else "calendar")
    with own as http:
        text = None if fmt == "acled" else _read(location, http)
        if guessed and fmt == "csv":
            fmt = _sniff_csv(text)
        if kind is not None and fmt in _LENIENT:
            raise InputError(f"--kind does not apply to format {fmt} (its events have a fixed kind)")
        name = source_name(name) if name else _default_name(fmt, location)
        strict = fmt not in _LENIENT if strict is None else strict
        parsed = _parse(location, text, fmt, http, name=name, country=country, kind=kind, window=window,
                        strict=strict, env=env, limits=limits)
    events = _in_window(parsed.events, window)
    validate_events(events, location)
    summary = ImportSummary(name, fmt, location, rows=parsed.rows, events=len(events), skipped=parsed.skipped)
    scope = country_code(country) if country and fmt in _COUNTRY_FILTERS else None
    origin = _origin(fmt, location)
    if not replace:
        _refuse_other_origin(store, name, origin)
    _sync(store, summary, events, parsed.cancelled, scope, window, origin)
    return summary


def _format(fmt: str | None, location: str) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt
    if location == "acled":
        return "acled"
    suffix = Path(urlsplit(location).path if is_url(location) else location).suffix.lower()
    if suffix not in _EXTENSIONS:
        raise InputError(f"cannot tell the format of {location} from its extension: give --format "
                         f"({', '.join(FORMATS)})")
    return _EXTENSIONS[suffix]


def _window(window) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    start, end = window if window else (None, None)
    if start is not None and end is not None and end <= start:
        raise InputError(f"empty window: until {end} is not after from {start}")
    return start, end


def _default_name(fmt: str, location: str) -> str:
    if fmt in _FIXED_NAMES:
        return _FIXED_NAMES[fmt]
    path = urlsplit(location).path if is_url(location) else location
    return source_from_path(Path(path).stem or urlsplit(location).netloc)


def _origin(fmt: str, location: str) -> str:
    """Where a calendar comes from, comparable between imports: an absolute path, a URL, or 'acled'."""
    if fmt == "acled" and location in ("acled", acled.BASE_URL):
        return "acled"
    return location if is_url(location) else str(Path(location).resolve())


def _refuse_other_origin(store, name: str, origin: str) -> None:
    """InputError if `name` has stored events and was last imported from somewhere other than `origin`."""
    last = store.read_runs(job="events-import", key=name, status="ok", limit=1)
    detail = (last["detail"].iloc[0] if len(last) else None) or {}
    if not detail.get("location"):
        return
    # imports recorded before origins were: their location as given, resolved from here
    before = detail.get("origin") or _origin(detail.get("format"), detail["location"])
    count = len(store.read_events(sources=[name])) if before != origin else 0
    if count:
        raise InputError(printable(f"calendar {name!r} was imported from {before}; importing {origin} under "
                                   f"the same name would replace its {count} event(s): give --name NAME to "
                                   f"keep both, or --replace to replace it"))


def is_url(location: str) -> bool:
    """True for http(s) URLs; InputError for any other URL scheme (file:, ftp:, data:...)."""
    scheme = _SCHEME_RE.match(location)
    if scheme and Path(location).exists():  # a local file whose name has a colon
        return False
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        raise InputError(printable(f"cannot read {location[:80]}: calendars are read from local files or "
                                   f"http(s) URLs, not {scheme.group(1)}:"))
    return scheme is not None


def _read(location: str, http: HttpClient) -> str:
    if is_url(location):
        return http.get_text(location)
    try:
        return Path(location).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc.__class__.__name__
        raise InputError(f"cannot read {location}: {reason}") from exc


def _sniff_csv(text: str) -> str:
    """A .csv is a curated list unless its header is STOP's or IODA's outage list's."""
    header = {h.strip().lstrip("\ufeff") for h in text.split("\n", 1)[0].split(",")}
    if {"start_date", "count_year"} <= header:
        return "stop"
    if {"Begin time", "End time", "ID"} <= header:
        return "ioda-outages"
    return "csv"


def _parse(location: str, text: str | None, fmt: str, http: HttpClient, *, name: str, country, kind, window,
           strict: bool, env, limits: ical.IcsLimits) -> ParseResult:
    if fmt == "acled":
        return _parse_acled(location, http, name=name, country=country, window=window, strict=strict, env=env)
    common = {"where": location, "source": name, "strict": strict}
    if fmt == "ics":
        start = window[0] if window[0] is not None else pd.Timestamp("1970-01-01", tz="UTC")
        end = window[1] if window[1] is not None else now() + _ICS_HORIZON
        return ical.parse_ics(text, window=(start, end), country=country, kind=kind, limits=limits, **common)
    if fmt == "csv":
        return curated.parse_csv(text, country=country, kind=kind, **common)
    if fmt == "yaml":
        return curated.parse_yaml(text, country=country, kind=kind, **common)
    if fmt == "stop":
        return stop.parse_stop(text, country=country, **common)
    return ioda_outages.parse_ioda_outages(text, country=country, **common)


def _parse_acled(location: str, http: HttpClient, *, name, country, window, strict, env) -> ParseResult:
    """A saved ACLED answer (a .json file), or a live query (location `acled` or the API base URL)."""
    if not is_url(location) and location != "acled":
        try:
            payload = load_json(_read(location, http))
        except json.JSONDecodeError as exc:
            raise InputError(f"{location}, line {exc.lineno}: not JSON ({exc.msg})") from exc
        except NestingError as exc:
            raise InputError(f"{location}: JSON {exc}") from exc
        records = acled.records_from_payload(payload, location)
    else:
        if not country:
            raise InputError("ACLED imports one country at a time: give --country")
        if window[0] is None or window[1] is None:
            raise InputError("ACLED needs a date range: give --from and --until")
        last = (window[1] - pd.Timedelta(seconds=1)).date()
        query = acled.AcledQuery(country_code(country), window[0].date(), last,
                                 base_url=acled.BASE_URL if location == "acled" else location)
        records = acled.fetch_acled(http, query, acled.credentials_from_env(env))
    parsed = acled.parse_acled(records, where=location, source=name, strict=strict)
    if country:
        parsed.events = parsed.events[parsed.events["country"] == country_code(country)].reset_index(drop=True)
    return parsed


def _in_window(events: pd.DataFrame, window) -> pd.DataFrame:
    """Events overlapping [start, end) (instants count at their start), as the store reads them."""
    start, end = window
    keep = pd.Series(True, index=events.index)
    if start is not None:
        keep &= (events["end"] > start) | (events["start"] >= start)
    if end is not None:
        keep &= events["start"] < end
    return events[keep].reset_index(drop=True)


def _comparable(df: pd.DataFrame) -> dict[str, tuple]:
    """uid -> the event's values in a form equal for equal events (times as epoch seconds)."""
    out = {}
    for row in df.to_dict("records"):
        values = []
        for col in ("kind", "country", "region", "start", "end", "all_day", "title", "url", "description", "raw"):
            v = row[col]
            if col in ("start", "end"):
                v = epoch(v)
            elif col == "all_day":
                v = bool(v)
            elif v is None or (isinstance(v, float) and pd.isna(v)) or v == "":
                v = None
            values.append(v)
        out[str(row["uid"])] = tuple(values)
    return out


def _sync(store, summary: ImportSummary, events: pd.DataFrame, cancelled: list[str], scope: str | None,
          window, origin: str) -> None:
    """Write new and changed events and delete withdrawn ones, in one transaction."""
    stored = store.read_events(sources=[summary.source])
    old, new = _comparable(stored), _comparable(events)
    changed = [uid for uid, values in new.items() if old.get(uid) != values]
    summary.added = sum(uid not in old for uid in changed)
    summary.updated = len(changed) - summary.added
    summary.unchanged = len(new) - len(changed)
    in_scope = _in_window(stored, window)
    if scope:
        in_scope = in_scope[in_scope["country"] == scope]
    gone = set(in_scope["uid"]) - set(new) if new else set()
    if not new and len(in_scope):
        log.warning("%s: no events parsed from %s; the %d stored event(s) are kept", summary.source,
                    summary.location, len(in_scope))
    withdrawn = sorted(gone | (set(cancelled) & set(old)))
    started = now()
    with store.transaction() as tx:
        tx.write_events(events[events["uid"].isin(changed)])
        summary.removed = tx.delete_events(summary.source, withdrawn)
        tx.record_run("events-import", summary.source, started, now(), "ok", summary.added + summary.updated,
                      detail={"location": summary.location, "origin": origin, "format": summary.fmt,
                              "rows": summary.rows, "skipped": len(summary.skipped), "removed": summary.removed})
