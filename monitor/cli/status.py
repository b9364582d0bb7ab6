"""`outage-monitor status`: what is in the store, how far each job has got, what failed last."""

from __future__ import annotations

import pandas as pd

from monitor.cli._output import print_frame
from monitor.store import schema


def register(sub) -> None:
    p = sub.add_parser("status", help="show what is in the store: signals, events, outages, cursors, jobs, errors")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=run)


def collect_status(store) -> dict[str, pd.DataFrame]:
    """The store's contents summarised, one frame per section."""
    events = store.read_events()
    outages = store.read_outages()
    runs = store.read_runs(limit=500)
    last = runs.drop_duplicates(["job", "key"]) if not runs.empty else runs
    others = last[last["job"] != "daemon"] if not last.empty else last
    errors = runs[runs["status"] != "ok"].drop_duplicates(["job", "key"]) if not runs.empty else runs
    return {
        "daemon jobs": _daemon_jobs(last),
        "signals": store.signal_summary(),
        "events": _counts(events, ["source", "kind"]),
        "outages": _counts(outages, ["source"]),
        "cursors": store.read_cursors(),
        "last runs": others[["job", "key", "finished", "status", "items"]] if not others.empty else others,
        "last errors": errors[["job", "key", "finished", "error"]] if not errors.empty else errors,
    }


def _daemon_jobs(last: pd.DataFrame) -> pd.DataFrame:
    """Each daemon job's last run, next run and consecutive failures (kept in the run's detail)."""
    rows = last[last["job"] == "daemon"] if not last.empty else last
    if rows.empty:
        return pd.DataFrame(columns=["job", "last_run", "status", "next_run", "failures", "error"])
    detail = [d if isinstance(d, dict) else {} for d in rows["detail"]]
    return pd.DataFrame({"job": rows["key"].to_numpy(), "last_run": rows["finished"].to_numpy(),
                         "status": rows["status"].to_numpy(),
                         "next_run": pd.to_datetime([d.get("next_run") for d in detail], utc=True),
                         "failures": [d.get("failures", 0) for d in detail],
                         "error": rows["error"].fillna("").to_numpy()})


def _counts(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=[*by, "count", "first", "last"])
    return (df.groupby(by).agg(count=("start", "size"), first=("start", "min"), last=("start", "max"))
            .reset_index())


def run(args, ctx) -> int:
    store = ctx.store
    sections = collect_status(store)
    lock = store.read_lock("daemon")
    if args.format == "json":
        import json
        from monitor.cli._output import frame_records
        out = {"store": store.url, "schema_version": schema.SCHEMA_VERSION,
               "daemon": None if lock is None else {"holder": lock["holder"], "heartbeat": lock["heartbeat"]},
               **{name: frame_records(df) for name, df in sections.items()}}
        print(json.dumps(out, indent=1, default=str))
        return 0
    print(f"store: {store.url} (schema version {schema.SCHEMA_VERSION})")
    if lock is not None:
        print(f"daemon: running as {lock['holder']}")
    for name, df in sections.items():
        print(f"\n{name}:")
        print_frame(df, empty="  (none)")
    return 0
