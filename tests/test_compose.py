"""docker-compose.yml and the Dockerfile, checked without Docker: structure, and that every command
they run exists in the CLI."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import pytest
import yaml

from monitor.cli import build_parser
from monitor.config import load_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def dockerfile_commands() -> list[list[str]]:
    return [json.loads(m) for m in re.findall(r"^CMD (\[.*\])$", (REPO / "Dockerfile").read_text(), re.M)]


def compose_commands(compose: dict) -> list[list[str]]:
    out = []
    for service in compose["services"].values():
        if "command" in service:
            out.append(service["command"])
        test = service.get("healthcheck", {}).get("test")
        if test and test[0] == "CMD":
            out.append(test[1:])
    return out


def test_every_outage_monitor_command_parses(compose):
    commands = [c for c in compose_commands(compose) + dockerfile_commands() if c[0] == "outage-monitor"]
    assert len(commands) >= 3  # the daemon, its health check, the image's default
    parser = build_parser()
    for command in commands:
        args = parser.parse_args(command[1:])  # SystemExit (a failed test) on an unknown command or option
        assert args.func is not None
    names = {parser.parse_args(c[1:]).command for c in commands}
    assert names == {"daemon", "health"}


def test_daemon_service(compose):
    daemon = compose["services"]["daemon"]
    assert daemon["init"] is True and daemon["restart"] in ("unless-stopped", "always", "on-failure")
    assert daemon["healthcheck"]["test"][-1] == "health"
    mounts = {v.split(":")[1]: v for v in daemon["volumes"]}
    assert mounts["/data"].split(":")[0] in compose["volumes"]  # a named data volume
    config = daemon["command"][daemon["command"].index("--config") + 1]
    assert mounts[config] == f"./monitor.toml:{config}:ro"  # the config file, read-only
    assert daemon["environment"]["MONITOR_DB"].endswith(":-sqlite:////data/monitor.db}")
    assert daemon["depends_on"]["postgres"]["required"] is False
    for secret in ("RIPE_ATLAS_KEY", "CLOUDFLARE_API_TOKEN", "MONITOR_SMTP_PASSWORD", "MONITOR_WEBHOOK_URL"):
        assert daemon["environment"][secret] is None  # passed through when set, never written here


def test_postgres_is_an_opt_in_profile_without_a_default_password(compose):
    pg = compose["services"]["postgres"]
    assert pg["profiles"] == ["postgres"] and "ports" not in pg
    assert pg["environment"]["POSTGRES_PASSWORD"] is None
    assert "pg_isready" in pg["healthcheck"]["test"]


def test_jupyter_is_local_only_with_a_token(compose):
    jupyter = compose["services"]["jupyter"]
    assert jupyter["profiles"] == ["notebooks"]
    assert all(p.startswith("127.0.0.1:") for p in jupyter["ports"])
    assert jupyter["environment"]["JUPYTER_TOKEN"] is None  # never an empty token (that disables auth)
    assert "--NotebookApp.token=" not in " ".join(jupyter["command"])
    mounts = [v.split(":") for v in jupyter["volumes"]]
    assert ["./notebooks", "/app/notebooks"] in mounts and any(m[1] == "/data" for m in mounts)
    assert jupyter["environment"]["MONITOR_DB"] == compose["services"]["daemon"]["environment"]["MONITOR_DB"]


def test_dockerfile_copies_what_exists_and_dockerignore_keeps_it(compose):
    text = (REPO / "Dockerfile").read_text()
    sources = [s for line in re.findall(r"^COPY (.+)$", text, re.M) for s in line.split()[:-1]]
    ignored = [p.strip() for p in (REPO / ".dockerignore").read_text().splitlines() if p.strip()]
    for source in sources:
        assert (REPO / source).exists(), f"Dockerfile copies {source}, which is not in the repo"
        assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), f"{source} is in .dockerignore"
    targets = {s["build"]["target"] for s in compose["services"].values() if "build" in s}
    stages = set(re.findall(r"^FROM \S+ AS (\S+)$", text, re.M))
    assert targets <= stages


def test_example_config_loads_and_every_section_validates():
    from monitor.alerts import AlertParams
    from monitor.config import build
    from monitor.correlate import CorrelateParams
    from monitor.daemon import DaemonParams
    from monitor.detect.params import DetectParams
    from monitor.report import ReportParams
    from monitor.sources.registry import get_source

    config = load_config(REPO / "monitor.example.toml")
    for cls, section in [(DaemonParams, config.daemon), (AlertParams, config.alerts), (DetectParams, config.detect),
                         (CorrelateParams, config.correlate), (ReportParams, config.report)]:
        build(cls, section, cls.__name__)
    for name, source in config.sources.items():
        get_source(name).check_options(source.options)
    assert config.entities and config.calendars
