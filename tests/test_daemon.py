"""The daemon as users run it: a subprocess against a local replay of the IODA API (the bundled Iran
November 2019 series), with short intervals; stopped with SIGTERM, killed with SIGKILL mid-collection,
and refused when a second daemon wants the same store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.collect import collect, job_name
from monitor.replay import ReplayServer
from monitor.store import open_store
from monitor.timeutil import parse_time

REPO = Path(__file__).resolve().parents[1]
IRAN = "country/IR"


def write_config(tmp_path: Path, base_url: str, start: str, end: str, **daemon) -> Path:
    """A daemon config over the replay: ioda for Iran, the starter calendar, short intervals."""
    settings = {"start": start, "end": end, "report_dir": str(tmp_path / "reports"), "heartbeat": "1s",
                "lock_stale": "5s", "analyse_interval": "2s", "backoff": "1s", "report_max_age": "30D", **daemon}
    lines = [f'[store]\nurl = "sqlite:///{tmp_path}/monitor.db"', f'[watch]\nentities = ["{IRAN}"]',
             f'[sources.ioda]\nbase_url = "{base_url}"\ninterval = "30s"',
             f'[calendars.starter]\nurl = "{REPO / "data/events/starter.csv"}"',
             "[daemon]\n" + "\n".join(f'{k} = "{v}"' for k, v in settings.items())]
    path = tmp_path / "monitor.toml"
    path.write_text("\n\n".join(lines) + "\n")
    return path


def start_daemon(config: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_DB"}
    return subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "daemon", *args],
                            cwd=config.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float, proc: subprocess.Popen, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"the daemon exited ({proc.returncode}) before {what}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"no {what} within {timeout} s: {proc.communicate()[1][-2000:]}")


def stop(proc: subprocess.Popen, timeout: float = 10) -> tuple[int, float, str]:
    """SIGTERM; (exit status, seconds it took, stderr)."""
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the daemon did not exit within {timeout} s of SIGTERM")
    return proc.returncode, time.monotonic() - t0, err


@pytest.fixture
def replay():
    with ReplayServer() as server:
        yield server


def test_daemon_collects_reports_and_stops_on_sigterm(tmp_path, replay, capsys):
    config = write_config(tmp_path, replay.base_urls["ioda"], "2019-11-14", "2019-11-24")
    proc = start_daemon(config)
    report = wait_for(lambda: sorted((tmp_path / "reports").glob("incident-country-IR-*.html")), 60, proc,
                      "incident report")
    assert "20191116T" in report[0].name  # the outage of 16 November 2019
    capsys.readouterr()
    assert main(["--config", str(config), "health"]) == 0
    assert capsys.readouterr().out.startswith("healthy: daemon ")

    status, seconds, err = stop(proc)
    assert status == 0, err[-2000:]
    assert seconds < 10
    assert "Traceback" not in err
    store = open_store(f"sqlite:///{tmp_path}/monitor.db")
    try:
        points = store.read_signals(entities=[IRAN])
        assert set(points["datasource"]) == {"bgp", "ping-slash24"} and len(points) == 615 + 1332
        assert store.read_lock("daemon") is None  # released on the way out
        runs = store.read_runs(job="daemon")
        assert {"collect:ioda", "calendar:starter", "analyse"} <= set(runs["key"])
        assert (runs["status"] == "ok").all()
        collected = runs[runs["key"] == "collect:ioda"].iloc[-1]  # the first run: every point
        assert collected["items"] >= 1947 and collected["detail"]["entities"] == 1
    finally:
        store.close()
    lines = [line for line in err.splitlines() if " collect:ioda:" in line]
    assert lines and "points=1947" in lines[0] and "seconds=" in lines[0] and "errors=0" in lines[0]


def test_sigkill_mid_collection_loses_and_duplicates_nothing(tmp_path, replay):
    # Three years in 99-day windows, each window ~0.5 s slow: a collection long enough to kill.
    start, end = "2018-06-01", "2021-06-01"
    replay.latency = 0.15
    config = write_config(tmp_path, replay.base_urls["ioda"], start, end)
    url = f"sqlite:///{tmp_path}/monitor.db"
    store = open_store(url)
    try:
        proc = start_daemon(config)
        cursor = wait_for(lambda: store.get_cursor(job_name("ioda"), IRAN), 60, proc, "first window stored")
        assert cursor < parse_time(end), "the collection finished before it could be killed"
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        cursor = store.get_cursor(job_name("ioda"), IRAN)
        killed = store.read_signals(entities=[IRAN])
        assert cursor < parse_time(end)

        replay.latency = 0.0
        reference = open_store(f"sqlite:///{tmp_path}/reference.db")
        assert collect(reference, "ioda", [IRAN], start=start, end=end, base_url=replay.base_urls["ioda"]).ok
        expected = reference.read_signals(entities=[IRAN])
        reference.close()
        # Everything before the cursor is there, exactly: a window lands with its cursor or not at all.
        before = expected[expected["time"] < cursor].reset_index(drop=True)
        assert killed[killed["time"] < cursor].reset_index(drop=True).equals(before)

        proc = start_daemon(config)  # the lock of the killed daemon (same host, dead pid) is taken over
        wait_for(lambda: store.get_cursor(job_name("ioda"), IRAN) == parse_time(end), 60, proc, "collection end")
        status, _, err = stop(proc)
        assert status == 0, err[-2000:]
        final = store.read_signals(entities=[IRAN])
        assert final.equals(expected)  # nothing lost, nothing twice
        assert not final.duplicated(["entity", "datasource", "time"]).any()
        assert final["time"].max() < store.get_cursor(job_name("ioda"), IRAN)
    finally:
        store.close()


def test_second_daemon_on_the_same_store_refuses(tmp_path, replay, capsys):
    config = write_config(tmp_path, replay.base_urls["ioda"], "2019-11-14", "2019-11-24")
    first = start_daemon(config)
    try:
        store = open_store(f"sqlite:///{tmp_path}/monitor.db")
        holder = wait_for(lambda: store.read_lock("daemon"), 60, first, "lock taken")["holder"]
        store.close()
        second = start_daemon(config)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("outage-monitor: error: another daemon")
        assert holder in lines[0]
        capsys.readouterr()
        assert main(["--config", str(config), "daemon", "--once"]) == 2  # nor does a one-off run
        assert "another daemon" in capsys.readouterr().err
    finally:
        status, _, err = stop(first)
    assert status == 0, err[-2000:]
