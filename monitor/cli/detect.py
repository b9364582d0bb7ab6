"""`outage-monitor detect`: find outages in the stored signals and store them (re-runs replace)."""

from __future__ import annotations

import functools
import json
import logging
import sys

import pandas as pd
from tqdm import tqdm

from monitor.cli._output import print_frame
from monitor.config import build
from monitor.detect.params import DetectParams
from monitor.detect.run import run_detection
from monitor.entities import parse_entity
from monitor.frames import SCORE_MEANING
from monitor.timeutil import iso, parse_time

log = logging.getLogger("monitor.cli.detect")


def register(sub) -> None:
    p = sub.add_parser("detect", help="find outages in the stored signals and store them")
    p.add_argument("--entity", type=parse_entity, action="append", metavar="E",
                   help="only this entity, e.g. country/IR (repeatable; default all)")
    p.add_argument("--from", dest="start", type=parse_time, metavar="T",
                   help="window start, ISO 8601 or unix s (default: the first signal); outages already "
                        "under way at T are redone whole")
    p.add_argument("--until", dest="end", type=parse_time, metavar="T",
                   help="window end, exclusive (default: after the last signal)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=run)


def detect_params(config) -> DetectParams:
    """The [detect] section of the configuration as DetectParams."""
    where = f"{config.path}: [detect]" if config.path else "[detect]"
    return build(DetectParams, dict(config.detect or {}), where)


def outage_records(outages: pd.DataFrame) -> list[dict]:
    """Outages as JSON-ready dicts: entity, start, end (ISO 8601 UTC, null while ongoing), ..."""
    return [{"outage_id": r.outage_id, "entity": r.entity, "country": r.country,
             "start": iso(r.start), "end": None if pd.isna(r.end) else iso(r.end),
             "datasources": list(r.datasources), "depth": round(float(r.depth), 4),
             "score": float(r.score), "method": r.method, "detail": r.detail}
            for r in outages.itertuples(index=False)]


def outage_table(outages: pd.DataFrame) -> pd.DataFrame:
    """Outages for people: one line each, times ISO 8601 UTC, depth in percent, duration in hours,
    severity, minutes without data inside the outage."""
    if outages.empty:
        return outages
    hours = (outages["end"] - outages["start"]).dt.total_seconds() / 3600
    detail = outages["detail"].map(lambda d: d if isinstance(d, dict) else {})
    nodata = detail.map(lambda d: max((d.get("nodata_minutes") or {}).values(), default=0.0))
    return pd.DataFrame({"entity": outages["entity"], "country": outages["country"].fillna("-"),
                         "start": outages["start"], "end": outages["end"],
                         "hours": hours.round(1), "datasources": outages["datasources"].map(", ".join),
                         "depth %": (100 * outages["depth"]).round(0).astype("Int64"),
                         "severity": detail.map(lambda d: d.get("severity", "-")
                                                + (", long-running" if d.get("long_running") else "")),
                         "no data min": nodata.round(0).astype("Int64"),
                         "score": outages["score"].map(lambda s: f"{s:.2f}")})


def run(args, ctx) -> int:
    params = detect_params(ctx.config)
    progress = functools.partial(tqdm, desc="series", unit="series", disable=not sys.stderr.isatty())
    outages = run_detection(ctx.store, entities=args.entity, start=args.start, end=args.end,
                            params=params, progress=progress)
    if args.format == "json":
        json.dump(outage_records(outages), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_frame(outage_table(outages), empty="no outages detected")
        ongoing = int(outages["end"].isna().sum())
        if ongoing:
            print(f"{ongoing} outage(s) still ongoing at the end of the data (end shown as -)")
        if not outages.empty:
            print(SCORE_MEANING)
    return 0
