"""`outage-monitor health` and `outage-monitor daemon --once` in-process."""

from __future__ import annotations

from sqlalchemy import update

from monitor.cli import main
from monitor.daemon import LOCK
from monitor.store import open_store, schema
from monitor.timeutil import epoch, now


def test_health_says_why_it_is_unhealthy(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/monitor.db"
    assert main(["--db", url, "health"]) == 1
    assert capsys.readouterr().out == f"unhealthy: the store {tmp_path}/monitor.db does not exist yet\n"
    assert not (tmp_path / "monitor.db").exists()  # the check does not create it

    store = open_store(url)
    assert main(["--db", url, "health"]) == 1
    assert capsys.readouterr().out.startswith("unhealthy: no daemon holds")
    store.acquire_lock(LOCK, "host:1:abc")
    assert main(["--db", url, "health"]) == 0
    assert capsys.readouterr().out.startswith("healthy: daemon host:1:abc on sqlite:///")
    with store.engine.begin() as conn:  # a heartbeat three minutes old
        conn.execute(update(schema.locks).values(heartbeat=epoch(now()) - 180))
    assert main(["--db", url, "health"]) == 1
    assert capsys.readouterr().out.startswith("unhealthy: the daemon host:1:abc last refreshed its lock 18")
    store.close()


def test_daemon_once_without_sources_analyses_and_exits(tmp_path, capsys, data_dir):
    config = tmp_path / "monitor.toml"
    config.write_text(f'[calendars.starter]\nurl = "{data_dir}/events/starter.csv"\n'
                      f'[daemon]\nreport_dir = "{tmp_path}/reports"\n')
    url = f"sqlite:///{tmp_path}/monitor.db"
    assert main(["--db", url, "--config", str(config), "daemon", "--once"]) == 0
    store = open_store(url)
    assert set(store.read_runs(job="daemon")["key"]) == {"calendar:starter", "analyse", "alerts", "digest"}
    assert len(store.read_events(sources=["starter"])) == 6
    store.close()


def test_a_bad_daemon_setting_is_one_line_and_status_2(tmp_path, capsys):
    config = tmp_path / "monitor.toml"
    config.write_text('[daemon]\nheartbeat = "often"\n')
    assert main(["--db", f"sqlite:///{tmp_path}/m.db", "--config", str(config), "daemon"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[daemon].heartbeat" in err[0]
