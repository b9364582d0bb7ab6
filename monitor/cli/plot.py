"""`outage-monitor plot`: an entity's signals, outages and events as a PNG or SVG chart."""

from __future__ import annotations

import logging
import os
import re
import zoneinfo
from pathlib import Path

from monitor.entities import Entity, parse_datasource, parse_entity
from monitor.errors import InputError
from monitor.plot import figure_bytes, plot_timeline
from monitor.report.attribution import credit_line
from monitor.timeutil import iso, parse_time

log = logging.getLogger("monitor.cli.plot")
IMAGE_FORMATS = {".png": "png", ".svg": "svg"}


def register(sub) -> None:
    p = sub.add_parser("plot", help="draw an entity's signals (percent of the window maximum), outages and events")
    p.add_argument("--entity", type=parse_entity, required=True, help="TYPE/CODE, e.g. country/IR")
    p.add_argument("--from", dest="start", type=parse_time, required=True, metavar="T",
                   help="start, inclusive (ISO 8601 or unix seconds)")
    p.add_argument("--until", dest="end", type=parse_time, required=True, metavar="T", help="end, exclusive")
    p.add_argument("--datasource", type=parse_datasource, action="append",
                   help="only this datasource (repeatable; default all)")
    p.add_argument("--outages", action="append", metavar="SOURCE",
                   help="shade the outages of this source (repeatable; default: detected; 'all' for every source)")
    p.add_argument("--tz", type=time_zone, help="local time zone noted under the axis (default: the country's)")
    p.add_argument("--out", metavar="FILE", help="FILE.png or FILE.svg (default: plot-<entity>-<from>.png here)")
    p.set_defaults(func=run)


def time_zone(name: str) -> str:
    """An IANA time zone name, checked against the tz database."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"unknown time zone {name!r}: use an IANA name such as Asia/Tehran") from exc
    return name


def default_name(entity: str, start) -> str:
    """`plot-country-IR-20191116T0000Z.png`: a file name safe on every system."""
    stamp = iso(start).replace("-", "").replace(":", "")
    return re.sub(r"[^A-Za-z0-9._-]", "-", f"plot-{entity}-{stamp}") + ".png"


def run(args, ctx) -> int:
    out = Path(args.out or default_name(args.entity, args.start))
    fmt = IMAGE_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise InputError(f"plot file {out}: use a .png or .svg extension")
    if args.end <= args.start:
        raise InputError(f"--until {iso(args.end)} is not after --from {iso(args.start)}")
    store = ctx.store
    signals = store.read_signals(entities=[args.entity], datasources=args.datasource, start=args.start, end=args.end)
    if signals.empty:
        raise InputError(f"no signals of {args.entity} between {iso(args.start)} and {iso(args.end)} in {store.url}")
    sources = None if args.outages and "all" in args.outages else (args.outages or ["detected"])
    outages = store.read_outages(sources=sources, entities=[args.entity], start=args.start, end=args.end)
    country = Entity.parse(args.entity).country
    events = store.read_events(countries=[country], start=args.start, end=args.end) if country else None
    fig = plot_timeline(signals, outages, events, entity=args.entity, start=args.start, end=args.end,
                        tz=args.tz, credit=credit_line(set(signals["datasource"])))
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_bytes(figure_bytes(fig, fmt))
        os.replace(tmp, out)
    except OSError as exc:
        raise InputError(f"cannot write plot file {out}: {exc.strerror or exc}") from exc
    log.info("%d points, %d outages, %d events", len(signals), len(outages), 0 if events is None else len(events))
    print(out)
    return 0
