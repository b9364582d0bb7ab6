"""`outage-monitor correlate`: flag outages that coincide with calendar events and test them."""

from __future__ import annotations

import dataclasses
import logging
import sys

import numpy as np

from monitor.cli._output import frame_records
from monitor.config import build
from monitor.correlate import SUMMARY_COLUMNS, CorrelateParams, run_correlation
from monitor.errors import InputError
from monitor.events.countries import country_code
from monitor.text import json_text, printable
from monitor.timeutil import parse_duration, parse_time

log = logging.getLogger("monitor.cli.correlate")

FLAG_FIELDS = ["entity", "outage_start", "outage_end", "event_title", "event_kind", "event_start",
               "relation", "offset_minutes", "outage_id", "event_source", "event_uid", "country"]
TABLE_FIELDS = ["country", "kind", "relation", "window", "n_episodes", "n_events", "observed", "expected",
                "excess", "ci_low", "ci_high", "p_adjusted", "verdict", "fragile"]


def register(sub) -> None:
    p = sub.add_parser("correlate", help="flag outages that coincide with calendar events and say how "
                       "unlikely that is by chance")
    p.add_argument("--outages", default="detected", metavar="SOURCE",
                   help="which outages: 'detected' (default), ioda-events, ioda-alerts, cloudflare-radar, "
                        "or imported shutdown reports: stop, ioda-outages, a curated list's name")
    p.add_argument("--country", nargs="+", action="extend", metavar="CC", help="only these countries")
    p.add_argument("--kind", nargs="+", action="extend", metavar="K", help="only these event kinds")
    p.add_argument("--from", dest="start", metavar="T", help="start of the observed span (ISO 8601 or unix s)")
    p.add_argument("--until", dest="end", metavar="T", help="end of the observed span, exclusive")
    p.add_argument("--window-before", metavar="D", help="pre-emptive window for every kind, e.g. 6h")
    p.add_argument("--window-after", metavar="D", help="reaction window for every kind, e.g. 3h")
    p.add_argument("--permutations", type=int, metavar="N", help="shifts of the calendar to evaluate (at most)")
    p.add_argument("--seed", type=int, metavar="N", help="kept for old scripts: the shift test draws nothing at random")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    params = _params(args, ctx.config.correlate)
    countries = [country_code(c) for c in args.country] if args.country else None
    start = parse_time(args.start, what="--from") if args.start else None
    end = parse_time(args.end, what="--until") if args.end else None
    if start is not None and end is not None and end <= start:
        raise InputError(f"--until {args.end} is not after --from {args.start}")
    result = run_correlation(ctx.store, args.outages, countries=countries, kinds=args.kind, start=start,
                             end=end, params=params)
    log.info("stored as correlation run %d in %s", result.run_id, ctx.store.url)
    if args.format == "json":
        _print_json(result)
    else:
        _print_table(result)
    return 0


def _params(args, section: dict) -> CorrelateParams:
    """[correlate] from the config file, then the command-line options on top."""
    params = build(CorrelateParams, section or {}, "[correlate]")
    changes = {}
    if args.window_before is not None:
        changes["window_before"] = parse_duration(args.window_before, what="--window-before")
    if args.window_after is not None:
        changes["window_after"] = parse_duration(args.window_after, what="--window-after")
    if args.permutations is not None:
        changes["permutations"] = args.permutations
    if args.seed is not None:
        changes["seed"] = args.seed
    return dataclasses.replace(params, **changes) if changes else params


def _print_json(result) -> None:
    doc = {"run_id": result.run_id, "params": result.params,
           "coincidences": frame_records(result.coincidences[FLAG_FIELDS]),
           "summary": frame_records(result.summary[SUMMARY_COLUMNS])}
    sys.stdout.write(json_text(doc) + "\n")


def _print_table(result) -> None:
    flags = result.coincidences
    print(f"Correlation run {result.run_id}: outages from {result.params['outages']}, "
          f"span {result.params['span'][0]} .. {result.params['span'][1]}")
    print(f"\n{len(flags)} coincidence(s)")
    if len(flags):
        shown = flags[["entity", "outage_start", "event_kind", "event_title", "event_start", "relation",
                       "offset_minutes"]].copy()
        for col in ("outage_start", "event_start"):
            shown[col] = shown[col].dt.strftime("%Y-%m-%d %H:%M")
        shown["event_title"] = [printable(t)[:50] for t in shown["event_title"]]  # feed text: no escapes
        print(shown.to_string(index=False))
    summary = result.summary
    episodes = result.params.get("episodes") or {}
    tested = summary[summary["p_value"].notna()]
    print(f"\nUnit: episodes: outages of one country that overlap in time count once "
          f"({episodes.get('outages', 0)} outage(s), {episodes.get('episodes', 0)} episode(s)); times UTC")
    print(f"Tests: {len(tested)} hypotheses (country x kind x relation) in one family, Benjamini-Hochberg at "
          f"alpha {result.params['alpha']}; no pooled rows. Null: the calendar shifted around each country's "
          "observed span, outages fixed.")
    print("Excess = observed - expected episodes; its interval excludes 0 exactly when the verdict is "
          "significant. It measures how far the coincidences exceed chance, not that the event caused the outage.")
    if summary.empty:
        print("(no calendar events for these outages)")
        return
    shown = summary[TABLE_FIELDS].copy()
    shown["fragile"] = np.where(shown["fragile"], "fragile", "")
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3g}", na_rep="-"))
    print()
    for r in summary.itertuples(index=False):
        print(printable(f"{r.country} {r.kind} {r.relation}: {r.note}"))
    if summary["fragile"].any():
        print("\nfragile: the verdict changes when the window is halved or doubled; do not quote it alone.")
