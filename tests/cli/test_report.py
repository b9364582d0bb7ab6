"""`outage-monitor report incident|digest`, end to end on real data: IODA's Iran 2019 series and the
starter calendar, through the detector and the correlator, into HTML and Markdown."""

import json
import pathlib
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from monitor.cli import main
from monitor.correlate import run_correlation
from monitor.detect.run import run_detection
from monitor.events.importer import import_events
from monitor.store import open_store

SERIES = {"ping-slash24": "ioda-iran-2019/20191123-ioda-iran-countrywide-active-probing.csv",
          "bgp": "ioda-iran-2019/20191123-ioda-iran-countrywide-bgp_window_2019-11-15T17_2019-11-17T20.csv"}
PROTEST = "Nationwide protests against the petrol price rise"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """(store URL, the detected outage) after import, detection and correlation; shared read-only."""
    data_dir = Path(__file__).resolve().parents[2] / "data"
    url = f"sqlite:///{tmp_path_factory.mktemp('pipeline')}/m.db"
    store = open_store(url)
    for name, path in SERIES.items():
        raw = pd.read_csv(data_dir / path)
        store.write_signals(pd.DataFrame({"entity": "country/IR", "datasource": name,
                                          "time": pd.to_datetime(raw["timestamp"], utc=True),
                                          "value": raw["value"].astype(float)}))
    import_events(store, str(data_dir / "events" / "starter.csv"))
    outage = run_detection(store).iloc[0]
    run_correlation(store)
    store.close()
    return url, outage


def _visible(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", html, flags=re.S)).split())


def test_incident_html_end_to_end(pipeline, tmp_path, capsys):
    url, outage = pipeline
    out = tmp_path / "iran.html"
    assert main(["--db", url, "report", "incident", "--entity", "country/IR", "--at", "2019-11-18T00:00Z",
                 "--out", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out), str(tmp_path / "iran-html.csv"),
                                               str(tmp_path / "iran-html.evidence.json")]
    text = _visible(out.read_text())
    local = outage["start"].tz_convert("Asia/Tehran")
    assert f"Start {outage['start']:%Y-%m-%dT%H:%M}Z = {local:%Y-%m-%d %H:%M} Asia/Tehran (UTC+03:30)" in text
    coinciding = text[text.index("Events"):text.index("The numbers behind")]
    assert PROTEST in coinciding and " during " in coinciding
    assert "A single episode: no test is possible" in coinciding   # one outage: the correlator says so


def test_incident_markdown_by_id_writes_chart_and_csv_alongside(pipeline, tmp_path, capsys):
    url, outage = pipeline
    out = tmp_path / "iran.md"
    assert main(["--db", url, "report", "incident", "--outage-id", outage["outage_id"], "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.glob("iran*")) == ["iran-md.csv", "iran-md.evidence.json",
                                                              "iran-md.png", "iran.md"]
    md = out.read_text()
    assert f"**Start:** {outage['start']:%Y-%m-%dT%H:%M}Z" in md and "![" in md and "(<iran-md.png>)" in md
    assert PROTEST in md


def test_incident_default_file_name(pipeline, tmp_path, monkeypatch, capsys):
    url, outage = pipeline
    monkeypatch.chdir(tmp_path)
    assert main(["--db", url, "report", "incident", "--outage-id", outage["outage_id"]]) == 0
    name = f"incident-country-IR-{outage['start']:%Y%m%dT%H%M%S}Z.html"
    assert capsys.readouterr().out.split()[0] == name and (tmp_path / name).is_file()


def test_digest_with_country_names(pipeline, tmp_path, capsys):
    url, _ = pipeline
    out = tmp_path / "d.html"
    assert main(["--db", url, "report", "digest", "--from", "2019-11-01", "--until", "2019-12-01",
                 "--country", "Iran", "--country", "TJ", "--out", str(out)]) == 0
    text = _visible(out.read_text())
    assert "1 outage in 1 of 2 countries" in text and "Tajikistan (TJ) 0" in text
    assert pd.read_csv(tmp_path / "d-html.csv")["entity"].tolist() == ["country/IR"]


def test_html_and_markdown_of_one_name_write_distinct_files(pipeline, tmp_path, capsys):
    """digest.html and digest.md side by side: neither overwrites the other's CSVs or evidence."""
    url, _ = pipeline
    for out in ("digest.html", "digest.md"):
        assert main(["--db", url, "report", "digest", "--from", "2019-11-01", "--until", "2019-12-01",
                     "--out", str(tmp_path / out)]) == 0
    printed = capsys.readouterr().out.split()
    assert len(printed) == len(set(printed)) and all(pathlib.Path(p).exists() for p in printed)
    html_files = json.loads((tmp_path / "digest-html.evidence.json").read_text())["files"].values()
    md_files = json.loads((tmp_path / "digest-md.evidence.json").read_text())["files"].values()
    assert not set(html_files) & set(md_files)


def test_a_file_the_report_did_not_write_is_not_overwritten_unless_forced(pipeline, tmp_path, capsys):
    url, outage = pipeline
    mine = tmp_path / "iran-html.csv"
    mine.write_text("my own notes\n")
    args = ["--db", url, "report", "incident", "--outage-id", outage["outage_id"], "--out", str(tmp_path / "iran.html")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "iran-html.csv exists and was not written by this report" in err and "--force" in err
    assert mine.read_text() == "my own notes\n" and not (tmp_path / "iran.html").exists()   # nothing written
    assert main(args + ["--force"]) == 0
    assert main(args) == 0          # its own files, from the run before, are replaced without asking
    assert mine.read_text().startswith("time,entity,datasource,value")


@pytest.mark.parametrize("args,message", [
    (["incident"], "give --outage-id ID, or --entity E with --at T"),
    (["incident", "--entity", "country/IR"], "give --outage-id ID, or --entity E with --at T"),
    (["incident", "--outage-id", "x", "--entity", "country/IR", "--at", "2019-11-18"], "not both"),
    (["incident", "--outage-id", "nope"], "no outage with id 'nope'"),
    (["incident", "--entity", "country/IR", "--at", "2019-11-18", "--out", "r.pdf"], "use a .html or .md"),
    (["digest", "--from", "2019-12-01", "--until", "2019-11-01"], "is not after --from"),
    (["digest", "--from", "2019-11-01", "--until", "2019-12-01", "--country", "Atlantis"], "unknown country"),
])
def test_errors_are_one_line(pipeline, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["--db", pipeline[0], "report", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_bad_report_config_is_named(pipeline, tmp_path, capsys):
    config = tmp_path / "m.toml"
    config.write_text('[report]\nchart_format = "gif"\n')
    assert main(["--db", pipeline[0], "--config", str(config), "report", "digest", "--from", "2019-11-01",
                 "--until", "2019-12-01", "--out", str(tmp_path / "d.html")]) == 2
    assert "chart_format" in capsys.readouterr().err


def test_digest_markdown_as_subprocess(pipeline, tmp_path):
    out = tmp_path / "d.md"
    proc = subprocess.run([sys.executable, "-m", "monitor", "--db", pipeline[0], "report", "digest",
                           "--from", "2019-11-01", "--until", "2019-12-01", "--outages", "all", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    md = out.read_text()
    assert md.startswith("# Outage digest 2019-11-01 – 2019-12-01 UTC") and "| Iran (IR) | 1 |" in md
