"""A local replay of the IODA and RIPE Atlas APIs (the bundled real data) and daemon configs over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import parse_config
from monitor.replay import Fault, ReplayServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def replay():
    """The replay; RIPE Atlas paths answer 404 (a source that fails without retries)."""
    def atlas_down(request):
        return Fault(404, '{"detail": "Not found."}') if request.path.startswith("/api/v2") else None
    with ReplayServer(fault=atlas_down) as server:
        yield server


@pytest.fixture
def make_config(tmp_path, replay):
    """A Config watching Iran Nov 2019 with ioda (working) and ripe-atlas (failing) over the replay."""
    def make(calendar: Path | None = None, alerts: dict | None = None, **daemon):
        data = {"watch": {"entities": ["country/IR"]},
                "sources": {"ioda": {"base_url": replay.base_urls["ioda"]},
                            "ripe-atlas": {"base_url": replay.base_urls["ripe-atlas"], "interval": "90s"}},
                "calendars": {"starter": {"url": str(calendar or REPO / "data/events/starter.csv")}},
                "daemon": {"start": "2019-11-14", "end": "2019-11-24", "report_dir": str(tmp_path / "reports"),
                           "report_max_age": "30D", **daemon},
                "alerts": alerts or {}}
        return parse_config(data, tmp_path / "monitor.toml")
    return make
