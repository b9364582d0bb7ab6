"""Detection end to end: signals (and RIPE Atlas probe events) in, outages out; and the same over
the store, where re-running a window replaces that window's detected outages, never duplicates them.
"""

from __future__ import annotations

import logging

import pandas as pd

from monitor.detect.bursts import detect_bursts
from monitor.detect.fusion import SOURCE, assign_countries, fuse
from monitor.detect.params import DetectParams
from monitor.detect.rules import detect_signals
from monitor.errors import InputError
from monitor.frames import OUTAGE_COLUMNS, empty
from monitor.timeutil import iso, parse_time

log = logging.getLogger("monitor.detect.run")


def detect_alerts(signals: pd.DataFrame, probe_events: pd.DataFrame | None = None,
                  params: DetectParams = DetectParams(), probe_counts: dict[str, int] | None = None,
                  progress=None, workers: int | None = None) -> pd.DataFrame:
    """Per-datasource alerts and no-data intervals (rules.ALERT_COLUMNS), before fusion."""
    alerts = detect_signals(signals, params.rule_for, progress, workers)
    if probe_events is not None and not probe_events.empty:
        bursts = detect_bursts(probe_events, params.bursts, probe_counts)
        if not bursts.empty:
            alerts = pd.concat([alerts, bursts], ignore_index=True) if not alerts.empty else bursts
    return alerts


def detect_outages(signals: pd.DataFrame, probe_events: pd.DataFrame | None = None,
                   params: DetectParams = DetectParams(), probe_counts: dict[str, int] | None = None,
                   progress=None, workers: int | None = None) -> pd.DataFrame:
    """Outages (OUTAGE_COLUMNS, source "detected") found in signals and probe events. Pure.

    `probe_counts` gives an entity's number of RIPE Atlas probes when known (see bursts);
    `progress`, if given, wraps the iterator over series (e.g. a tqdm factory); `workers` threads
    judge the series (default one per CPU).
    """
    return fuse(detect_alerts(signals, probe_events, params, probe_counts, progress, workers), params)


def _window(store, entities, start, end) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """[start, end) to detect in; missing bounds come from the stored signals and probe events
    (None if there are neither)."""
    if start is not None and end is not None:
        return parse_time(start), parse_time(end)
    summary = store.signal_summary()
    if entities is not None:
        summary = summary[summary["entity"].isin(list(entities))]
    times = pd.concat([summary["first"], summary["last"], store.read_probe_events(entities=entities)["time"]])
    if times.empty:
        return None
    first = parse_time(start) if start is not None else times.min()
    last = parse_time(end) if end is not None else times.max() + pd.Timedelta(seconds=1)
    return first, last


def run_detection(store, entities=None, start=None, end=None, params: DetectParams = DetectParams(),
                  progress=None) -> pd.DataFrame:
    """Detect the outages of `entities` (default all) under way in [start, end) and store them.

    Bounds left out come from the stored data. Reads `params.lookback` (at least the longest rule
    window) of history before `start` and all data after `end`, so an outage in the window has its
    baseline and its real end. Outages under way at `start` (stored or found) are redone whole: the
    replaced span starts at the earliest of them, and everything "detected" for these entities
    starting in it is replaced in one transaction, so re-running never duplicates. The country of
    an outage whose entity does not name one comes from the stored entity places. Returns the
    outages written.
    """
    window = _window(store, entities, start, end)
    if window is None:
        log.info("no signals in %s to detect outages in", store.url)
        return empty(OUTAGE_COLUMNS)
    if start is not None and end is not None and window[1] <= window[0]:
        raise InputError(f"empty detection window: --from {window[0]} is not before --until {window[1]}")
    start, end = window
    if end <= start:
        log.info("no signals from %s on in %s", start, store.url)
        return empty(OUTAGE_COLUMNS)
    stored = store.read_outages(sources=[SOURCE], entities=entities, start=start, end=end)
    since = min([start, *stored["start"].tolist()])
    # At least one full history window before, and everything after the window, so an outage
    # starting in it has its baseline and its real end.
    history = max(params.lookback, params.longest_window)
    signals = store.read_signals(entities=entities, start=since - history)
    probes = store.read_probe_events(entities=entities, start=since - history)
    outages = detect_outages(signals, probes, params, progress=progress)
    if not outages.empty and outages["country"].isna().any():  # ASNs, numeric regions: stored places
        outages = assign_countries(outages, store.entity_countries(sorted(set(outages["entity"]))))
    overlapping = outages[(outages["start"] < end) & (outages["end"].isna() | (outages["end"] > start))]
    if not overlapping.empty:
        since = min(since, overlapping["start"].min())
    keep = outages[(outages["start"] >= since) & (outages["start"] < end)].reset_index(drop=True)
    store.replace_outages(keep, SOURCE, entities, since, end)
    log.info("%d outage(s) detected in [%s, %s) -> %s", len(keep), iso(since), iso(end), store.url)
    return keep
