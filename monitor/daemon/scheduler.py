"""The scheduler: every job on its interval in a BackgroundScheduler, with retry backoff, one log
line and one run record per job run, the lock's heartbeat, and a clean stop on SIGTERM/SIGINT.

Jobs are defined in code at start-up (no persistent job store: collectors resume from their
cursors). `coalesce=True` and `max_instances=1` keep a slow job from piling up; the misfire grace
is the job's interval. A job still running `stop_grace` after a stop request is abandoned by
exiting the process, which rolls its open transaction back.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from datetime import datetime, timezone

import pandas as pd
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler

from monitor.config import Config
from monitor.daemon.lock import LOCK, acquire, holder_id
from monitor.daemon.work import Outcome, Work
from monitor.errors import MonitorError, StoreError
from monitor.sources.registry import get_source
from monitor.timeutil import iso, now

log = logging.getLogger("monitor.daemon")

RUN_JOB = "daemon"  # run records: job "daemon", key = the job's id, detail = facts and next run


class Daemon:
    """The jobs of one store and configuration, run once (`run_once`) or on a schedule (`run_forever`)."""

    def __init__(self, store, config: Config, holder: str | None = None):
        self.store, self.holder = store, holder or holder_id()
        self.work = Work(store, config, wake=self.wake)
        self.params = self.work.params
        self.jobs = self._job_table(config)
        self.scheduler: BackgroundScheduler | None = None
        self.stopping = threading.Event()
        self._state = threading.Lock()
        self._running: set[str] = set()
        self._failures: dict[str, int] = {}

    def _job_table(self, config: Config) -> dict[str, tuple]:
        """job id -> (function, interval, runs at start-up?), in the order `--once` runs them."""
        w, p, jobs = self.work, self.params, {}
        for name, source in config.sources.items():
            if source.enabled:
                jobs[f"collect:{name}"] = (lambda n=name, s=source: w.collect(n, s),
                                           source.interval or get_source(name).interval, True)
        for name, cal in config.calendars.items():
            jobs[f"calendar:{name}"] = (lambda n=name, c=cal: w.calendar(n, c), cal.interval, True)
        jobs["analyse"] = (w.analyse, p.analyse_interval, True)
        jobs["alerts"] = (w.deliver_alerts, p.alerts_interval, True)
        jobs["digest"] = (w.digest, p.digest_interval, False)  # not on every restart
        return jobs

    # -- one job run ----------------------------------------------------------------------
    def run_job(self, job_id: str) -> Outcome:
        """Run one job now: catch and record its failure, log one line, back off if it failed."""
        fn, interval, _ = self.jobs[job_id]
        started, t0 = now(), time.monotonic()
        with self._state:
            self._running.add(job_id)
        try:
            try:
                out = fn()
            except MonitorError as exc:
                out = Outcome(errors=[str(exc)])
            except Exception as exc:  # a bug: keep its traceback in the log, keep the daemon running
                log.exception("%s: unexpected error", job_id)
                out = Outcome(errors=[f"internal error: {exc.__class__.__name__}: {exc}"])
            seconds = time.monotonic() - t0
            next_run = self._after(job_id, interval, bool(out.errors))
            self._record(job_id, started, seconds, out, next_run)
        finally:
            with self._state:
                self._running.discard(job_id)
        if job_id == "analyse" and not out.errors and self.work.pending():
            self.wake("analyse")  # data arrived while analysing
        return out

    def _after(self, job_id: str, interval: pd.Timedelta, failed: bool) -> pd.Timestamp | None:
        """Count failures; after one, move the job's next run to the backoff delay. Returns the next run."""
        failures = self._failures.get(job_id, 0) + 1 if failed else 0
        self._failures[job_id] = failures
        if failures:
            delay = min(self.params.backoff * 2 ** (failures - 1), interval)
            self._reschedule(job_id, datetime.now(timezone.utc) + delay.to_pytimedelta())
        job = self._job(job_id)
        return pd.Timestamp(job.next_run_time).tz_convert("UTC") if job and job.next_run_time else None

    def _record(self, job_id: str, started, seconds: float, out: Outcome, next_run) -> None:
        facts = "".join(f" {k}={v}" for k, v in out.detail.items())
        errors = f"errors={len(out.errors)}" + (f" first: {out.errors[0]}" if out.errors else "")
        log.log(logging.WARNING if out.errors else logging.INFO, "%s:%s items=%d seconds=%.2f %s",
                job_id, facts, out.items, seconds, errors)
        detail = {**out.detail, "seconds": round(seconds, 3), "next_run": iso(next_run) if next_run else None,
                  "failures": self._failures.get(job_id, 0), "errors": out.errors[:10]}
        try:
            self.store.record_run(RUN_JOB, job_id, started, now(), "error" if out.errors else "ok", out.items,
                                  "; ".join(out.errors)[:1000] or None, detail)
        except StoreError as exc:
            log.error("%s: cannot record the run: %s", job_id, exc)

    def _job(self, job_id: str):
        if self.scheduler is None or self.stopping.is_set():
            return None
        try:
            return self.scheduler.get_job(job_id)
        except SchedulerNotRunningError:
            return None

    def _reschedule(self, job_id: str, when: datetime) -> None:
        if self._job(job_id) is None:
            return
        try:
            self.scheduler.modify_job(job_id, next_run_time=when)
        except (JobLookupError, SchedulerNotRunningError):
            log.debug("%s: not rescheduled, the scheduler is stopping", job_id)

    def wake(self, job_id: str) -> None:
        """Run `job_id` as soon as possible (unless it is running: it looks again when done)."""
        with self._state:
            busy = job_id in self._running
        if not busy:
            self._reschedule(job_id, datetime.now(timezone.utc))

    # -- the two ways to run ------------------------------------------------------------------
    def run_once(self) -> int:
        """Every job once, in order (collectors, calendars, analysis, alerts, digest); 1 if any failed."""
        acquire(self.store, self.holder, self.params)
        try:
            self.work.catch_up()
            return 1 if [job_id for job_id in self.jobs if self.run_job(job_id).errors] else 0
        finally:
            self.store.release_lock(LOCK, self.holder)

    def run_forever(self) -> int:
        """Schedule the jobs and run until SIGTERM/SIGINT (or the lock is lost); returns the exit status."""
        acquire(self.store, self.holder, self.params)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._request_stop)
        self.work.catch_up()
        self.scheduler = self.schedule()
        self.scheduler.start()
        log.info("daemon %s started on %s: %s", self.holder, self.store.url, ", ".join(self.jobs))
        return self._serve()

    def schedule(self) -> BackgroundScheduler:
        """A scheduler (not started) holding every job: at once, or one interval from now (digest)."""
        scheduler = BackgroundScheduler(timezone=timezone.utc,
                                        executors={"default": ThreadPoolExecutor(self.params.workers)},
                                        job_defaults={"coalesce": True, "max_instances": 1})
        start = datetime.now(timezone.utc)
        for job_id, (_, interval, at_start) in self.jobs.items():
            first = {"next_run_time": start} if at_start else {}
            scheduler.add_job(self.run_job, "interval", args=[job_id], id=job_id, name=job_id,
                              seconds=interval.total_seconds(),
                              misfire_grace_time=max(1, int(interval.total_seconds())), **first)
        return scheduler

    def _request_stop(self, signum: int, _frame) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        self.stopping.set()

    def _serve(self) -> int:
        """The main thread: refresh the lock every heartbeat until asked to stop."""
        status = 0
        while not self.stopping.wait(self.params.heartbeat.total_seconds()):
            try:
                if not self.store.refresh_lock(LOCK, self.holder):
                    log.error("another daemon took the lock on %s: stopping", self.store.url)
                    status = 1
                    self.stopping.set()
            except StoreError as exc:
                log.warning("heartbeat failed (will retry): %s", exc)
        return self._shutdown(status)

    def _shutdown(self, status: int) -> int:
        self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + self.params.stop_grace.total_seconds()
        while self._running and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._state:
            abandoned = sorted(self._running)
        try:
            self.store.release_lock(LOCK, self.holder)
        except StoreError as exc:
            log.warning("cannot release the lock (it goes stale by itself): %s", exc)
        if abandoned:
            # Exiting drops the job's connection mid-transaction; the database rolls it back.
            log.warning("abandoning %s mid-run; its uncommitted window is rolled back", ", ".join(abandoned))
            logging.shutdown()
            os._exit(status)
        log.info("daemon stopped")
        return status
