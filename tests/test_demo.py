"""`outage-monitor demo`: the README's first command, offline on the bundled data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from monitor.cli import main
from monitor.demo import run_demo
from monitor.store import open_store


def test_demo_as_a_newcomer_runs_it(tmp_path):
    """No options, no config, a fresh directory: the default store under ./data, reports under ./reports."""
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_DB"}
    done = subprocess.run([sys.executable, "-m", "monitor", "demo"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert out.startswith("store: sqlite:///data/monitor.db\n")
    assert (tmp_path / "data" / "monitor.db").exists()
    assert "country/IR  2019-11-16T14:05:00Z .. " in out and "(bgp, ping-slash24)" in out
    assert "country/KE  2016-06-07T" in out and "(ripe-atlas)" in out
    reports = [line.strip() for line in out.splitlines() if line.startswith("  reports/")]
    incidents = sum(1 for line in out.splitlines() if line.startswith("  country/") and ", depth " in line)
    assert len(reports) == incidents + 2 and all((tmp_path / r).stat().st_size > 10_000 for r in reports)
    assert "Traceback" not in done.stderr


def test_demo_result_and_rerun(tmp_path):
    url = f"sqlite:///{tmp_path}/demo.db"
    first = run_demo(url, tmp_path / "out", explicit=True)
    assert first.note is None and first.store_url == url
    signals = first.signals.set_index(["entity", "datasource"])["points"].to_dict()
    assert signals == {("country/IR", "bgp"): 615, ("country/IR", "ping-slash24"): 1332,
                       ("country/KE", "atlas-connected"): 2016, ("country/KE", "atlas-disconnects"): 2016}
    assert first.events == 6
    # The IODA notes: Iran's probing fell from ~13,500 /24s at 16:10 to ~900 by 18:50 on 16 Nov 2019
    # (BGP from 14:05). The Disco notes: Kenya's disconnection waves on 7 June 2016, 08:31-13:53 UTC.
    outages = first.outages.set_index("entity")
    iran = outages.loc["country/IR"]
    kenya = first.outages[first.outages["datasources"].map(lambda d: list(d) == ["ripe-atlas"])].iloc[0]
    # Only the wave: the connected count's routine churn (e.g. 16 -> 14 of 18 probes for 75 min on
    # 5 June) is not an outage, and the disconnection counts are never judged by a level rule.
    assert sorted(first.outages["entity"]) == ["country/IR", "country/KE"]
    assert pd.Timestamp("2019-11-16T13:50Z") <= iran["start"] <= pd.Timestamp("2019-11-16T17:00Z")
    assert iran["depth"] > 0.9
    assert pd.Timestamp("2016-06-07T07:00Z") <= kenya["start"] <= pd.Timestamp("2016-06-07T09:00Z")
    assert pd.Timestamp("2016-06-07T13:00Z") <= kenya["end"] <= pd.Timestamp("2016-06-07T15:00Z")
    names = [p.name for p in first.reports]
    assert names[-2:] == ["digest-20191114T000000Z-20191124T000000Z.html",
                          "digest-20160601T000000Z-20160608T000000Z.html"]
    # Its own store again: the same data, not doubled.
    second = run_demo(url, tmp_path / "out", explicit=True)
    assert second.signals["points"].sum() == first.signals["points"].sum()
    assert len(second.outages) == len(first.outages)


def test_demo_never_mixes_into_someone_elses_store(tmp_path, monkeypatch, capsys, data_dir):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_DB", raising=False)
    assert main(["-q", "events", "import", str(data_dir / "events" / "starter.csv")]) == 0  # user data
    capsys.readouterr()
    explicit = f"sqlite:///{tmp_path}/data/monitor.db"
    assert main(["--db", explicit, "demo"]) == 2
    assert "already holds data the demo did not write" in capsys.readouterr().err
    assert main(["-q", "demo", "--out", "out"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("note: sqlite:///data/monitor.db holds your data, so the demo used "
                          "sqlite:///data/demo.db\nstore: sqlite:///data/demo.db\n")
    user = open_store("sqlite:///data/monitor.db")
    assert user.signal_summary().empty and user.read_outages().empty  # untouched
    user.close()
    assert Path("out").is_dir()
