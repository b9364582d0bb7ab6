"""Crash consistency: SIGKILL a running collection (a collect loop, or the daemon) at random moments,
restart it each time, and
check that the store ends up holding exactly the points the replay served (no loss, no duplicate),
with consistent cursors and, on SQLite, a clean `PRAGMA integrity_check`. On SQLite and PostgreSQL.

After every kill, before the restart, the store must already be consistent: every point it holds
was served with that value, and every served point before an entity's cursor is there (a cursor
never runs ahead of the data). The kill moments come from a seeded random generator; the number of
kills is $MONITOR_CRASH_KILLS (benchmarks/reliability.py sets 30), else a few for CI.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from reliability_support import FaultProxy, Misbehave, always, crash_kills
from sqlalchemy import text

from monitor.collect import job_name
from monitor.store import open_store
from monitor.timeutil import iso, to_epoch

pytestmark = pytest.mark.reliability

WORKER = Path(__file__).with_name("crash_worker.py")
REPO = Path(__file__).resolve().parents[2]
SEED = 20191116
CI_KILLS = 3


def plan(kills: int) -> dict:
    """Enough work that every kill lands while the collection is still running."""
    if kills <= 10:
        return {"entities": ["country/IR", "country/FR"], "start": "2019-11-14", "end": "2019-11-17", "step": "6h"}
    return {"entities": ["country/IR", "country/FR", "country/DE", "country/BR"], "start": "2019-11-14",
            "end": "2019-11-24", "step": "2h"}


def spawn(store_url: str, base_url: str, p: dict) -> subprocess.Popen:
    cmd = [sys.executable, str(WORKER), "--db", store_url, "--base-url", base_url, "--start", p["start"],
           "--end", p["end"], "--step", p["step"], *p["entities"]]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


KEY = ["entity", "datasource", "t"]


def served_frame(served: dict) -> pd.DataFrame:
    """The proxy's account of what it served, as a frame (entity, datasource, t, v)."""
    df = pd.DataFrame(list(served), columns=KEY)
    df["v"] = pd.to_numeric(pd.Series(list(served.values()), dtype=object), errors="coerce").astype("float64")
    return df


def stored_frame(store, entities) -> pd.DataFrame:
    df = store.read_signals(entities=entities)
    return pd.DataFrame({"entity": df["entity"], "datasource": df["datasource"], "t": to_epoch(df["time"]),
                         "v": df["value"].to_numpy()})


def compare(have: pd.DataFrame, served: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Stored points never served (or served with another value), and served points not stored."""
    m = have.merge(served, on=KEY, how="outer", suffixes=("_stored", "_served"), indicator=True)
    both = m["_merge"] == "both"
    same = (m["v_stored"] == m["v_served"]) | (m["v_stored"].isna() & m["v_served"].isna())
    return {"extra": m[m["_merge"] == "left_only"], "lost": m[m["_merge"] == "right_only"],
            "changed": m[both & ~same]}


def check_consistent(store_url: str, served: dict, entities: list[str]) -> None:
    """What a kill may leave: only served points, and all of them up to each entity's cursor."""
    store = open_store(store_url)
    try:
        diff = compare(stored_frame(store, entities), served_frame(served))
        cursors = {e: store.get_cursor(job_name("ioda"), e) for e in entities}
    finally:
        store.close()
    for name in ("extra", "changed"):
        assert diff[name].empty, f"{len(diff[name])} stored points {name}, e.g. {diff[name].head(3).to_dict('records')}"
    lost = diff["lost"]
    limit = lost["entity"].map({e: (c.timestamp() if c is not None else float("-inf")) for e, c in cursors.items()})
    behind = lost[lost["t"] < limit]
    assert behind.empty, f"{len(behind)} served points before their entity's cursor are missing: {behind.head(3)}"


def duplicates(store) -> int:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM (SELECT entity, datasource, time FROM signals "
                                 "GROUP BY entity, datasource, time HAVING count(*) > 1) d")).scalar_one()
    return int(rows)


def integrity(store) -> str:
    """SQLite's own check; on PostgreSQL, that every table can be read end to end."""
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            return conn.execute(text("PRAGMA integrity_check")).scalar_one()
        for table in ("signals", "cursors", "runs", "outages", "meta"):
            conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - fixed names
        return "ok"


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(store_url, replay, figures):
    kills_wanted = crash_kills(CI_KILLS)
    p = plan(kills_wanted)
    rng = random.Random(SEED)
    backend = store_url.split(":")[0].split("+")[0]
    kills = early = 0
    with FaultProxy(replay.url) as proxy:
        while kills < kills_wanted:
            worker = spawn(store_url, proxy.base_urls["ioda"], p)
            if rng.random() < 0.2:  # sometimes during start-up: imports, opening (creating) the store
                time.sleep(rng.uniform(0.0, 1.5))
                early += 1
            else:
                assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
                time.sleep(rng.uniform(0.05, 0.6))
            if worker.poll() is not None:
                pytest.fail(f"the collection finished before kill {kills + 1}: give it more work "
                            f"(rc {worker.returncode}, {worker.stderr.read()[-300:]})")
            worker.send_signal(signal.SIGKILL)
            worker.communicate()
            kills += 1
            check_consistent(store_url, proxy.served, p["entities"])
        final = spawn(store_url, proxy.base_urls["ioda"], p)
        out, err = final.communicate(timeout=300)
        assert final.returncode == 0 and out.strip().endswith("done"), err[-2000:]
        assert "Traceback" not in err, err[-2000:]
        served = dict(proxy.served)

    store = open_store(store_url)
    try:
        have = stored_frame(store, p["entities"])
        diff = compare(have, served_frame(served))
        dup = duplicates(store)
        check = integrity(store)
        cursors = {e: store.get_cursor(job_name("ioda"), e) for e in p["entities"]}
    finally:
        store.close()
    lost, extra, changed = (len(diff[k]) for k in ("lost", "extra", "changed"))
    figures.add(kind="crash", backend=backend, kills=kills, during_startup=early, served=len(served),
                stored=len(have), lost=lost, extra=extra, changed=changed, duplicates=dup,
                integrity=check, runner="collect loop")
    assert kills == kills_wanted
    assert lost == extra == changed == 0, {k: v.head(3).to_dict("records") for k, v in diff.items()}
    assert dup == 0
    assert check == "ok"
    end = pd.Timestamp(p["end"], tz="UTC")
    assert cursors == {e: end for e in p["entities"]}


