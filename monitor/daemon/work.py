"""What the daemon's jobs do, with no scheduling in them: collect, import calendars, analyse what
changed (detect, correlate, report, queue alerts), deliver alerts, write the digest.

`Work` keeps the one piece of state the jobs share: which entities got new data since the last
analysis (from when). It is also persisted as a cursor per entity ("daemon:analysed"), so after a
restart each entity is re-analysed from where the last analysis stopped.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from monitor import alerts
from monitor.alerts import AlertParams
from monitor.collect import collect, job_name
from monitor.config import Config, build
from monitor.correlate import CorrelateParams, run_correlation
from monitor.daemon.params import DaemonParams
from monitor.detect.params import DetectParams
from monitor.detect.run import run_detection
from monitor.entities import Entity
from monitor.errors import ConfigError, InputError, MonitorError
from monitor.events.ical import IcsLimits
from monitor.events.importer import import_events
from monitor.plot import outage_country
from monitor.report import (ReportParams, latest_run, load_digest, load_incident, render_digest, render_incident,
                            write_report)
from monitor.sources.registry import get_source
from monitor.timeutil import iso, now

log = logging.getLogger("monitor.daemon")

ANALYSED = "daemon:analysed"   # cursor per entity: the collectors' position the last analysis covered
REPORTED = "report"            # deliveries channel: which outage reports are written, in which state
CALENDAR_OPTIONS = {"strict"}


@dataclass
class Outcome:
    """What one job run did: a count for the run record, facts for the log line, one line per error."""

    items: int = 0
    detail: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


class Work:
    """The bodies of the daemon's jobs over one store and configuration."""

    def __init__(self, store, config: Config, wake: Callable[[str], None] = lambda job: None):
        where = str(config.path or "config")
        self.store, self.config, self.wake = store, config, wake
        self.params = build(DaemonParams, config.daemon, f"{where}: [daemon]")
        self.detect = build(DetectParams, config.detect, f"{where}: [detect]")
        self.correlate = build(CorrelateParams, config.correlate, f"{where}: [correlate]")
        self.report = build(ReportParams, config.report, f"{where}: [report]")
        self.alert_params = build(AlertParams, config.alerts, f"{where}: [alerts]")
        self.channels = alerts.channels(self.alert_params)
        for name, cal in config.calendars.items():
            unknown = sorted(set(cal.options) - CALENDAR_OPTIONS)
            if unknown:
                raise ConfigError(f"{where}: [calendars.{name}] unknown key {unknown[0]!r} (known: url, format, "
                                  "interval, country, kind, strict)")
        for name in config.sources:
            get_source(name)
        self._state = threading.Lock()
        self._dirty: dict[str, pd.Timestamp | None] = {}
        self._correlation_due = False
        self._reports_due = False

    def clock(self) -> pd.Timestamp:
        """Now, or the configured end when the daemon watches a past period."""
        end = self.params.end_time
        return min(end, now()) if end is not None else now()

    # -- collection -----------------------------------------------------------------------
    def collect(self, name: str, source) -> Outcome:
        """One source for the watched entities it serves: new ones from `start`, the rest from their cursor."""
        spec = get_source(name)
        if spec.credential_required and spec.credential() is None:
            return Outcome(detail={"skipped": f"{spec.credential_env} is not set"})
        entities = [e for e in self.config.entities if spec.supports(Entity.parse(e))]
        end = self.params.end_time
        fresh, resuming = [], []
        for entity in entities:
            cursor = self.store.get_cursor(job_name(name), entity)
            if cursor is None:
                fresh.append(entity)
            elif end is None or cursor < end:
                resuming.append(entity)
        out = Outcome(detail={"entities": len(entities), "points": 0, "new_points": 0})
        for group, start in ((resuming, None), (fresh, self.params.start_time)):
            if group:
                summary = collect(self.store, name, group, start=start, end=end,
                                  base_url=source.base_url, options=source.options)
                self._absorb(summary, out)
        return out

    def _absorb(self, summary, out: Outcome) -> None:
        for r in summary.results:
            out.items += r.items
            out.detail["points"] += r.points
            out.detail["new_points"] += r.new_points
            if r.error:
                out.errors.append(f"{r.entity}: {r.error}")
            if r.new_points or r.outages or r.probe_events:
                self.mark(r.entity, r.start)

    def calendar(self, name: str, cal) -> Outcome:
        """Re-import one calendar; any change makes the next analysis correlate again."""
        summary = import_events(self.store, cal.url, fmt=cal.format, country=cal.country, kind=cal.kind,
                                name=name, strict=cal.options.get("strict"),
                                limits=build(IcsLimits, self.config.events, "[events]"))
        if summary.added + summary.updated + summary.removed:
            with self._state:
                self._correlation_due = True
            self.wake("analyse")
        return Outcome(items=summary.events, detail={"added": summary.added, "updated": summary.updated,
                                                     "removed": summary.removed, "skipped": len(summary.skipped)})

    def mark(self, entity: str, since: pd.Timestamp | None, wake: bool = True) -> None:
        """Note that `entity` has new data from `since` on (None: from its first point)."""
        with self._state:
            if entity in self._dirty:
                known = self._dirty[entity]
                since = None if known is None or since is None else min(known, since)
            self._dirty[entity] = since
        if wake:
            self.wake("analyse")

    def pending(self) -> bool:
        """Whether the analysis has work left (new data, a calendar change, reports not yet written)."""
        with self._state:
            return bool(self._dirty) or self._correlation_due or self._reports_due

    def catch_up(self) -> None:
        """At start-up: re-analyse each watched entity from its last analysed position."""
        for entity in self.config.entities:
            analysed = self.store.get_cursor(ANALYSED, entity)
            self.mark(entity, analysed - self.params.reanalyse if analysed is not None else None, wake=False)

    # -- analysis -------------------------------------------------------------------------
    def analyse(self) -> Outcome:
        """Detect in what changed, correlate, write reports for new outages, queue alerts."""
        with self._state:
            dirty, self._dirty = self._dirty, {}
            due, self._correlation_due = self._correlation_due or bool(dirty), False
        out = Outcome(detail={"entities": len(dirty)})
        for entity, since in sorted(dirty.items()):
            try:
                found = run_detection(self.store, entities=[entity], start=since, params=self.detect)
                self.store.set_cursor(ANALYSED, entity, self._collected(entity))
            except MonitorError as exc:
                out.errors.append(f"detect {entity}: {exc}")
                self.mark(entity, since, wake=False)  # again at the next (backed-off) run
                continue
            out.items += len(found)
        if due:
            self._correlate(out)
        out.detail["reports"] = len(self.write_reports(out))
        return out

    def _collected(self, entity: str) -> pd.Timestamp:
        cursors = self.store.read_cursors()
        mine = cursors[(cursors["key"] == entity) & cursors["job"].str.startswith("collect:")]
        return mine["position"].max() if not mine.empty else self.clock()

    def _correlate(self, out: Outcome) -> None:
        try:
            result = run_correlation(self.store, "detected", params=self.correlate)
        except InputError as exc:  # no outages and no events yet: nothing to do, not a failure
            out.detail["correlation"] = "nothing to correlate"
            log.debug("correlation skipped: %s", exc)
            return
        except MonitorError:
            with self._state:
                self._correlation_due = True
            raise
        queued = alerts.enqueue(self.store, result.coincidences, self.channels, self.alert_params.max_age,
                                at=self.clock())
        out.detail.update(correlation_run=result.run_id, coincidences=len(result.coincidences),
                          alerts_queued=queued)
        if queued:
            self.wake("alerts")

    def write_reports(self, out: Outcome) -> list[Path]:
        """Incident reports for recent detected outages that are new, have ended, or gained coincidences
        (at most `reports_per_run`; `pending()` says when more are due). A report that fails is an
        error in `out` and is tried again next time; the others are still written."""
        outages = self.store.read_outages(sources=["detected"], start=self.clock() - self.params.report_max_age)
        if outages.empty:
            with self._state:
                self._reports_due = False
            return []
        countries = outage_country(outages).unique().tolist()
        run = latest_run(self.store, ["detected"], countries, outages["start"].min(), self.clock())
        flags = self.store.read_coincidences(run["run_id"]) if run else pd.DataFrame(columns=["outage_id"])
        counts = flags.groupby("outage_id").size().to_dict() if not flags.empty else {}
        done = self.store.read_deliveries(channel=REPORTED)
        seen = dict(zip(done["key"], done["payload"]))
        written, due = [], []
        for outage in outages.to_dict("records"):
            state = {"end": None if pd.isna(outage["end"]) else iso(outage["end"]),
                     "coincidences": int(counts.get(outage["outage_id"], 0))}
            before = seen.get(outage["outage_id"]) or {}
            if outage["outage_id"] not in seen or any(before.get(k) != v for k, v in state.items()):
                due.append((outage, state))
        with self._state:
            self._reports_due = len(due) > self.params.reports_per_run
        for outage, state in reversed(due[-self.params.reports_per_run:]):  # the newest first
            try:
                paths = self.incident_report(outage)
            except MonitorError as exc:
                out.errors.append(f"report {outage['outage_id']}: {exc}")
                continue
            self.store.record_delivery(REPORTED, outage["outage_id"], alerts.DELIVERED, 1,
                                       payload={**state, "paths": [str(p) for p in paths]})
            written.append(paths[0])
            log.info("report %s", paths[0])
        return written

    def incident_report(self, outage: dict) -> list[Path]:
        """Write one outage's report (and its CSV) into report_dir; returns the paths, report first."""
        name = "incident-" + outage["entity"].replace("/", "-") + "-" + stamp(outage["start"])
        path = Path(self.params.report_dir) / f"{name}.{self.params.report_format}"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = load_incident(self.store, outage, self.report, self.detect)
        # report_dir is the daemon's own folder: its reports are rewritten as outages change
        return write_report(path, render_incident(data, self.report, self.params.report_format, name), force=True)

    # -- alerts and digest ----------------------------------------------------------------
    def deliver_alerts(self) -> Outcome:
        result = alerts.deliver(self.store, self.channels, self.alert_params)
        return Outcome(items=result[alerts.DELIVERED], errors=result["errors"],
                       detail={k: v for k, v in result.items() if k != "errors"})

    def digest(self, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
               countries: list[str] | None = None) -> Outcome:
        """The digest of the last `digest_span` (or [start, end)) for the watched (or given) countries."""
        end = end or self.clock()
        start = start or end - self.params.digest_span
        countries = countries or sorted({e.split("/")[1] for e in self.config.entities
                                         if e.startswith("country/")}) or None
        data = load_digest(self.store, start, end, countries, ("detected",), self.detect)
        name = f"digest-{stamp(start)}-{stamp(end)}"
        path = Path(self.params.report_dir) / f"{name}.{self.params.report_format}"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_report(path, render_digest(data, self.report, self.params.report_format, name), force=True)
        log.info("digest %s", path)
        return Outcome(items=len(data.outages), detail={"path": str(path)})


def stamp(ts: pd.Timestamp) -> str:
    """A UTC time for file names: 20191116T140500Z."""
    return iso(ts).replace("-", "").replace(":", "")
