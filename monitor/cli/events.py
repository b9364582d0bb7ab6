"""`outage-monitor events import|list`: bring calendars into the store and look at them."""

from __future__ import annotations

import argparse
import logging
import re

import pandas as pd

from monitor.cli._output import print_frame
from monitor.errors import InputError
from monitor.events.countries import country_code, country_timezone
from monitor.config import build
from monitor.events.ical import IcsLimits
from monitor.events.importer import FORMATS, import_events
from monitor.events.model import parse_kind, printable
from monitor.frames import EVENT_KINDS
from monitor.timeutil import parse_time

log = logging.getLogger("monitor.cli.events")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TITLE_WIDTH = 70


def _arg(convert):
    """An argparse type that reports our InputError as a usage error (exit 2), not a traceback."""
    def parse(text: str):
        try:
            return convert(text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
    parse.__name__ = getattr(convert, "__name__", "value")
    return parse


def _until(text: str) -> pd.Timestamp:
    """An exclusive end; a bare date means through the end of that day (UTC)."""
    ts = parse_time(text, what="--until")
    return ts + pd.Timedelta(days=1) if _DATE_RE.match(text.strip()) else ts


def register(sub) -> None:
    p = sub.add_parser("events", help="import event calendars (iCalendar, CSV/YAML, STOP, IODA, ACLED) or list events")
    cmds = p.add_subparsers(dest="events_command", metavar="ACTION")
    cmds.required = True
    imp = cmds.add_parser("import", help="import a calendar file or URL; re-importing updates it in place")
    imp.add_argument("source", metavar="SOURCE", help="path or URL (for ACLED: a saved .json answer, "
                     "'acled', or the API base URL)")
    imp.add_argument("--format", choices=FORMATS, help="default: from the extension (.ics, .csv, .yaml, "
                     ".json=acled); a .csv with STOP's or IODA's header is recognised")
    imp.add_argument("--country", type=_arg(country_code), metavar="CC",
                     help="ics/csv/yaml: country of events that name none; stop/ioda-outages: import only "
                     "this country; acled: the country to fetch")
    imp.add_argument("--kind", type=_arg(parse_kind), metavar="KIND",
                     help=f"ics/csv/yaml: kind of events that name none ({', '.join(EVENT_KINDS)})")
    imp.add_argument("--name", metavar="NAME", help="source name stored with the events (default: the file "
                     "name, or stop / ioda-outages / acled)")
    imp.add_argument("--from", dest="start", type=_arg(parse_time), metavar="T",
                     help="only events from T (ISO 8601); recurring events are expanded from here")
    imp.add_argument("--until", dest="end", type=_arg(_until), metavar="T",
                     help="only events before T (a bare date: through that day)")
    imp.add_argument("--replace", action="store_true", help="let this import replace a calendar of the same "
                     "name imported from another file or URL (refused otherwise)")
    mode = imp.add_mutually_exclusive_group()
    mode.add_argument("--strict", dest="strict", action="store_true", default=None,
                      help="stop at the first bad record (default for ics, csv, yaml)")
    mode.add_argument("--skip-bad", dest="strict", action="store_false",
                      help="skip and report bad records (default for stop, ioda-outages, acled)")
    imp.set_defaults(func=run_import)

    lst = cmds.add_parser("list", help="list stored events, times in UTC and in the country's local time")
    lst.add_argument("--country", type=_arg(country_code), action="append", metavar="CC", help="repeatable")
    lst.add_argument("--kind", type=_arg(parse_kind), action="append", metavar="K", help="repeatable")
    lst.add_argument("--source", action="append", metavar="NAME", help="calendar name (repeatable)")
    lst.add_argument("--from", dest="start", type=_arg(parse_time), metavar="T",
                     help="events ending after T (ISO 8601)")
    lst.add_argument("--until", dest="end", type=_arg(_until), metavar="T",
                     help="events starting before T (a bare date: through that day)")
    lst.add_argument("--format", choices=["table", "csv", "json"], default="table")
    lst.set_defaults(func=run_list)


def run_import(args, ctx) -> int:
    window = (args.start, args.end) if args.start is not None or args.end is not None else None
    summary = import_events(ctx.new_store, args.source, fmt=args.format, country=args.country, kind=args.kind,
                            name=args.name, window=window, strict=args.strict, replace=args.replace,
                            limits=build(IcsLimits, ctx.config.events, "[events]"))
    for line in summary.lines(limit=None if ctx.verbosity > 0 else 10):
        print(line)
    return 0


def run_list(args, ctx) -> int:
    df = ctx.store.read_events(countries=args.country, kinds=args.kind, sources=args.source,
                               start=args.start, end=args.end)
    if df.empty:
        log.warning("no events match in %s", ctx.store.url)
    if args.format == "table":
        print_frame(_table(df), "table", empty="(no events)")
    else:
        print_frame(_safe(_with_local(df).drop(columns=["raw"]), keep_lines=True), args.format)
    return 0


def _safe(df: pd.DataFrame, keep_lines: bool = False) -> pd.DataFrame:
    """Text from calendars cannot drive the terminal: control characters are replaced."""
    out = df.copy()
    for col in out.columns:
        if not isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = [printable(v, keep_lines) if isinstance(v, str) else v for v in out[col]]
    return out


def _zone(country) -> str | None:
    return country_timezone(country) if isinstance(country, str) and country else None


def _with_local(df: pd.DataFrame) -> pd.DataFrame:
    """Adds timezone, local_start and local_end (ISO 8601 with the local offset)."""
    out = df.copy()
    out["timezone"] = [_zone(c) for c in out["country"]]
    for col in ("start", "end"):
        out[f"local_{col}"] = [t.tz_convert(z).isoformat() if z else None for t, z in zip(out[col], out["timezone"])]
    return out


def _table(df: pd.DataFrame) -> pd.DataFrame:
    """One line per event: UTC span, the same span in local time, and what it is."""
    rows = []
    for ev in df.to_dict("records"):
        zone = _zone(ev["country"])
        rows.append({"start (UTC)": ev["start"].strftime("%Y-%m-%d %H:%M"),
                     "end (UTC)": ev["end"].strftime("%Y-%m-%d %H:%M"),
                     "local": _local_span(ev, zone), "country": ev["country"], "kind": ev["kind"],
                     "title": _short(ev["title"]), "source": ev["source"]})
    return _safe(pd.DataFrame(rows, columns=["start (UTC)", "end (UTC)", "local", "country", "kind", "title",
                                              "source"]))


def _local_span(ev: dict, zone: str | None) -> str:
    if zone is None:
        return "-"
    start, end = ev["start"].tz_convert(zone), ev["end"].tz_convert(zone)
    if ev["all_day"]:
        last = (end - pd.Timedelta(seconds=1)).strftime("%Y-%m-%d")
        first = start.strftime("%Y-%m-%d")
        return f"{first} (all day)" if first == last else f"{first}..{last} (all days)"
    offset = start.strftime("%z")
    offset = offset[:3] if offset.endswith("00") else f"{offset[:3]}:{offset[3:]}"
    same_day = start.date() == end.date()
    return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}{'' if same_day else f' ({end:%m-%d})'} {offset}"


def _short(title: str) -> str:
    return title if len(title) <= _TITLE_WIDTH else title[:_TITLE_WIDTH - 3] + "..."
