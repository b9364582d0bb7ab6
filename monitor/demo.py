"""The offline demo: the real data bundled in data/ through the same code users run.

A local replay of the IODA and RIPE Atlas APIs serves the bundled series (Iran, November 2019; the
Kenya RIPE Atlas connection log, June 2016); the real collectors fetch them into a store; the
starter calendar is imported; then detection, correlation, incident reports and digests run as the
daemon runs them. Nothing touches the network beyond 127.0.0.1.

The demo never mixes into a store holding someone's data: it uses the requested store when that is
empty or an earlier demo's, falls back from the default store to data/demo.db, and refuses otherwise.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from monitor.collect import collect
from monitor.config import DEFAULT_DB_URL, Config
from monitor.correlate import run_correlation
from monitor.daemon.work import Work
from monitor.detect.run import run_detection
from monitor.errors import InputError
from monitor.events.importer import import_events
from monitor.replay import DATA_DIR, ReplayServer
from monitor.store import open_store, schema
from monitor.timeutil import now, parse_time

log = logging.getLogger("monitor.demo")

FALLBACK_DB_URL = "sqlite:///data/demo.db"
MARKER = "demo"  # run record job: this store was filled by the demo
# (source, entity, start, end): the periods the bundled data cover.
COLLECTIONS = (("ioda", "country/IR", "2019-11-14", "2019-11-24"),
               ("ripe-atlas", "country/KE", "2016-06-01", "2016-06-08"))
CALENDAR = DATA_DIR / "events" / "starter.csv"


@dataclass(frozen=True)
class DemoResult:
    """What the demo did: where it wrote, what it found, how long it took."""

    store_url: str
    note: str | None               # why this store was chosen, when it is not the one asked for
    signals: pd.DataFrame          # the store's signal summary
    events: int
    outages: pd.DataFrame          # detected outages
    coincidences: pd.DataFrame
    reports: list[Path]            # incident reports, then digests
    seconds: float


def choose_store(url: str, explicit: bool):
    """(store, note): `url` if empty or a demo's; else, for the default URL, the fallback; else refuse."""
    store = open_store(url)
    if not _foreign_data(store):
        return store, None
    store.close()
    if explicit or url != DEFAULT_DB_URL:
        raise InputError(f"the store {store.url} already holds data the demo did not write; give the demo "
                         "a new store, e.g. --db sqlite:///demo.db")
    fallback = open_store(FALLBACK_DB_URL)
    if _foreign_data(fallback):
        fallback.close()
        raise InputError(f"both {store.url} and {fallback.url} hold data the demo did not write; "
                         "give the demo a new store, e.g. --db sqlite:///demo.db")
    return fallback, f"{store.url} holds your data, so the demo used {fallback.url}"


def _foreign_data(store) -> bool:
    """True when the store has rows and no demo marker."""
    if not store.read_runs(job=MARKER, limit=1).empty:
        return False
    with store.engine.connect() as conn:
        return any(conn.execute(select(1).select_from(table).limit(1)).first() is not None
                   for table in (schema.signals, schema.events, schema.outages))


def run_demo(db_url: str | None = None, out_dir: str | Path = "reports", explicit: bool = False) -> DemoResult:
    """Load the bundled data into a fresh store, detect, correlate and write reports; offline."""
    t0, started = time.monotonic(), now()
    store, note = choose_store(db_url or DEFAULT_DB_URL, explicit)
    try:
        with ReplayServer(data_dir=DATA_DIR) as replay:
            for source, entity, start, end in COLLECTIONS:
                summary = collect(store, source, [entity], start=start, end=end, base_url=replay.base_urls[source])
                if not summary.ok:
                    raise InputError(f"demo: collecting {source} from the local replay failed: "
                                     f"{summary.results[0].error}")
        events = import_events(store, str(CALENDAR), name="starter")
        for _, entity, start, end in COLLECTIONS:
            run_detection(store, entities=[entity], start=start, end=end)
        run_correlation(store, "detected")
        reports = _reports(store, Path(out_dir))
        store.record_run(MARKER, "bundled", started, now(), "ok", len(reports),
                         detail={"reports": [str(p) for p in reports]})
        return DemoResult(store.url, note, store.signal_summary(), events.events,
                          store.read_outages(sources=["detected"]), store.read_coincidences(), reports,
                          time.monotonic() - t0)
    finally:
        store.close()


def _reports(store, out_dir: Path) -> list[Path]:
    """An incident report per detected outage and a digest per bundled period, as the daemon writes them."""
    entities = tuple(entity for _, entity, _, _ in COLLECTIONS)
    work = Work(store, Config(entities=entities, daemon={"report_dir": str(out_dir)}))
    paths = [work.incident_report(outage)[0] for outage in store.read_outages(sources=["detected"]).to_dict("records")]
    for _, entity, start, end in COLLECTIONS:
        out = work.digest(parse_time(start), parse_time(end), countries=[entity.split("/")[1]])
        paths.append(Path(out.detail["path"]))
    return paths
