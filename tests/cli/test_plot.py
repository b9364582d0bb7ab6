"""`outage-monitor plot` on IODA's real Iran 2019 series."""

import subprocess
import sys

import pandas as pd
import pytest

from monitor.cli import main
from monitor.store import open_store

AP = "ioda-iran-2019/20191123-ioda-iran-countrywide-active-probing.csv"


@pytest.fixture
def url(tmp_path, data_dir):
    raw = pd.read_csv(data_dir / AP)
    store = open_store(f"sqlite:///{tmp_path}/m.db")
    store.write_signals(pd.DataFrame({"entity": "country/IR", "datasource": "ping-slash24",
                                      "time": pd.to_datetime(raw["timestamp"], utc=True),
                                      "value": raw["value"].astype(float)}))
    store.close()
    return f"sqlite:///{tmp_path}/m.db"


def test_plot_png_and_svg(url, tmp_path, capsys):
    png, svg = tmp_path / "ir.png", tmp_path / "ir.svg"
    base = ["--db", url, "plot", "--entity", "country/IR", "--from", "2019-11-15", "--until", "2019-11-20"]
    assert main([*base, "--out", str(png)]) == 0
    assert capsys.readouterr().out.strip() == str(png)
    assert png.read_bytes().startswith(b"\x89PNG")
    assert main([*base, "--datasource", "ping-slash24", "--tz", "Asia/Tehran", "--out", str(svg)]) == 0
    assert b"<svg" in svg.read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))


def test_plot_default_file_name(url, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["--db", url, "plot", "--entity", "country/IR", "--from", "2019-11-15", "--until", "2019-11-16"]) == 0
    assert capsys.readouterr().out.strip() == "plot-country-IR-20191115T000000Z.png"
    assert (tmp_path / "plot-country-IR-20191115T000000Z.png").is_file()


@pytest.mark.parametrize("args,message", [
    (["--entity", "country/IR", "--from", "2019-11-15", "--until", "2019-11-16", "--out", "x.gif"],
     "use a .png or .svg"),
    (["--entity", "country/TJ", "--from", "2019-11-15", "--until", "2019-11-16"], "no signals of country/TJ"),
    (["--entity", "country/IR", "--from", "2019-11-16", "--until", "2019-11-15"], "is not after --from"),
    (["--entity", "country/IR", "--from", "2019-11-15", "--until", "2019-11-16", "--tz", "Nowhere/Town"],
     "unknown time zone"),
])
def test_plot_errors_are_one_line(url, tmp_path, capsys, args, message):
    assert main(["--db", url, "plot", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_plot_as_subprocess(url, tmp_path):
    out = tmp_path / "sub.png"
    proc = subprocess.run([sys.executable, "-m", "monitor", "--db", url, "plot", "--entity", "country/IR",
                           "--from", "2019-11-14T08:00Z", "--until", "2019-11-14T10:00Z", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(b"\x89PNG")