# -- the daemon ------------------------------------------------------------------------------
DAEMON_CI_KILLS = 1


def daemon_plan(kills: int) -> dict:
    """Time passes between restarts: life k watches up to `end + k * advance`, so every restart
    has new windows to collect (and the full run's IODA answers are slowed to 0.5 s, like a loaded
    server), and kills land mid-collection rather than in an idle daemon."""
    if kills <= 10:
        return {"entities": ["country/IR", "country/FR"], "start": "2019-11-01", "end": "2019-11-20",
                "advance": pd.Timedelta("1D"), "slow": 0.0}
    return {"entities": ["country/IR", "country/FR", "country/DE", "country/BR"], "start": "2019-01-01",
            "end": "2019-03-01", "advance": pd.Timedelta("6D"), "slow": 0.5}


def daemon_config(path: Path, p: dict, base_url: str, end: pd.Timestamp) -> None:
    entities = ", ".join(f'"{e}"' for e in p["entities"])
    path.write_text(f"""
[watch]
entities = [{entities}]
[sources.ioda]
base_url = "{base_url}"
reference = false
[daemon]
start = "{p['start']}"
end = "{iso(end)}"
report_dir = "{path.parent / 'reports'}"
heartbeat = "1s"
lock_stale = "30s"
stop_grace = "1s"
""", encoding="utf-8")


class Daemon:
    """`outage-monitor daemon` as a subprocess, its stderr pumped so we can wait for its start line."""

    def __init__(self, store_url: str, config: Path):
        cmd = [sys.executable, "-m", "monitor", "--db", store_url, "--config", str(config), "daemon"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=config.parent)
        self.lines: list[str] = []
        self.started = threading.Event()
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)
            if " started on " in line:
                self.started.set()

    def wait_started(self, timeout: float = 60) -> None:
        if not self.started.wait(timeout):
            raise AssertionError("the daemon did not start:\n" + "".join(self.lines[-20:]))

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._pump.join(5)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        self._pump.join(5)
        return rc


def collected(store_url: str, entities: list[str], end: pd.Timestamp) -> bool:
    store = open_store(store_url)
    try:
        return all(store.get_cursor(job_name("ioda"), e) == end for e in entities)
    finally:
        store.close()


def test_daemon_sigkilled_at_random_moments_loses_and_duplicates_nothing(store_url, replay, tmp_path, figures):
    kills_wanted = crash_kills(DAEMON_CI_KILLS)
    if store_url.startswith("postgresql") and kills_wanted == DAEMON_CI_KILLS:
        pytest.skip("the CI version kills the daemon on SQLite only; the full run does both")
    p = daemon_plan(kills_wanted)
    rng = random.Random(SEED + 1)
    backend = store_url.split(":")[0].split("+")[0]
    kills = while_collecting = 0
    config = tmp_path / "monitor.toml"
    end = pd.Timestamp(p["end"], tz="UTC")
    with FaultProxy(replay.url) as proxy:
        if p["slow"]:
            proxy.plan = always(Misbehave("slow", delay=p["slow"]), "/v2/signals")
        while kills < kills_wanted:
            daemon_config(config, p, proxy.base_urls["ioda"], end)
            daemon = Daemon(store_url, config)
            daemon.wait_started()
            time.sleep(rng.uniform(0.0, 1.5 if kills_wanted == DAEMON_CI_KILLS else 2.5))
            busy = not collected(store_url, p["entities"], end)
            daemon.kill()
            kills += 1
            while_collecting += busy
            check_consistent(store_url, proxy.served, p["entities"])
            end += p["advance"]
        daemon_config(config, p, proxy.base_urls["ioda"], end)
        daemon = Daemon(store_url, config)
        daemon.wait_started()
        deadline = time.monotonic() + 600
        while not collected(store_url, p["entities"], end) and time.monotonic() < deadline:
            time.sleep(0.5)
        rc = daemon.stop()
        log = "".join(daemon.lines)
        served = dict(proxy.served)

    store = open_store(store_url)
    try:
        have = stored_frame(store, p["entities"])
        diff = compare(have, served_frame(served))
        dup, check = duplicates(store), integrity(store)
    finally:
        store.close()
    lost, extra, changed = (len(diff[k]) for k in ("lost", "extra", "changed"))
    figures.add(kind="crash", backend=backend, kills=kills, during_startup=0, while_collecting=while_collecting,
                served=len(served), stored=len(have), lost=lost, extra=extra, changed=changed,
                duplicates=dup, integrity=check, runner="daemon")
    assert rc == 0, log[-3000:]
    assert "Traceback" not in log and "unexpected error" not in log, log[-3000:]
    assert lost == extra == changed == 0, {k: v.head(3).to_dict("records") for k, v in diff.items()}
    assert dup == 0 and check == "ok"
