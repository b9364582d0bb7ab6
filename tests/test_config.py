from dataclasses import dataclass

import pandas as pd
import pytest

from monitor.config import build, load_config, resolve_db_url
from monitor.errors import ConfigError


def _write(tmp_path, text):
    path = tmp_path / "monitor.toml"
    path.write_text(text)
    return path


def test_full_config(tmp_path):
    cfg = load_config(_write(tmp_path, """
[store]
url = "sqlite:///x.db"
[watch]
entities = ["country/tj", "asn/44244"]
[sources.ioda]
base_url = "http://127.0.0.1:9/v2"
interval = "1h"
datasources = ["bgp", "ping-slash24"]
[calendars.opposition]
url = "https://example.org/cal.ics"
country = "TJ"
"""))
    assert cfg.entities == ("country/TJ", "asn/44244")
    assert cfg.sources["ioda"].interval == pd.Timedelta("1h")
    assert cfg.sources["ioda"].options == {"datasources": ["bgp", "ping-slash24"]}
    assert cfg.calendars["opposition"].interval == pd.Timedelta("6h")
    assert resolve_db_url(None, cfg) == "sqlite:///x.db"
    assert resolve_db_url("sqlite:///y.db", cfg) == "sqlite:///y.db"


def test_no_config_file_gives_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_DB", raising=False)
    assert resolve_db_url(None, load_config()) == "sqlite:///data/monitor.db"
    monkeypatch.setenv("MONITOR_DB", "sqlite:///env.db")
    assert resolve_db_url(None, load_config()) == "sqlite:///env.db"


@pytest.mark.parametrize("text,names", [
    ("[stor]\nurl='x'", ["stor", "monitor.toml"]),
    ("[watch]\nentities = ['country/TJK']", ["watch.entities[0]", "country/TJK"]),
    ("[sources.ioda]\nenabled = 'yes'", ["sources.ioda", "enabled"]),
    ("[calendars.x]\ncountry = 'TJ'", ["calendars.x", "url"]),
    ("[calendars.x]\nurl = 'file:///etc/passwd'", ["calendars.x", "http(s)", "file:"]),
    ("[calendars.x]\nurl = 'a.ics'\nformat = 'icsx'", ["calendars.x", "'icsx'", "ics, csv"]),
    ("[store\nurl=", ["not valid TOML"]),
])
def test_bad_config_names_key_and_file(tmp_path, text, names):
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    for name in names:
        assert name in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


@dataclass(frozen=True)
class Params:
    window: pd.Timedelta = pd.Timedelta("2h")
    ratio: float = 0.5
    kinds: tuple[str, ...] = ()


def test_build_parameter_dataclass():
    p = build(Params, {"window": "90m", "ratio": 1, "kinds": ["exam"]}, "f: [x]")
    assert p == Params(pd.Timedelta("90m"), 1.0, ("exam",))
    with pytest.raises(ConfigError, match="unknown key 'windw'"):
        build(Params, {"windw": "1h"}, "f: [x]")
    with pytest.raises(ConfigError, match=r"f: \[x\]\.ratio: expected float"):
        build(Params, {"ratio": "high"}, "f: [x]")
