"""Collection runs: fetch a source for some entities window by window into the store.

Used by `outage-monitor collect` and by the daemon. Each window's frames and the cursor move land
in ONE store transaction, so a window that fails writes nothing and leaves the cursor where it
was; the next run fetches it again. Without a start, a run resumes from the cursor minus the
source's overlap (upstream still fills in recent bins), or goes back the source's lookback on a
first run. Writes are upserts, so running the same collection twice adds no rows.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pandas as pd
from tqdm import tqdm

from monitor.entities import Entity
from monitor.errors import InputError, MonitorError
from monitor.http import HttpClient
from monitor.sources.base import Batch, Source, windows
from monitor.sources.registry import get_source
from monitor.timeutil import iso, now, parse_time

log = logging.getLogger("monitor.collect")


@dataclass
class EntityResult:
    """What one entity's run did: the range asked for, windows stored, rows fetched and new."""

    entity: str
    start: pd.Timestamp
    end: pd.Timestamp
    windows: int = 0
    windows_done: int = 0
    points: int = 0
    new_points: int = 0
    outages: int = 0
    probe_events: int = 0
    cursor: pd.Timestamp | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def items(self) -> int:
        return self.points + self.outages + self.probe_events


@dataclass
class CollectSummary:
    """The outcome of one `collect` call; `ok` is False when any entity failed."""

    source: str
    base_url: str
    results: list[EntityResult] = field(default_factory=list)
    requests: int = 0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def job_name(source: str) -> str:
    """The cursor and run-record job of a source's collector."""
    return f"collect:{source}"


def collect(store, source_name: str, entities: Sequence[str], start=None, end=None, base_url: str | None = None,
            options: Mapping[str, Any] | None = None, client: HttpClient | None = None,
            progress: bool = False) -> CollectSummary:
    """Collect `source_name` for `entities` over [start, end) (end defaults to now, start to the
    cursor minus overlap or the source's lookback). Failures of one entity are recorded and the
    other entities still run; bad arguments raise InputError before anything is fetched."""
    spec = get_source(source_name)
    opts = spec.check_options(options)
    parsed = _entities(spec, entities)
    stop = parse_time(end, what="end") if end is not None else now()
    first = parse_time(start, what="start") if start is not None else None
    if first is not None and first >= stop:
        raise InputError(f"start {iso(first)} is not before end {iso(stop)}")
    url = (base_url or spec.base_url).rstrip("/")
    own_client = client is None
    client = client or spec.client()
    summary = CollectSummary(spec.name, url)
    requests_before = client.requests
    plans = [(entity, _plan(store, spec, entity, first, stop)) for entity in parsed]
    bar = tqdm(total=sum(len(w) for _, w in plans), unit="window", desc=f"collect {spec.name}",
               disable=not (progress and sys.stderr.isatty()))
    try:
        for entity, plan in plans:
            summary.results.append(_collect_entity(store, spec, client, url, entity, plan, first, stop, opts, bar))
    finally:
        bar.close()
        summary.requests = client.requests - requests_before
        if own_client:
            client.close()
    return summary


def _entities(spec: Source, entities: Sequence[str]) -> list[Entity]:
    if not entities:
        raise InputError(f"{spec.name}: no entities to collect (pass --entity or list them under [watch])")
    parsed = [Entity.parse(e) for e in entities]
    for entity in parsed:
        if not spec.supports(entity):
            raise InputError(f"{spec.name} does not serve {entity.type} entities ({entity}); "
                             f"it serves {', '.join(spec.entity_types)}")
    return list(dict.fromkeys(parsed))


def _plan(store, spec: Source, entity: Entity, first: pd.Timestamp | None,
          stop: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The windows to fetch: from `first`, else from the cursor minus overlap, else the lookback."""
    if first is None:
        cursor = store.get_cursor(job_name(spec.name), str(entity))
        first = cursor - spec.overlap if cursor is not None else stop - spec.lookback
    return windows(first, stop, spec.max_window) if first < stop else []


def _collect_entity(store, spec: Source, client: HttpClient, url: str, entity: Entity,
                    plan: list[tuple[pd.Timestamp, pd.Timestamp]], first, stop, opts, bar) -> EntityResult:
    job, key = job_name(spec.name), str(entity)
    started = now()
    result = EntityResult(key, plan[0][0] if plan else (first or stop), stop, windows=len(plan),
                          cursor=store.get_cursor(job, key))
    requests_before = client.requests
    for win_start, win_end in plan:
        try:
            batch = spec.fetch(client, url, entity, win_start, win_end, opts)
            _store_window(store, job, key, batch, win_end, result)
        except MonitorError as exc:
            result.error = str(exc)
            log.warning("%s %s: window %s..%s failed, cursor %s: %s", spec.name, key, iso(win_start),
                        iso(win_end), f"left at {iso(result.cursor)}" if result.cursor is not None else "not set",
                        exc)
            break
        result.windows_done += 1
        bar.update(1)
        log.debug("%s %s: stored %s..%s %s", spec.name, key, iso(win_start), iso(win_end), batch.counts)
    bar.update(result.windows - result.windows_done)
    store.record_run(job, key, started, now(), "ok" if result.ok else "error", result.items, result.error,
                     {"start": iso(result.start), "end": iso(stop), "windows": result.windows,
                      "windows_done": result.windows_done, "points": result.points, "new_points": result.new_points,
                      "outages": result.outages, "probe_events": result.probe_events,
                      "requests": client.requests - requests_before, "base_url": url})
    return result


def _store_window(store, job: str, key: str, batch: Batch, win_end: pd.Timestamp, result: EntityResult) -> None:
    """One transaction: the window's frames and (when it moves forward) the cursor."""
    with store.transaction() as tx:
        new = tx.write_signals(batch.signals) if not batch.signals.empty else 0
        if not batch.outages.empty:
            tx.write_outages(batch.outages)
        if not batch.probe_events.empty:
            tx.write_probe_events(batch.probe_events)
        if not batch.places.empty:
            tx.write_entity_places(batch.places)
        advance = result.cursor is None or win_end > result.cursor
        if advance:
            tx.set_cursor(job, key, win_end)
    if advance:
        result.cursor = win_end
    counts = batch.counts
    result.points += counts["points"]
    result.new_points += new
    result.outages += counts["outages"]
    result.probe_events += counts["probe_events"]
