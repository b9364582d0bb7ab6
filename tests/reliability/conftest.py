"""Fixtures of the reliability suite: the replay, the misbehaving proxy in front of it, fast HTTP
clients whose retry waits are recorded instead of slept, and the figures recorder.

Every test module here sets `pytestmark = pytest.mark.reliability`; `pytest -m reliability` runs
them alone and benchmarks/reliability.py runs them in their full version and prints the figures.
"""

from __future__ import annotations

import os

import pytest
from reliability_support import FaultProxy, Figures

from monitor.http import HttpClient
from monitor.replay import ReplayServer


@pytest.fixture(scope="session")
def figures() -> Figures:
    """Where tests put what they measured (read by benchmarks/reliability.py)."""
    return Figures(os.environ.get("MONITOR_RELIABILITY_REPORT"))


@pytest.fixture(scope="session")
def replay():
    """The replay of the bundled IODA and RIPE Atlas data (synthetic series for other countries)."""
    server = ReplayServer(synthetic=True).start()
    yield server
    server.stop()


@pytest.fixture
def proxy(replay):
    """A fresh misbehaving proxy in front of the replay; set `proxy.plan` to make it misbehave."""
    with FaultProxy(replay.url) as p:
        yield p


class Waits(list):
    """The retry delays an HttpClient asked for (recorded, not slept, so retry storms run fast)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def make_client():
    """HttpClient factory with short timeouts and recorded waits: make_client("ioda", retries=3)."""
    made = []

    def make(source: str, **kwargs) -> HttpClient:
        kwargs.setdefault("timeout", 0.5)
        kwargs.setdefault("retries", 3)
        kwargs.setdefault("backoff", 0.01)
        kwargs.setdefault("max_wait", 30.0)
        kwargs.setdefault("sleep", Waits())
        client = HttpClient(source, **kwargs)
        made.append(client)
        return client
    yield make
    for client in made:
        client.close()
