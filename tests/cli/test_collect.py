"""`outage-monitor collect` against the replay of the real data: what it prints, what it stores,
where it gets entities and base URLs, skipping and failing."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from monitor.cli import main
from monitor.replay import Fault, running

AP = Path(__file__).resolve().parents[2] / "data/ioda-iran-2019/20191123-ioda-iran-countrywide-active-probing.csv"
IRAN = ["--entity", "country/IR", "--from", "2019-11-14", "--until", "2019-11-24"]


@pytest.fixture(scope="module")
def replay():
    with running() as server:
        yield server


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path}/monitor.db"


def test_collect_ioda_then_export_gives_every_point_back(db, replay, capsys):
    rc = main(["--db", db, "collect", "ioda", *IRAN, "--base-url", replay.base_urls["ioda"]])
    out = capsys.readouterr().out
    assert rc == 0
    assert ("country/IR  2019-11-14T00:00:00Z .. 2019-11-24T00:00:00Z  1/1 windows: "
            "1947 points (1947 new or changed)") in out
    assert "ioda: 1 entity, 3 requests to " in out
    assert main(["--db", db, "signals", "export", "--entity", "country/IR", "--datasource", "ping-slash24"]) == 0
    exported = pd.read_csv(io.StringIO(capsys.readouterr().out))
    csv = pd.read_csv(AP)
    assert len(exported) == len(csv) == 1332
    assert (pd.to_datetime(exported["time"], utc=True) == pd.to_datetime(csv["timestamp"], utc=True)).all()
    assert exported["time"].iloc[0] == "2019-11-14T08:10:00Z"
    assert (exported["value"] == csv["value"]).all()


def test_datasource_option_and_a_second_run(db, replay, capsys):
    args = ["--db", db, "collect", "ioda", *IRAN, "--base-url", replay.base_urls["ioda"], "--datasource", "bgp"]
    assert main(args) == 0
    assert "615 points (615 new or changed)" in capsys.readouterr().out
    assert main(args) == 0
    assert "615 points (0 new or changed)" in capsys.readouterr().out


def test_collect_ripe_atlas_kenya(db, replay, capsys, monkeypatch, caplog):
    monkeypatch.setenv("RIPE_ATLAS_KEY", "atlas-secret-4711")
    caplog.set_level(logging.DEBUG)
    rc = main(["--db", db, "-vv", "collect", "ripe-atlas", "--entity", "country/KE", "--from", "2016-06-01",
               "--until", "2016-06-08", "--base-url", replay.base_urls["ripe-atlas"]])
    captured = capsys.readouterr()
    assert rc == 0 and "4032 points (4032 new or changed), 249 probe events" in captured.out
    assert replay.requests[-1].headers["Authorization"] == "Key atlas-secret-4711"
    assert "atlas-secret-4711" not in captured.out + captured.err + caplog.text


def test_config_gives_entities_and_base_url(tmp_path, db, replay, capsys, caplog):
    config = tmp_path / "monitor.toml"
    config.write_text('[watch]\nentities = ["country/IR", "region/1906"]\n'
                      f'[sources.ioda]\nbase_url = "{replay.base_urls["ioda"]}"\nreference = false\n'
                      f'[sources.ripestat]\nbase_url = "{replay.url}/nowhere"\n')
    rc = main(["--db", db, "--config", str(config), "collect", "ioda", "--from", "2019-11-14", "--until", "2019-11-24"])
    out = capsys.readouterr().out
    assert rc == 0 and "country/IR" in out and "region/1906" in out and "ioda: 2 entities, 3 requests" in out  # + the region's place
    caplog.set_level(logging.INFO)
    rc = main(["--db", db, "--config", str(config), "collect", "ripestat", "--from", "2019-11-14",
               "--until", "2019-11-15"])
    assert rc == 1  # the replay has no RIPEstat: the failure is reported per entity
    assert "skipping region/1906" in caplog.text
    assert "FAILED: ripestat:" in capsys.readouterr().out


def test_cloudflare_radar_without_a_token_exits_non_zero_with_one_line(db, monkeypatch, capsys):
    """A skipped collection collected nothing: a cron job or script must see a failure, not exit 0."""
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    assert main(["--db", db, "collect", "cloudflare-radar", "--entity", "country/IR"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().count("\n") == 0 and "CLOUDFLARE_API_TOKEN is not set" in err


def test_a_failed_window_exits_1_and_says_where_the_cursor_is(db, capsys):
    with running(fault=lambda req: Fault(404, '{"error": "scripted"}')) as server:
        rc = main(["--db", db, "collect", "ioda", *IRAN, "--base-url", server.base_urls["ioda"]])
    out = capsys.readouterr().out
    assert rc == 1 and "0/1 windows" in out and "FAILED: ioda: request failed: scripted HTTP 404" in out
    assert "no cursor yet" in out and "1 failed (run again to resume)" in out


@pytest.mark.parametrize("args, message", [
    (["collect", "ripe-atlas", "--entity", "country/KE", "--datasource", "bgp"], "--datasource applies to ioda only"),
    (["collect", "ripestat", "--entity", "region/4488"], "ripestat does not serve region entities"),
    (["collect", "ioda", "--entity", "country/Iran"], "malformed entity"),
    (["collect", "ioda", "--entity", "country/IR", "--from", "soon"], "bad start 'soon'"),
])
def test_bad_input_is_one_line_exit_2(db, args, message, capsys):
    assert main(["--db", db, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_as_a_subprocess(db, replay):
    proc = subprocess.run([sys.executable, "-m", "monitor", "--db", db, "collect", "ioda", *IRAN,
                           "--base-url", replay.base_urls["ioda"], "--datasource", "ping-slash24"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "1332 points (1332 new or changed)" in proc.stdout and "Traceback" not in proc.stderr
