"""`outage-monitor detect` and `outage-monitor evaluate` on a store holding Iran 2019."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from monitor.cli import main
from monitor.detect import detect_outages
from monitor.frames import EVENT_COLUMNS
from monitor.store import open_store
from monitor.timeutil import iso

REPO = Path(__file__).resolve().parents[2]
IRAN = REPO / "data" / "ioda-iran-2019"


def _iran_signals() -> pd.DataFrame:
    frames = []
    for name, datasource in (("20191123-ioda-iran-countrywide-active-probing.csv", "ping-slash24"),
                             ("20191123-ioda-iran-countrywide-bgp_window_2019-11-15T17_2019-11-17T20.csv", "bgp")):
        raw = pd.read_csv(IRAN / name)
        frames.append(pd.DataFrame({"entity": "country/IR", "datasource": datasource,
                                    "time": pd.to_datetime(raw["timestamp"], utc=True),
                                    "value": raw["value"].astype(float)}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/t.db"
    store = open_store(url)
    store.write_signals(_iran_signals())
    store.close()
    return url


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_detect_json_lists_the_outage(db, capsys):
    expected = detect_outages(_iran_signals()).iloc[0]  # what the library finds in the same data
    assert main(["--db", db, "detect", "--format", "json"]) == 0
    outages = _json(capsys)
    assert len(outages) == 1
    first = outages[0]
    assert {"entity", "start", "end", "datasources", "depth", "score"} <= set(first)
    assert first["entity"] == "country/IR" and first["datasources"] == ["bgp", "ping-slash24"]
    assert first["start"] == iso(expected["start"]) and first["end"] == iso(expected["end"])
    assert first["start"].endswith("Z") and first["start"].startswith("2019-11-16T")
    assert first["depth"] == pytest.approx(expected["depth"], abs=1e-4)
    assert first["score"] == pytest.approx(expected["score"])


def test_detect_again_replaces_and_the_table_is_readable(db, capsys):
    assert main(["--db", db, "detect"]) == 0
    assert main(["--db", db, "detect", "--from", "2019-11-15", "--until", "2019-11-18"]) == 0
    out = capsys.readouterr().out
    start = detect_outages(_iran_signals())["start"].iloc[0]
    assert "country/IR" in out and "bgp, ping-slash24" in out and start.strftime("%Y-%m-%d %H:%M UTC") in out
    store = open_store(db)
    assert len(store.read_outages(sources=["detected"])) == 1
    store.close()


def test_detect_for_another_entity_or_window_finds_nothing(db, capsys):
    assert main(["--db", db, "detect", "--entity", "country/KE"]) == 0
    assert "no outages detected" in capsys.readouterr().out
    assert main(["--db", db, "detect", "--from", "2019-11-24", "--format", "json"]) == 0
    assert _json(capsys) == []


def test_detect_in_a_window_during_an_outage_redoes_it_whole(db, capsys):
    assert main(["--db", db, "detect", "--from", "2019-11-18", "--until", "2019-11-19", "--format", "json"]) == 0
    outages = _json(capsys)
    assert len(outages) == 1 and outages[0]["start"] < "2019-11-18"  # began before the window


def test_detect_reads_its_section_of_the_config(db, tmp_path, capsys):
    config = tmp_path / "monitor.toml"
    config.write_text('[detect]\nmin_datasources = 3\n')
    assert main(["--db", db, "--config", str(config), "detect", "--format", "json"]) == 0
    assert _json(capsys) == []  # only two datasources agree on Iran
    config.write_text('[detect.datasources.bgp]\nwarnin = 0.9\n')
    assert main(["--db", db, "--config", str(config), "detect"]) == 2
    err = capsys.readouterr().err.strip()
    assert "warnin" in err and len(err.splitlines()) == 1


def test_evaluate_against_a_shutdown_list(db, capsys):
    store = open_store(db)
    store.write_events(pd.DataFrame([{
        "uid": "5A446C2E", "source": "ioda-outages", "kind": "shutdown_report", "country": "IR", "region": None,
        "start": pd.Timestamp("2019-11-16 14:00", tz="UTC"), "end": pd.Timestamp("2019-11-24 20:30", tz="UTC"),
        "all_day": False, "title": "Iran", "url": None, "description": None, "raw": None}], columns=EVENT_COLUMNS))
    store.close()
    assert main(["--db", db, "detect"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "evaluate", "--reference", "ioda-outages"]) == 0
    out = capsys.readouterr().out
    start = detect_outages(_iran_signals())["start"].iloc[0]
    error = (start - pd.Timestamp("2019-11-16 14:00", tz="UTC")).total_seconds() / 60
    assert "1 matched, 0 missed" in out and f"median |start error|: {abs(error):.0f} min" in out
    assert main(["--db", db, "evaluate", "--reference", "ioda-outages", "--format", "json"]) == 0
    report = _json(capsys)
    assert report["summary"]["matched"] == 1 and report["rows"][0]["start_error_minutes"] == error


def test_evaluate_without_references_is_a_one_line_error(db, capsys):
    assert main(["--db", db, "evaluate", "--reference", "stop"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no reference outages from source 'stop'" in err and len(err.splitlines()) == 1


def test_detect_as_a_subprocess(db):
    done = subprocess.run([sys.executable, "-m", "monitor", "--db", db, "detect", "--format", "json"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["start"] == iso(detect_outages(_iran_signals())["start"].iloc[0])



def test_bad_time_is_a_usage_error(db, capsys):
    assert main(["--db", db, "detect", "--from", "soon"]) == 2
    err = capsys.readouterr().err.strip()
    assert "soon" in err and len(err.splitlines()) == 1
    assert main(["--db", db, "detect", "--from", "2019-11-20", "--until", "2019-11-19"]) == 2
    assert "not before" in capsys.readouterr().err
