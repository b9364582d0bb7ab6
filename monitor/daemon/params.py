"""The `[daemon]` section of the config file."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from monitor.errors import ConfigError
from monitor.timeutil import parse_time


@dataclass(frozen=True)
class DaemonParams:
    """How the daemon schedules, reports, locks and stops.

    report_dir        where incident reports and digests are written
    report_max_age    outages that started longer ago get no incident report (a first run over
                      years of history must not write hundreds)
    reports_per_run   incident reports written per analysis at most (about 1 s each); the rest
                      follow in the next runs, so one busy analysis never holds up the others
    start, end        where a collector without a cursor starts (default: the source's lookback)
                      and where collection stops (default: now; set it to watch a past period)
    backoff           first retry delay of a failed job, doubled per failure, capped at its interval
    heartbeat         how often the lock is refreshed; lock_stale: when another daemon may take it
    stop_grace        how long SIGTERM waits for a running job before abandoning it
    db_wait           how long start-up waits for the database to accept connections
    reanalyse         how far before the last analysed position detection starts again at start-up
    """

    report_dir: str = "reports"
    report_format: str = "html"
    report_max_age: pd.Timedelta = pd.Timedelta("14D")
    reports_per_run: int = 20
    analyse_interval: pd.Timedelta = pd.Timedelta("15min")
    alerts_interval: pd.Timedelta = pd.Timedelta("1min")
    digest_interval: pd.Timedelta = pd.Timedelta("1D")
    digest_span: pd.Timedelta = pd.Timedelta("7D")
    start: str | None = None
    end: str | None = None
    backoff: pd.Timedelta = pd.Timedelta("1min")
    heartbeat: pd.Timedelta = pd.Timedelta("30s")
    lock_stale: pd.Timedelta = pd.Timedelta("2min")
    stop_grace: pd.Timedelta = pd.Timedelta("5s")
    db_wait: pd.Timedelta = pd.Timedelta("60s")
    reanalyse: pd.Timedelta = pd.Timedelta("1D")
    workers: int = 4

    def __post_init__(self):
        if self.report_format not in ("html", "md"):
            raise ConfigError(f"report_format {self.report_format!r}: use html or md")
        if self.heartbeat >= self.lock_stale:
            raise ConfigError(f"heartbeat {self.heartbeat} must be shorter than lock_stale {self.lock_stale}")
        for name in ("analyse_interval", "alerts_interval", "digest_interval", "heartbeat"):
            if getattr(self, name) <= pd.Timedelta(0):
                raise ConfigError(f"{name} must be longer than zero")
        if self.workers < 1 or self.reports_per_run < 1:
            raise ConfigError("workers and reports_per_run must be at least 1")
        start, end = self.start_time, self.end_time
        if start is not None and end is not None and end <= start:
            raise ConfigError(f"end {self.end} is not after start {self.start}")

    @property
    def start_time(self) -> pd.Timestamp | None:
        return parse_time(self.start, what="[daemon] start") if self.start else None

    @property
    def end_time(self) -> pd.Timestamp | None:
        return parse_time(self.end, what="[daemon] end") if self.end else None
