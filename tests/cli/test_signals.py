"""`signals import/export` on the real Iran series, on SQLite and PostgreSQL."""

import json
import logging
import subprocess
import sys

import pandas as pd
import pytest

from monitor.cli import main

IRAN_AP = "ioda-iran-2019/20191123-ioda-iran-countrywide-active-probing.csv"


@pytest.fixture
def iran_tidy(tmp_path, data_dir):
    """The real IODA active-probing series written in the tidy format (unix-second times)."""
    raw = pd.read_csv(data_dir / IRAN_AP)
    path = tmp_path / "iran.csv"
    pd.DataFrame({"time": raw["timestamp"], "value": raw["value"]}).to_csv(path, index=False)
    return path, raw


def test_import_twice_then_export_gives_same_values(store_url, iran_tidy, capsys):
    path, raw = iran_tidy
    args = ["--db", store_url, "signals", "import", str(path), "--entity", "country/IR", "--datasource", "ping-slash24"]
    assert main(args) == 0
    assert f"{len(raw)} points read, {len(raw)} new or changed" in capsys.readouterr().out
    assert main(args) == 0
    assert f"{len(raw)} points read, 0 new or changed" in capsys.readouterr().out
    assert main(["--db", store_url, "signals", "export", "--entity", "country/IR", "--datasource", "ping-slash24"]) == 0
    out = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert len(out) == len(raw)
    assert out["time"].iloc[0] == "2019-11-14T08:10:00Z"
    assert (pd.to_datetime(out["time"]).astype("int64") // 1 == pd.to_datetime(raw["timestamp"], unit="s", utc=True)
            .astype("int64")).all()
    assert (out["value"].to_numpy() == raw["value"].to_numpy()).all()


def test_export_json_window(store_url, iran_tidy, capsys):
    path, _ = iran_tidy
    main(["--db", store_url, "signals", "import", str(path), "--entity", "country/IR", "--datasource", "ping-slash24"])
    capsys.readouterr()
    assert main(["--db", store_url, "signals", "export", "--entity", "country/IR", "--from", "2019-11-16T18:20:00Z",
                 "--until", "2019-11-16T18:40:00Z", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["time"] for r in records] == ["2019-11-16T18:20:00Z", "2019-11-16T18:30:00Z"]
    assert records[0]["value"] == 3123  # the drop documented in the provenance note


def test_strict_import_writes_nothing_and_skip_bad_counts(tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/m.db"
    path = tmp_path / "bad.csv"
    path.write_text("time,entity,datasource,value\n2019-11-16T14:00:00Z,country/IR,bgp,1\n"
                    "not-a-time,country/IR,bgp,2\n")
    assert main(["--db", db, "signals", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv: line 3: bad time 'not-a-time'" in err and err.count("\n") == 1
    assert main(["--db", db, "status"]) == 2  # nothing written: not even an empty store
    assert "no store at" in capsys.readouterr().err
    assert main(["--db", db, "signals", "import", str(path), "--skip-bad"]) == 0
    assert "1 points read, 1 new or changed, 1 bad rows skipped" in capsys.readouterr().out


def test_a_mistyped_store_path_is_an_error_not_a_new_empty_store(tmp_path, capsys):
    for command in (["status"], ["signals", "export", "--entity", "country/IR"]):
        assert main(["--db", f"sqlite:///{tmp_path}/typo/monitr.db", *command]) == 2
        assert "no store at" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


def test_bad_inputs_are_one_line_errors_without_traceback(tmp_path):
    db = f"sqlite:///{tmp_path}/m.db"
    bad_config = tmp_path / "c.toml"
    bad_config.write_text("[watch]\nentitis = []\n")
    cases = [
        (["--db", db, "signals", "export", "--entity", "country/XYZ"], "malformed entity"),
        (["--db", db, "signals", "import", str(tmp_path / "missing.csv")], "cannot read"),
        (["--config", str(bad_config), "status"], "unknown key watch.'entitis'"),
        (["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "status"], "cannot open store"),
    ]
    for args, message in cases:
        proc = subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert proc.stderr.strip().count("\n") == 0


def test_help_lists_subcommands():
    proc = subprocess.run([sys.executable, "-m", "monitor", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for command in ("signals", "status"):
        assert command in proc.stdout


@pytest.fixture
def two_series_db(tmp_path, capsys):
    """country/IR with bgp and ping-slash24 points on 2019-11-16 14:00 and 14:10 UTC."""
    db = f"sqlite:///{tmp_path}/m.db"
    path = tmp_path / "s.csv"
    path.write_text("time,entity,datasource,value\n"
                    "2019-11-16T14:00:00Z,country/IR,bgp,1\n2019-11-16T14:10:00Z,country/IR,bgp,2\n"
                    "2019-11-16T14:00:00Z,country/IR,ping-slash24,3\n")
    assert main(["--db", db, "signals", "import", str(path)]) == 0
    capsys.readouterr()
    return db


def _export(db, *options):
    return main(["--db", db, "signals", "export", "--entity", "country/IR", *options])


def test_export_reversed_range_is_an_error(two_series_db, capsys):
    assert _export(two_series_db, "--from", "2019-11-17", "--until", "2019-11-16") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("outage-monitor: error: --until 2019-11-16T00:00:00Z is not after "
                   "--from 2019-11-17T00:00:00Z\n")


def test_export_unknown_datasource_names_the_stored_ones(two_series_db, capsys):
    assert _export(two_series_db, "--datasource", "ping-slash-24") == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "no country/IR signals from ping-slash-24" in err
    assert "stored datasources: bgp, ping-slash24" in err


def test_export_entity_without_signals_is_named(two_series_db, capsys):
    assert main(["--db", two_series_db, "signals", "export", "--entity", "country/IQ"]) == 2
    err = capsys.readouterr().err
    assert "no signals stored for country/IQ" in err and err.count("\n") == 1


def test_export_empty_window_is_a_note_not_an_error(two_series_db, capsys, caplog):
    assert _export(two_series_db, "--datasource", "bgp", "--from", "2019-11-17") == 0
    assert capsys.readouterr().out.strip() == "time,entity,datasource,value"
    [note] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert note == ("no signals for country/IR between 2019-11-17T00:00:00Z and the end "
                    "(stored from 2019-11-16T14:00:00Z to 2019-11-16T14:10:00Z)")


def test_export_refuses_a_year_as_time(two_series_db, capsys):
    assert _export(two_series_db, "--from", "2019") == 2
    assert "bad time '2019': not an ISO 8601 date or time" in capsys.readouterr().err


def test_import_with_a_country_gives_a_researchers_region_its_place(tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/m.db"
    path = tmp_path / "bago.csv"
    path.write_text("time,value\n2021-02-15T00:00:00Z,40\n2021-02-15T01:00:00Z,41\n")
    assert main(["--db", db, "signals", "import", str(path), "--entity", "region/bago", "--datasource",
                 "ipo-bago", "--country", "mm"]) == 0
    capsys.readouterr()
    from monitor.store import open_store
    assert open_store(db).entity_countries() == {"region/bago": "MM"}
    assert main(["--db", db, "signals", "import", str(path), "--entity", "region/bago", "--datasource",
                 "ipo-bago", "--country", "Myanmar"]) == 2
    assert "--country 'Myanmar': expected an ISO 3166 alpha-2 code" in capsys.readouterr().err
