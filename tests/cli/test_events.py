"""`outage-monitor events import|list`, in-process and once as a subprocess."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from monitor.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path}/events.db"


def _run(db, *args):
    return main(["--db", db, "events", *args])


def test_starter_calendar_lists_the_tajik_events_in_utc_and_local_time(db, data_dir, capsys):
    assert _run(db, "import", str(data_dir / "events/starter.csv")) == 0
    out = capsys.readouterr().out
    assert "starter: read 6 record(s)" in out and "added 6" in out
    assert _run(db, "list", "--country", "TJ", "--from", "2020-09-01", "--until", "2020-10-31") == 0
    table = capsys.readouterr().out
    lines = table.splitlines()
    kabiri = next(line for line in lines if "Kabiri" in line)
    assert "2020-09-15 19:00" in kabiri and "2020-09-16 (all day)" in kabiri
    election = next(line for line in lines if "Presidential election in Tajikistan" in line)
    assert "2020-10-10 19:00" in election and "2020-10-11 (all day)" in election
    outage = next(line for line in lines if "outage" in line.lower())
    assert "2020-09-16 14:40" in outage and "19:40-20:40 +05" in outage  # UTC and Dushanbe time
    assert not any("Belarus" in line or "Myanmar" in line for line in lines)


def test_list_json_and_csv_carry_utc_and_local_times(db, data_dir, capsys):
    _run(db, "import", str(data_dir / "events/starter.csv"))
    capsys.readouterr()
    assert _run(db, "list", "--country", "Tajikistan", "--kind", "shutdown_report", "--format", "json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["uid"], r["start"], r["local_start"], r["timezone"]) for r in rows] == [
        ("tj-2020-09-16-outage", "2020-09-16T14:40:00Z", "2020-09-16T19:40:00+05:00", "Asia/Dushanbe")]
    assert "raw" not in rows[0]
    assert _run(db, "list", "--kind", "coup", "--format", "csv") == 0
    frame = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert frame[["country", "start", "all_day"]].values.tolist() == [["MM", "2021-01-31T17:30:00Z", True]]


def test_import_twice_reports_nothing_new(db, data_dir, capsys):
    stop = str(data_dir / "accessnow-stop/stop_combined_2016-2025_snapshot-2026-05-20.csv")
    assert main(["--db", db, "-v", "events", "import", stop, "--country", "TJ"]) == 0
    first = capsys.readouterr().out
    assert "stop: read 2102 record(s)" in first and "added 5" in first
    assert "skipped 217 (count_year 213, end_date 3, * 1):" in first
    assert "row 658, field end_date = '2020-02-12': before start_date 2020-02-18" in first
    assert len(first.splitlines()) == 3 + 217
    assert _run(db, "import", stop, "--country", "TJ") == 0
    again = capsys.readouterr().out
    assert "added 0, updated 0, unchanged 5; removed 0" in again
    assert "... and 207 more (-v lists them all)" in again


@pytest.mark.parametrize("fixture, needle", [
    ("not_a_calendar.ics", "not_a_calendar.ics: not a valid iCalendar file"),
    ("broken_dtstart.ics", "broken_dtstart.ics, event UID=broken@example.org (line 13): field DTSTART"),
    ("unknown_country.csv", "unknown_country.csv, row 3: field country = 'Atlantis': unknown country"),
    ("missing_end_column.csv", "missing_end_column.csv, row 1 (header): field end: required column missing"),
])
def test_bad_input_is_one_line_exit_2_and_loses_nothing(db, data_dir, capsys, fixture, needle):
    _run(db, "import", str(data_dir / "events/starter.csv"))
    capsys.readouterr()
    _run(db, "list", "--format", "json")
    before = capsys.readouterr().out
    assert _run(db, "import", str(FIXTURES / fixture), "--name", "starter") == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert needle in err and len(err.splitlines()) == 1 and err.startswith("outage-monitor: error: ")
    assert "Traceback" not in captured.err
    _run(db, "list", "--format", "json")
    assert capsys.readouterr().out == before


def test_unknown_country_option_is_a_usage_error(db, capsys):
    with pytest.raises(SystemExit) as exc:
        _run(db, "list", "--country", "Atlantis")
    assert exc.value.code == 2
    assert "unknown country 'Atlantis'" in capsys.readouterr().err


def test_updated_feed_via_cli(db, tmp_path, capsys):
    feed = tmp_path / "opposition.ics"
    shutil.copy(FIXTURES / "dushanbe_weekly.ics", feed)
    window = ["--from", "2020-09-01", "--until", "2020-10-31"]
    assert _run(db, "import", str(feed), *window) == 0
    assert "events 6: added 6" in capsys.readouterr().out
    shutil.copy(FIXTURES / "dushanbe_weekly_v2.ics", feed)
    assert _run(db, "import", str(feed), *window) == 0
    assert "added 1, updated 1, unchanged 4; removed 1" in capsys.readouterr().out


def test_subprocess_import_and_bad_input(tmp_path):
    db = f"sqlite:///{tmp_path}/sub.db"
    run = [sys.executable, "-m", "monitor", "--db", db, "events", "import"]
    imp = subprocess.run(run + [str(REPO / "data/events/starter.csv")], capture_output=True, text=True, cwd=REPO,
                         timeout=120)
    assert imp.returncode == 0, imp.stderr
    assert "starter: read 6 record(s)" in imp.stdout
    bad = subprocess.run(run + [str(FIXTURES / "unknown_country.csv")], capture_output=True, text=True,
                         cwd=REPO, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"outage-monitor: error: {FIXTURES / 'unknown_country.csv'}, row 3: field country = 'Atlantis': "
        "unknown country 'Atlantis': use an ISO 3166 code or a known name"]


def test_acled_without_credentials_says_what_is_missing(db, capsys, monkeypatch):
    monkeypatch.delenv("ACLED_EMAIL", raising=False)
    monkeypatch.delenv("ACLED_PASSWORD", raising=False)
    assert _run(db, "import", "acled", "--country", "TJ", "--from", "2020-09-01", "--until", "2020-10-31") == 2
    err = capsys.readouterr().err.strip()
    assert err == ("outage-monitor: error: ACLED needs an account: set ACLED_EMAIL and ACLED_PASSWORD in the "
                   "environment (register at acleddata.com and ask for API access)")


def test_calendar_text_cannot_drive_the_terminal(db, tmp_path, capsys):
    feed = tmp_path / "hostile.csv"
    feed.write_text("country,start,end,kind,title,url\nIR,2019-11-16,,protest,\"Protest \x1b[2J\x1b]0;x\x07\","
                    "https://example.org\n", encoding="utf-8")
    assert _run(db, "import", str(feed)) == 0
    capsys.readouterr()
    for fmt in ("table", "csv", "json"):
        assert _run(db, "list", "--format", fmt) == 0
        out = capsys.readouterr().out
        assert "Protest" in out and "\x1b" not in out and "\x07" not in out
