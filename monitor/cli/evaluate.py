"""`outage-monitor evaluate`: stored detections against a reference list of outages."""

from __future__ import annotations

import json
import sys

from monitor.cli._output import frame_records, print_frame
from monitor.detect.evaluate import EvaluateParams, evaluate_store
from monitor.entities import parse_entity
from monitor.errors import InputError
from monitor.timeutil import parse_duration, parse_time


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="compare detected outages with reference outages in the store")
    p.add_argument("--bundled", action="store_true",
                   help="instead of the store: detect and evaluate on every bundled real series (data/) "
                        "against its documented outages, and count false outages on quiet synthetic series")
    p.add_argument("--reference", metavar="SOURCE",
                   help="ioda-events, ioda-alerts, cloudflare-radar (outages), or stop, ioda-outages "
                        "or a curated list (shutdown reports)")
    p.add_argument("--entity", type=parse_entity, action="append", metavar="E",
                   help="only this entity (repeatable; default all with signals)")
    p.add_argument("--from", dest="start", type=parse_time, metavar="T", help="window start (ISO 8601 or unix s)")
    p.add_argument("--until", dest="end", type=parse_time, metavar="T", help="window end, exclusive")
    p.add_argument("--slack", type=lambda t: parse_duration(t, what="--slack"), default=EvaluateParams.slack,
                   help="how far apart a detection and a reference may be and still match (default 1h)")
    p.add_argument("--regional", action="store_true",
                   help="also count region-level shutdown reports against their country's signals")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=run)


def run_bundled(args, params: EvaluateParams) -> int:
    """Recall, precision, start and end error on the bundled real series; quiet false outages."""
    from monitor.detect.bundled import evaluate_bundled, quiet_false_outages
    table = evaluate_bundled(evaluate_params=params)
    quiet = quiet_false_outages(entities=10)
    if args.format == "json":
        json.dump({"bundled": frame_records(table), "quiet": quiet}, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    shown = table.assign(recall=table["recall"].map(lambda r: "-" if r != r else f"{r:.0%}"),
                         precision=table["precision"].map(lambda p: "-" if p != p else f"{p:.0%}"),
                         start_error_min=table["start_error_min"].round(0),
                         end_error_min=table["end_error_min"].round(0))
    print("median |start| and |end| error in minutes (- : no documented end)")
    print_frame(shown, empty="(no rows)")
    print(f"quiet synthetic series: {quiet['false_outages']} false outage(s) in {quiet['entity_months']:.0f} "
          f"entity-months = {quiet['per_entity_month']:.2f} per entity-month")
    return 0


def run(args, ctx) -> int:
    params = EvaluateParams(slack=args.slack, regional=args.regional)
    if args.bundled:
        return run_bundled(args, params)
    if not args.reference:
        raise InputError("evaluate needs --reference SOURCE (or --bundled)")
    rows, summary = evaluate_store(ctx.store, args.reference, entities=args.entity, start=args.start,
                                   end=args.end, params=params)
    if args.format == "json":
        json.dump({"reference": args.reference, "summary": summary, "rows": frame_records(rows)},
                  sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(f"reference {args.reference}: {summary['references']} outage(s) where signals exist, "
          f"{summary['matched']} matched, {summary['missed']} missed; {summary['detected']} detected, "
          f"{summary['false_alarms']} matching no reference"
          + (f", {summary['outside_period']} outside the reference's period (not judged)"
             if summary["outside_period"] else "")
          + (f"; {summary['duplicates_merged']} duplicate reference row(s) counted once"
             if summary.get("duplicates_merged") else ""))
    for key in ("recall", "precision"):
        if summary[key] is not None:
            print(f"{key}: {summary[key]:.0%}")
    for key, label in (("median_abs_start_error_minutes", "start"), ("median_abs_end_error_minutes", "end")):
        if summary[key] is not None:
            print(f"median |{label} error|: {summary[key]:.0f} min")
    shown = rows.drop(columns=["title"]).copy()
    shown[["reference_id", "outage_id"]] = shown[["reference_id", "outage_id"]].fillna("-")
    for col in ("start_error_minutes", "end_error_minutes"):
        shown[col] = shown[col].round(0)
    print_frame(shown, empty="(no rows)")
    return 0
