"""`outage-monitor signals import|export`: the tidy bring-your-own-data path."""

from __future__ import annotations

import logging
import sys

import pandas as pd

from monitor.entities import parse_datasource, parse_entity
from monitor.errors import InputError
from monitor.tidy import read_tidy_csv, write_tidy
from monitor.timeutil import iso, parse_time

log = logging.getLogger("monitor.cli.signals")


def register(sub) -> None:
    p = sub.add_parser("signals", help="import or export signals in the tidy CSV format")
    cmds = p.add_subparsers(dest="signals_command", metavar="ACTION")
    cmds.required = True
    imp = cmds.add_parser("import", help="import a CSV with columns time,entity,datasource,value")
    imp.add_argument("file", help="CSV file ('-' for standard input)")
    imp.add_argument("--entity", type=parse_entity, help="entity for every row, when the file has no entity column")
    imp.add_argument("--datasource", type=parse_datasource, help="datasource for every row, when the file has none")
    imp.add_argument("--country", type=_alpha2, metavar="CC",
                     help="ISO 3166 alpha-2 country of the file's entities (stored as their place, so "
                          "their outages know their country), e.g. for region/bago")
    imp.add_argument("--skip-bad", action="store_true", help="write the good rows and count the bad ones "
                     "(default: any bad row writes nothing)")
    imp.set_defaults(func=run_import)
    exp = cmds.add_parser("export", help="write signals as CSV or JSON to stdout")
    exp.add_argument("--entity", type=parse_entity, required=True)
    exp.add_argument("--datasource", type=parse_datasource, action="append",
                     help="only this datasource (repeatable; default all)")
    exp.add_argument("--from", dest="start", type=parse_time, metavar="T", help="start, inclusive (ISO 8601 or unix s)")
    exp.add_argument("--until", dest="end", type=parse_time, metavar="T", help="end, exclusive")
    exp.add_argument("--format", choices=["csv", "json"], default="csv")
    exp.set_defaults(func=run_export)


def _alpha2(text: str) -> str:
    code = text.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise InputError(f"--country {text!r}: expected an ISO 3166 alpha-2 code, e.g. MM")
    return code


def run_import(args, ctx) -> int:
    name = "<stdin>" if args.file == "-" else args.file
    frame, bad = read_tidy_csv(sys.stdin if args.file == "-" else args.file, name,
                               entity=args.entity, datasource=args.datasource, strict=not args.skip_bad)
    for line, reason in bad[:20]:
        log.warning("%s: line %d: %s (skipped)", name, line, reason)
    written = ctx.new_store.write_signals(frame)
    if args.country and not frame.empty:
        entities = sorted(set(frame["entity"].astype(str)))
        ctx.new_store.write_entity_places(pd.DataFrame({"entity": entities, "country": args.country,
                                                        "name": None, "source": "import"}))
    print(f"{name}: {len(frame)} points read, {written} new or changed, {len(bad)} bad rows skipped "
          f"-> {ctx.store.url}")
    return 0


def run_export(args, ctx) -> int:
    if args.start is not None and args.end is not None and args.end <= args.start:
        raise InputError(f"--until {iso(args.end)} is not after --from {iso(args.start)}")
    df = ctx.store.read_signals(entities=[args.entity], datasources=args.datasource, start=args.start, end=args.end)
    if df.empty:
        _explain_nothing(ctx.store, args)
    sys.stdout.write(write_tidy(df, args.format))
    return 0


def _explain_nothing(store, args) -> None:
    """No rows: an entity or datasource that is not stored is an InputError (likely a typo);
    a valid series with no points in the window is only a note on stderr."""
    summary = store.signal_summary()
    stored = summary[summary["entity"] == args.entity]
    if stored.empty:
        raise InputError(f"no signals stored for {args.entity} in {store.url}")
    if args.datasource and not stored["datasource"].isin(args.datasource).any():
        raise InputError(f"no {args.entity} signals from {', '.join(args.datasource)} in {store.url}; "
                         f"stored datasources: {', '.join(stored['datasource'])}")
    if args.datasource:
        stored = stored[stored["datasource"].isin(args.datasource)]
    log.warning("no signals for %s between %s and %s (stored from %s to %s)", args.entity,
                iso(args.start) or "the start", iso(args.end) or "the end",
                iso(stored["first"].min()), iso(stored["last"].max()))
