"""`outage-monitor demo`: the whole pipeline on the real data bundled in data/, offline, in seconds."""

from __future__ import annotations

import os

import pandas as pd

from monitor.timeutil import iso


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline offline on the bundled real data (start here)",
                       description="Replay the bundled IODA (Iran, November 2019) and RIPE Atlas (Kenya, June "
                                   "2016) data through the collectors into a store, import the starter "
                                   "calendar, detect outages, correlate them with the calendar, and write "
                                   "incident reports and digests. Needs no network.")
    p.add_argument("--out", metavar="DIR", default="reports", help="where to write the reports (default: reports)")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    from monitor.demo import run_demo  # the whole pipeline: only when it runs
    explicit = bool(ctx.db_url_option or os.environ.get("MONITOR_DB") or ctx.config.store_url)
    result = run_demo(ctx.db_url, args.out, explicit=explicit)
    _print(result)
    return 0


def _print(r) -> None:
    if r.note:
        print(f"note: {r.note}")
    print(f"store: {r.store_url}")
    print("signals (replayed through the IODA and RIPE Atlas collectors):")
    for s in r.signals.itertuples(index=False):
        print(f"  {s.entity:<11} {s.datasource:<18} {s.points:>6} points  {iso(s.first)} .. {iso(s.last)}")
    print(f"events: {r.events} from the starter calendar (data/events/starter.csv)")
    print(f"outages detected: {len(r.outages)}")
    for o in r.outages.itertuples(index=False):
        end = "ongoing" if pd.isna(o.end) else iso(o.end)
        depth = "" if pd.isna(o.depth) else f", depth {o.depth:.0%}"
        print(f"  {o.entity:<11} {iso(o.start)} .. {end}{depth} ({', '.join(o.datasources)})")
    print(f"coincidences with calendar events: {len(r.coincidences)}")
    for c in r.coincidences.itertuples(index=False):
        print(f"  {c.entity} outage at {iso(c.outage_start)} {c.relation} {c.event_title}")
    print("reports:")
    for path in r.reports:
        print(f"  {path}")
    print(f"done in {r.seconds:.1f} s; next: outage-monitor --db {r.store_url} status")
