"""`outage-monitor correlate`, in process and once as a subprocess, on the starter calendar."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.correlate import SUMMARY_COLUMNS
from monitor.events.importer import import_events
from monitor.store import open_store

REPO = Path(__file__).resolve().parents[2]
STARTER = REPO / "data" / "events" / "starter.csv"


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/t.db"
    store = open_store(url)
    import_events(store, str(STARTER))
    store.close()
    return url


def test_json_flags_the_kabiri_event_with_relation_and_offset(db, capsys):
    assert main(["--db", db, "correlate", "--outages", "starter", "--country", "TJ", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [flag] = [c for c in doc["coincidences"] if c["event_uid"] == "tj-2020-09-16-kabiri-gwu"]
    assert flag["entity"] == "country/TJ" and flag["outage_start"] == "2020-09-16T14:40:00Z"
    assert flag["outage_end"] == "2020-09-16T15:40:00Z" and flag["event_kind"] == "opposition_event"
    assert flag["event_start"] == "2020-09-15T19:00:00Z" and flag["event_title"].startswith("Muhiddin Kabiri")
    assert flag["relation"] == "during" and flag["offset_minutes"] == 1180.0
    assert all(set(row) == set(SUMMARY_COLUMNS) for row in doc["summary"])
    [single] = [r for r in doc["summary"] if r["kind"] == "opposition_event"]
    assert single["verdict"] == "single case" and single["relation"] == "any" and single["observed"] == 1
    assert single["p_value"] is None and single["ci_low"] is None and 0 < single["chance"] < 1
    assert "not a p-value" in single["note"]
    assert doc["params"]["outages"] == "starter" and doc["params"]["countries"] == ["TJ"]


def test_table_output_and_stored_run(db, capsys):
    assert main(["--db", db, "correlate", "--outages", "starter", "--country", "tj"]) == 0
    out = capsys.readouterr().out
    assert "1 coincidence(s)" in out and "during" in out and "1180" in out
    assert "single case" in out and "(1 outage(s), 1 episode(s))" in out and "not a p-value" in out
    store = open_store(db)
    try:
        assert store.read_coincidences()["event_uid"].tolist() == ["tj-2020-09-16-kabiri-gwu"]
    finally:
        store.close()


def test_options_and_config_reach_the_stored_parameters(db, tmp_path, capsys):
    config = tmp_path / "monitor.toml"
    config.write_text('[correlate]\nseed = 99\n[correlate.windows.protest]\nafter = "30m"\n')
    argv = ["--db", db, "--config", str(config), "correlate", "--outages", "starter", "--window-before", "90m",
            "--permutations", "50", "--from", "2019-11-01", "--until", "2021-03-01", "--format", "json"]
    assert main(argv) == 0
    params = json.loads(capsys.readouterr().out)["params"]
    assert params["seed"] == 99 and params["permutations"] == 50
    assert params["windows"]["protest"] == {"before": "90m", "after": "30m"}
    assert params["span"] == ["2019-11-01T00:00:00Z", "2021-03-01T00:00:00Z"]


@pytest.mark.parametrize("argv, message", [
    (["--outages", "nope"], "no outages from 'nope'"),
    (["--outages", "starter", "--country", "Atlantis"], "unknown country 'Atlantis'"),
    (["--outages", "starter", "--from", "yesterday-ish"], "bad --from 'yesterday-ish'"),
    (["--outages", "starter", "--from", "2021-01-01", "--until", "2020-01-01"], "is not after --from"),
    (["--outages", "starter", "--window-after", "soon"], "bad --window-after 'soon'"),
    (["--outages", "starter", "--kind", "speech"], "unknown event kind 'speech'"),
    (["--outages", "starter", "--permutations", "0"], "permutations must be a positive integer"),
])
def test_bad_input_is_one_line_and_exit_2(db, capsys, argv, message):
    assert main(["--db", db, "correlate", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_subprocess(db):
    proc = subprocess.run([sys.executable, "-m", "monitor", "--db", db, "correlate", "--outages", "starter",
                           "--country", "TJ"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Muhiddin Kabiri" in proc.stdout and "during" in proc.stdout


def test_no_row_printed_significant_beside_an_interval_that_includes_no_effect(tmp_path, capsys):
    """Exam shutdowns of IODA's list: the table never shows 'significant' with ci_low <= 0, nor an
    interval above 0 without it, in the table and in the notes."""
    url = f"sqlite:///{tmp_path}/ioda.db"
    store = open_store(url)
    import_events(store, str(REPO / "data/ioda-outages/ioda_investigated_outages_cleaned_phase1+2.csv"),
                  fmt="ioda-outages")
    import_events(store, str(REPO / "data/events/exams.csv"))
    store.close()
    assert main(["--db", url, "correlate", "--outages", "ioda-outages", "--kind", "exam"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["country", "kind", "relation"])
    ends = [m.end() for m in re.finditer(r"\S+", lines[header])]  # pandas right-aligns every column
    names = lines[header].split()
    rows = []
    for line in lines[header + 1:]:
        if not line.strip():
            break
        rows.append({n: line[a:b].strip() for n, a, b in zip(names, [0] + ends[:-1], ends)})
    assert len(rows) == 6 and sum(r["verdict"] == "significant" for r in rows) == 2
    for r in rows:
        if r["ci_low"] != "-":
            assert (float(r["ci_low"]) > 0) == (r["verdict"] == "significant"), r
    notes = [line for line in lines if line.endswith(": significant") or ": significant;" in line]
    assert len(notes) == 2 and all(re.search(r"interval \+[1-9]\d* to", n) for n in notes), notes
