"""`outage-monitor report incident|digest`: self-contained HTML or Markdown reports from the store."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from monitor.config import build
from monitor.detect.params import DetectParams
from monitor.entities import parse_entity
from monitor.errors import InputError
from monitor.events.countries import country_code
from monitor.report import (ReportParams, find_outage, load_digest, load_incident, render_digest,
                            render_incident, report_format, write_report)
from monitor.timeutil import iso, parse_time

log = logging.getLogger("monitor.cli.report")


def register(sub) -> None:
    p = sub.add_parser("report", help="write an incident report or a digest (HTML or Markdown)",
                       description="Write an incident report or a digest. Beside FILE go its evidence file "
                                   "(FILE-<html|md>.evidence.json: every figure and claim the report states) "
                                   "and its CSVs; a file in the way that an earlier run of the report did not "
                                   "write is refused unless --force is given.")
    kinds = p.add_subparsers(dest="report_kind", metavar="KIND")
    kinds.required = True
    inc = kinds.add_parser("incident", help="one outage: when, how deep, which events coincide, the data")
    inc.add_argument("--outage-id", help="the outage's id (see `outage-monitor status` / `detect --format json`)")
    inc.add_argument("--entity", type=parse_entity,
                     help="with --at: the outage of this entity covering that time (else a shutdown report "
                          "of its country)")
    inc.add_argument("--at", type=parse_time, metavar="T", help="a time inside the outage (ISO 8601 or unix s)")
    inc.add_argument("--out", metavar="FILE", help="FILE.html or FILE.md (default: incident-<entity>-<start>.html)")
    inc.add_argument("--force", action="store_true",
                     help="overwrite files in the way that an earlier run of this report did not write")
    inc.set_defaults(func=run_incident)
    dig = kinds.add_parser("digest", help="a period and a set of countries: outages, coincidences, significance")
    dig.add_argument("--from", dest="start", type=parse_time, required=True, metavar="T", help="start, inclusive")
    dig.add_argument("--until", dest="end", type=parse_time, required=True, metavar="T", help="end, exclusive")
    dig.add_argument("--country", type=country_code, action="append", metavar="CC",
                     help="ISO code or name (repeatable; default: every country with an outage)")
    dig.add_argument("--outages", action="append", metavar="SOURCE",
                     help="outages of this source, or the shutdown reports of this imported list (stop, "
                          "ioda-outages, ...) (repeatable; default: detected; 'all' for every source of "
                          "the outages table)")
    dig.add_argument("--out", metavar="FILE", help="FILE.html or FILE.md (default: digest-<from>-<until>.html)")
    dig.add_argument("--force", action="store_true",
                     help="overwrite files in the way that an earlier run of this report did not write")
    dig.set_defaults(func=run_digest)


def _params(ctx) -> tuple[ReportParams, DetectParams]:
    where = f"{ctx.config.path or 'config'}"
    return (build(ReportParams, ctx.config.report, f"{where}: [report]"),
            build(DetectParams, ctx.config.detect, f"{where}: [detect]"))


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


def _stamp(ts) -> str:
    return iso(ts).replace("-", "").replace(":", "")


def run_incident(args, ctx) -> int:
    if args.outage_id is None and (args.entity is None or args.at is None):
        raise InputError("give --outage-id ID, or --entity E with --at T")
    if args.outage_id is not None and (args.entity or args.at):
        raise InputError("give either --outage-id or --entity with --at, not both")
    params, detect = _params(ctx)
    outage = find_outage(ctx.store, args.outage_id, args.entity, args.at)
    out = Path(args.out or f"incident-{_safe_name(outage['entity'])}-{_stamp(outage['start'])}.html")
    fmt = report_format(out)
    data = load_incident(ctx.store, outage, params, detect)
    written = write_report(out, render_incident(data, params, fmt, out.stem), force=args.force)
    log.info("incident %s: %d signal points, %d coinciding events", outage["outage_id"], len(data.signals),
             len(data.coincidences))
    for path in written:
        print(path)
    return 0


def run_digest(args, ctx) -> int:
    if args.end <= args.start:
        raise InputError(f"--until {iso(args.end)} is not after --from {iso(args.start)}")
    params, detect = _params(ctx)
    out = Path(args.out or f"digest-{_stamp(args.start)}-{_stamp(args.end)}.html")
    fmt = report_format(out)
    sources = None if args.outages and "all" in args.outages else (args.outages or ["detected"])
    data = load_digest(ctx.store, args.start, args.end, args.country, sources, detect)
    written = write_report(out, render_digest(data, params, fmt, out.stem), force=args.force)
    log.info("digest: %d outages in %d countries", len(data.outages), len(data.countries))
    for path in written:
        print(path)
    return 0
