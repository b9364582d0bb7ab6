"""A notebook polling the SQLite store while a collection writes to it.

The writer is a separate process (the crash test's collect loop: the daemon's way of collecting,
one window's points and cursor per transaction). The readers poll as a notebook would: through the
project's store API, and through plain sqlite3 + pandas. They must never see "database is locked"
(or any error), and must only ever see whole windows: for each entity, every point before the
cursor read just before, and nothing ending between two window boundaries.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from reliability_support import FaultProxy

from monitor.collect import job_name
from monitor.replay import NATIVE_STEPS, SYNTHETIC_DATASOURCES
from monitor.store import open_store

pytestmark = pytest.mark.reliability

WORKER = Path(__file__).with_name("crash_worker.py")
REPO = Path(__file__).resolve().parents[2]
ENTITIES = ["country/FR", "country/DE", "country/BR"]  # synthetic series: no gaps, so windows show
START, END, STEP = pd.Timestamp("2019-11-14", tz="UTC"), pd.Timestamp("2019-11-24", tz="UTC"), pd.Timedelta("1h")


def seconds() -> float:
    return float(os.environ.get("MONITOR_CONCURRENCY_SECONDS", 8))


def whole_windows(signals: pd.DataFrame, cursors: dict) -> list[str]:
    """Problems: a datasource short of its cursor, or ending off a window boundary."""
    problems = []
    for (entity, ds), g in signals.groupby(["entity", "datasource"]):
        step = pd.Timedelta(seconds=NATIVE_STEPS[ds])
        last = g["time"].max() + step
        if (last - START) % STEP:
            problems.append(f"{entity} {ds} ends at {last}, inside a window")
        cursor = cursors.get(entity)
        if cursor is not None and last < cursor:
            problems.append(f"{entity} {ds} ends at {last}, before its cursor {cursor}")
        expected = (last - g["time"].min()) // step  # the first resume re-reads an overlap before START
        if len(g) != expected:
            problems.append(f"{entity} {ds}: {len(g)} points where {expected} were written")
    return problems


class Reader(threading.Thread):
    """Polls until told to stop; `kind` is "store" (the project's API) or "sqlite3" (plain pandas)."""

    def __init__(self, path: Path, kind: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.path, self.kind, self.stop_event = path, kind, stop
        self.reads, self.errors, self.problems, self.slowest = 0, [], [], 0.0

    def run(self) -> None:
        store = open_store(f"sqlite:///{self.path}") if self.kind == "store" else None
        conn = sqlite3.connect(self.path) if self.kind == "sqlite3" else None
        try:
            while not self.stop_event.is_set():
                began = time.monotonic()
                try:
                    cursors, signals = self._read(store, conn)
                except Exception as exc:  # noqa: BLE001 - the test is to see none, of any kind
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                self.slowest = max(self.slowest, time.monotonic() - began)
                self.reads += 1
                self.problems += whole_windows(signals, cursors)
        finally:
            if store is not None:
                store.close()
            if conn is not None:
                conn.close()

    def _read(self, store, conn) -> tuple[dict, pd.DataFrame]:
        """Cursors first, then signals: the later read must hold everything before each cursor."""
        if store is not None:
            cursors = {e: store.get_cursor(job_name("ioda"), e) for e in ENTITIES}
            store.signal_summary()
            store.read_runs(limit=20)
            return cursors, store.read_signals(entities=ENTITIES)
        rows = conn.execute("SELECT key, position FROM cursors WHERE job = 'collect:ioda'").fetchall()
        cursors = {k: pd.Timestamp(p, unit="s", tz="UTC") for k, p in rows}
        df = pd.read_sql_query("SELECT entity, datasource, time, value FROM signals", conn)
        df["time"] = pd.to_datetime(df["time"], unit="s", utc=True)
        return cursors, df


def test_notebook_reads_while_collection_writes(tmp_path, replay, figures):
    path = tmp_path / "monitor.db"
    open_store(f"sqlite:///{path}").close()
    assert set(SYNTHETIC_DATASOURCES) <= set(NATIVE_STEPS)
    with FaultProxy(replay.url) as proxy:
        writer = subprocess.Popen(
            [sys.executable, str(WORKER), "--db", f"sqlite:///{path}", "--base-url", proxy.base_urls["ioda"],
             "--start", str(START.date()), "--end", str(END.date()), "--step", "1h", *ENTITIES],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
        stop = threading.Event()
        readers = [Reader(path, kind, stop) for kind in ("store", "store", "sqlite3")]
        for r in readers:
            r.start()
        deadline = time.monotonic() + seconds()
        while time.monotonic() < deadline and writer.poll() is None:
            time.sleep(0.2)
        stop.set()
        for r in readers:
            r.join(30)
        if writer.poll() is None:
            writer.send_signal(signal.SIGTERM)
        _, err = writer.communicate(timeout=60)
    ticks = len(open_store(f"sqlite:///{path}").read_runs(job=job_name("ioda"), limit=100_000))
    reads = sum(r.reads for r in readers)
    errors = [e for r in readers for e in r.errors]
    problems = [p for r in readers for p in r.problems]
    figures.add(kind="concurrency", seconds=seconds(), reads=reads, windows_written=ticks, errors=len(errors),
                locked=sum("locked" in e for e in errors), partial=len(problems),
                slowest_read=round(max(r.slowest for r in readers), 3))
    assert "Traceback" not in err, err[-2000:]
    assert not errors, errors[:5]
    assert not problems, problems[:5]
    assert reads >= 3 * 5 and ticks >= 10, (reads, ticks)  # they really overlapped
