"""The scheduler around the jobs: --once, retry backoff, one log line and one run record per run."""

from __future__ import annotations

import logging

import pandas as pd

from monitor.daemon import LOCK
from monitor.daemon.scheduler import RUN_JOB, Daemon


def test_run_once_runs_every_job_and_a_failing_source_stops_nothing(sqlite_store, make_config, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="monitor.daemon")
    daemon = Daemon(sqlite_store, make_config())
    assert list(daemon.jobs) == ["collect:ioda", "collect:ripe-atlas", "calendar:starter", "analyse", "alerts",
                                 "digest"]
    assert daemon.run_once() == 1  # ripe-atlas failed
    runs = sqlite_store.read_runs(job=RUN_JOB).set_index("key")
    assert runs.loc["collect:ripe-atlas", "status"] == "error"
    assert "HTTP 404" in runs.loc["collect:ripe-atlas", "error"]
    assert (runs.drop("collect:ripe-atlas")["status"] == "ok").all()
    assert runs.loc["collect:ioda", "detail"]["points"] == 1947
    assert sqlite_store.read_lock(LOCK) is None
    assert len(list((tmp_path / "reports").glob("incident-*.html"))) == 1
    assert len(list((tmp_path / "reports").glob("digest-*.html"))) == 1
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("collect:ioda:")]
    assert lines == ["collect:ioda: entities=1 points=1947 new_points=1947 items=1951 seconds="
                     + lines[0].split("seconds=")[1].split()[0] + " errors=0"]


def test_failed_jobs_back_off_doubling_up_to_their_interval(sqlite_store, make_config):
    daemon = Daemon(sqlite_store, make_config(backoff="30s"))
    daemon.scheduler = daemon.schedule()
    daemon.scheduler.start(paused=True)
    try:
        delays = []
        for _ in range(3):
            before = pd.Timestamp.now(tz="UTC")
            daemon.run_job("collect:ripe-atlas")
            record = sqlite_store.read_runs(job=RUN_JOB, limit=1).iloc[0]
            delays.append((pd.Timestamp(record["detail"]["next_run"]) - before).total_seconds())
        assert [round(d / 5) * 5 for d in delays] == [30, 60, 90]  # 30 s, 60 s, then the 90 s interval
        assert record["detail"]["failures"] == 3
        daemon.run_job("collect:ioda")
        assert daemon._failures["collect:ioda"] == 0
    finally:
        daemon.scheduler.shutdown(wait=False)


def test_the_digest_waits_one_interval_and_the_rest_start_at_once(sqlite_store, make_config):
    daemon = Daemon(sqlite_store, make_config(digest_interval="6h"))
    scheduler = daemon.schedule()
    scheduler.start(paused=True)
    try:
        now = pd.Timestamp.now(tz="UTC")
        runs = {job.id: pd.Timestamp(job.next_run_time) for job in scheduler.get_jobs()}
        assert all(abs((runs[j] - now).total_seconds()) < 5 for j in runs if j != "digest")
        assert abs((runs["digest"] - now - pd.Timedelta("6h")).total_seconds()) < 5
        job = scheduler.get_job("collect:ioda")
        assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time == 900
    finally:
        scheduler.shutdown(wait=False)


def test_an_unexpected_exception_is_recorded_not_raised(sqlite_store, make_config, caplog):
    daemon = Daemon(sqlite_store, make_config())
    _, interval, first = daemon.jobs["analyse"]
    daemon.jobs["analyse"] = (lambda: {}["boom"], interval, first)
    out = daemon.run_job("analyse")
    assert out.errors == ["internal error: KeyError: 'boom'"]
    assert "Traceback" in caplog.text  # a bug keeps its traceback in the log
    record = sqlite_store.read_runs(job=RUN_JOB, limit=1).iloc[0]
    assert record["status"] == "error" and record["error"] == "internal error: KeyError: 'boom'"
