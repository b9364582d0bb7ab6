"""Collectors against a server that misbehaves on purpose.

Each fault runs in two versions. Transient: the fault hits the first requests, then the server
recovers; the collector must retry (or resume on its next run) to exactly the store a clean run
gives. Persistent: the fault never stops; the collector must end with one clear line naming the
source, store nothing of the failed window, leave the cursor where it was and record the failure,
and a later clean run must complete the store. Retry waits are recorded, not slept.
"""

from __future__ import annotations

import email.utils
import time

import pandas as pd
import pytest
from reliability_support import Misbehave, always, first, nth

from monitor.collect import collect, job_name
from monitor.errors import SourceError
from monitor.store import open_store

pytestmark = pytest.mark.reliability

IODA_PHASES = (("2019-11-14", "2019-11-17"), (None, "2019-11-24"))  # backfill, then resume from the cursor
ATLAS_PHASES = (("2016-06-01", "2016-06-04"), (None, "2016-06-08"))
ATLAS_OPTIONS = {"page_size": 5, "probe_chunk": 4}   # many requests per window, so faults land mid-fetch
ENTITY = {"ioda": "country/IR", "ripe-atlas": "country/KE"}


def _drop_last_value(p):
    p["data"][0][0]["values"].pop()
    return p


def _values_as_text(p):
    p["data"][0][0]["values"][0] = "12"
    return p


def _no_values(p):
    del p["data"][0][0]["values"]
    return p


def _envelope_error(p):
    return {**p, "error": "Internal server error", "data": None}


def _alert_without_entity(p):
    assert p["data"], "the window must hold alerts for this mutation to mean anything"
    del p["data"][0]["entity"]
    return p


def in_9_seconds() -> str:
    """An HTTP-date Retry-After 9 s after the moment the fault answers."""
    return email.utils.formatdate(time.time() + 9, usegmt=True)


# name -> (fault, path prefix, client options, persistent outcome must mention)
RETRYABLE = {
    "connection reset": (Misbehave("reset"), "/v2/", {}, "connection failed"),
    "timeout": (Misbehave("timeout", delay=1.2), "/v2/", {"timeout": 0.3}, "timed out"),
    "429 storm, Retry-After seconds": (Misbehave("status", status=429, retry_after="7"), "/v2/", {}, "HTTP 429"),
    "429 storm, Retry-After date": (Misbehave("status", status=429, retry_after=in_9_seconds), "/v2/", {}, "HTTP 429"),
    "5xx burst": (Misbehave("status", status=502), "/v2/", {}, "HTTP 502"),
    "503 with huge Retry-After": (Misbehave("status", status=503, retry_after="86400"), "/v2/", {}, "HTTP 503"),
    "truncated body": (Misbehave("truncate"), "/v2/signals", {}, "ioda"),
}
FATAL = {
    "JSON cut short": (Misbehave("truncate_valid"), "/v2/signals", "malformed JSON"),
    "HTML under HTTP 200": (Misbehave("content_type"), "/v2/", "malformed JSON"),
    "text/plain garbage": (Misbehave("content_type", content_type="text/plain", body=b"\x00\xff\xfe garbage"),
                           "/v2/signals", "malformed JSON"),
    "wrong shape: data not a list": (Misbehave("mutate", mutate=lambda p: {**p, "data": {"x": 1}}),
                                     "/v2/signals", "data"),
    "wrong shape: payload is a list": (Misbehave("mutate", mutate=lambda p: [p]), "/v2/", "payload"),
    "wrong shape: series without values": (Misbehave("mutate", mutate=_no_values), "/v2/signals", "values"),
    "wrong shape: value is text": (Misbehave("mutate", mutate=_values_as_text), "/v2/signals", "values[0]"),
    "wrong shape: alert without entity": (Misbehave("mutate", mutate=_alert_without_entity),
                                          "/v2/outages/alerts", "entity"),
    "values list of the wrong length": (Misbehave("mutate", mutate=_drop_last_value), "/v2/signals", "values"),
    "error in a 200 envelope": (Misbehave("mutate", mutate=_envelope_error), "/v2/signals", "Internal server error"),
    "404": (Misbehave("status", status=404), "/v2/signals", "HTTP 404"),
    "huge body, streamed": (Misbehave("huge", size=4_000_000), "/v2/signals", "cap"),
    "huge body, declared": (Misbehave("huge_declared", size=15_000_000), "/v2/signals", "cap"),
}


# -- helpers ----------------------------------------------------------------------------------
def snapshot(store) -> dict[str, pd.DataFrame]:
    """Everything a collector writes (cursor update stamps left out)."""
    return {"signals": store.read_signals(), "outages": store.read_outages(),
            "probe_events": store.read_probe_events(),
            "cursors": store.read_cursors().drop(columns="updated")}


def assert_same(a: dict, b: dict) -> None:
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


def phase(store, source, url, client, phases_index, phases):
    start, end = phases[phases_index]
    options = ATLAS_OPTIONS if source == "ripe-atlas" else None
    return collect(store, source, [ENTITY[source]], start=start, end=end, base_url=url, client=client,
                   options=options)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, replay):
    """What clean runs of both phases store, per source."""
    out = {}
    for source, phases in (("ioda", IODA_PHASES), ("ripe-atlas", ATLAS_PHASES)):
        store = open_store(f"sqlite:///{tmp_path_factory.mktemp('baseline')}/{source}.db")
        for i in range(2):
            assert phase(store, source, replay.base_urls[source], None, i, phases).ok
        out[source] = snapshot(store)
        store.close()
    return out


@pytest.fixture
def store(tmp_path):
    st = open_store(f"sqlite:///{tmp_path}/faults.db")
    yield st
    st.close()


def check_clear_failure(store, source, summary, before, phases, must_mention):
    """A failed window: one clear line, nothing of it stored, cursor unchanged, failure recorded."""
    result = summary.results[0]
    assert not summary.ok and result.windows_done == 0
    error = result.error
    assert "\n" not in error and error.startswith(f"{source}:"), error
    assert must_mention in error, error
    assert_same(before, snapshot(store))
    assert store.get_cursor(job_name(source), ENTITY[source]) == pd.Timestamp(phases[0][1], tz="UTC")
    run = store.read_runs(job=job_name(source), limit=1).iloc[0]
    assert run["status"] == "error" and run["error"] == error
    return error


def finish_clean(store, source, proxy, make_client, phases, baseline):
    """The server recovers: the next run resumes from the cursor and completes the store."""
    proxy.plan = None
    assert phase(store, source, proxy.base_urls[source], make_client(source), 1, phases).ok
    assert_same(baseline[source], snapshot(store))


# -- the faults -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(RETRYABLE))
def test_transient_fault_is_retried_to_the_clean_result(name, store, proxy, make_client, baseline, figures):
    fault, prefix, options, _ = RETRYABLE[name]
    client = make_client("ioda", **options)
    assert phase(store, "ioda", proxy.base_urls["ioda"], client, 0, IODA_PHASES).ok
    proxy.plan = first(3, fault, prefix)  # three in a row, retries=3: the fourth attempt passes
    summary = phase(store, "ioda", proxy.base_urls["ioda"], client, 1, IODA_PHASES)
    assert summary.ok, summary.results[0].error
    assert proxy.faults()[fault.kind] == 3
    assert_same(baseline["ioda"], snapshot(store))
    if fault.retry_after == "7":
        assert client._sleep[-3:] == [7.0, 7.0, 7.0]  # Retry-After honoured
    elif fault.retry_after == "86400":
        assert client._sleep[-3:] == [30.0, 30.0, 30.0]  # ... but capped at max_wait
    elif fault.retry_after is in_9_seconds:
        assert all(7 <= w <= 9 for w in client._sleep[-3:])  # the date honoured (to the second), not backoff
    figures.add(kind="fault", fault=name, version="transient", injected=3, outcome="retried to success",
                detail=f"{len(client._sleep)} waits")


@pytest.mark.parametrize("name", list(RETRYABLE))
def test_persistent_fault_ends_in_a_clear_error(name, store, proxy, make_client, baseline, figures):
    fault, prefix, options, mention = RETRYABLE[name]
    client = make_client("ioda", **options)
    assert phase(store, "ioda", proxy.base_urls["ioda"], client, 0, IODA_PHASES).ok
    before = snapshot(store)
    proxy.plan = always(fault, prefix)
    summary = phase(store, "ioda", proxy.base_urls["ioda"], client, 1, IODA_PHASES)
    error = check_clear_failure(store, "ioda", summary, before, IODA_PHASES, mention)
    assert proxy.faults()[fault.kind] == client.retries + 1  # gave up after the configured attempts
    finish_clean(store, "ioda", proxy, make_client, IODA_PHASES, baseline)
    figures.add(kind="fault", fault=name, version="persistent", injected=client.retries + 1,
                outcome="clear error", detail=error)


@pytest.mark.parametrize("name", list(FATAL))
def test_malformed_answer_ends_in_a_clear_error_without_retrying(name, store, proxy, make_client, baseline,
                                                                 figures):
    fault, prefix, mention = FATAL[name]
    client = make_client("ioda", max_bytes=1_000_000)
    assert phase(store, "ioda", proxy.base_urls["ioda"], client, 0, IODA_PHASES).ok
    before = snapshot(store)
    proxy.plan = always(fault, prefix)
    summary = phase(store, "ioda", proxy.base_urls["ioda"], client, 1, IODA_PHASES)
    error = check_clear_failure(store, "ioda", summary, before, IODA_PHASES, mention)
    assert proxy.faults()[fault.kind] == 1, "a malformed answer is not worth retrying"
    finish_clean(store, "ioda", proxy, make_client, IODA_PHASES, baseline)
    figures.add(kind="fault", fault=name, version="persistent", injected=1, outcome="clear error", detail=error)


@pytest.mark.parametrize(("kind", "at"), [("reset", 2), ("status", 5), ("mutate", 9)])
def test_atlas_fault_mid_window_stores_nothing_of_it(kind, at, store, proxy, make_client, baseline, figures):
    """A RIPE Atlas window takes many requests (probe pages, result chunks); a failure at any of
    them must leave the window out entirely, and the next run must complete it."""
    fault = {"reset": Misbehave("reset"), "status": Misbehave("status", status=500),
             "mutate": Misbehave("mutate", mutate=lambda p: {"results": "nope"} if isinstance(p, dict) else "nope")}[kind]
    client = make_client("ripe-atlas", retries=1)
    assert phase(store, "ripe-atlas", proxy.base_urls["ripe-atlas"], client, 0, ATLAS_PHASES).ok
    before = snapshot(store)
    proxy.plan = nth(set(range(at, at + 2)), fault, "/api/v2/")  # two in a row: past the one retry
    summary = phase(store, "ripe-atlas", proxy.base_urls["ripe-atlas"], client, 1, ATLAS_PHASES)
    error = check_clear_failure(store, "ripe-atlas", summary, before, ATLAS_PHASES,
                                "malformed" if kind == "mutate" else "ripe-atlas")
    finish_clean(store, "ripe-atlas", proxy, make_client, ATLAS_PHASES, baseline)
    figures.add(kind="fault", fault=f"ripe-atlas {kind} at request {at}", version="persistent",
                injected=proxy.faults()[kind], outcome="clear error", detail=error)


def test_one_failing_entity_does_not_stop_the_others(store, proxy, make_client, figures):
    proxy.plan = always(Misbehave("status", status=503), "/v2/signals/raw/country/IR")
    summary = collect(store, "ioda", ["country/IR", "country/FR"], start="2019-11-14", end="2019-11-15",
                      base_url=proxy.base_urls["ioda"], client=make_client("ioda"), options={"reference": False})
    by_entity = {r.entity: r for r in summary.results}
    assert not by_entity["country/IR"].ok and "HTTP 503" in by_entity["country/IR"].error
    assert by_entity["country/FR"].ok and by_entity["country/FR"].points > 0
    assert set(store.read_signals()["entity"]) == {"country/FR"}
    assert store.get_cursor(job_name("ioda"), "country/IR") is None
    assert store.get_cursor(job_name("ioda"), "country/FR") == pd.Timestamp("2019-11-15", tz="UTC")
    figures.add(kind="fault", fault="one entity failing (503)", version="persistent", injected=4,
                outcome="others kept running", detail=by_entity["country/IR"].error)


def test_daemon_keeps_the_other_sources_running(proxy, tmp_path, figures):
    """One source broken for good (IODA answers an HTML page), another fine: the daemon's run
    records the failure in one line and still collects the other source."""
    from monitor.cli import main
    config = tmp_path / "monitor.toml"
    config.write_text(f"""
[watch]
entities = ["country/IR", "country/KE"]
[sources.ioda]
base_url = "{proxy.base_urls['ioda']}"
[sources.ripe-atlas]
base_url = "{proxy.base_urls['ripe-atlas']}"
[daemon]
start = "2016-06-01"
end = "2016-06-03"
report_dir = "{tmp_path / 'reports'}"
""", encoding="utf-8")
    proxy.plan = always(Misbehave("content_type"), "/v2/")
    db = f"sqlite:///{tmp_path}/daemon.db"
    assert main(["--db", db, "--config", str(config), "daemon", "--once"]) == 1
    store = open_store(db)
    try:
        runs = store.read_runs(job="daemon").set_index("key")
        assert runs.loc["collect:ripe-atlas", "status"] == "ok"
        assert runs.loc["collect:ioda", "status"] == "error"
        error = runs.loc["collect:ioda", "error"]
        assert "\n" not in error and "malformed JSON" in error, error
        assert len(store.read_probe_events(entities=["country/KE"])) > 0
        assert store.get_cursor(job_name("ioda"), "country/IR") is None
        assert store.get_cursor(job_name("ripe-atlas"), "country/KE") == pd.Timestamp("2016-06-03", tz="UTC")
    finally:
        store.close()
    figures.add(kind="fault", fault="daemon: one source broken (HTML page)", version="persistent",
                injected=proxy.faults()["content_type"], outcome="others kept running", detail=error)


def test_stored_points_are_exactly_the_points_served(store, proxy, make_client):
    """The proxy's own account of what it served agrees with the store (the crash test relies on it)."""
    proxy.plan = first(2, Misbehave("reset"), "/v2/signals")
    for i in range(2):
        assert phase(store, "ioda", proxy.base_urls["ioda"], make_client("ioda"), i, IODA_PHASES).ok
    stored = store.read_signals()
    keys = {(e, d, int(t.timestamp())): (None if pd.isna(v) else v)
            for e, d, t, v in zip(stored["entity"], stored["datasource"], stored["time"], stored["value"])}
    assert keys == proxy.served


def test_timeout_bounds_a_body_that_trickles_in(proxy, make_client, figures):
    """A server that sends one byte every 50 ms never trips the per-read socket timeout; the
    client's `timeout` must still bound the whole answer, or one slow-loris host stalls a source."""
    proxy.plan = always(Misbehave("trickle", delay=0.05, hold=3.0))
    client = make_client("ioda", timeout=0.3, retries=0)
    began = time.monotonic()
    with pytest.raises(SourceError) as caught:
        client.get_json(f"{proxy.base_urls['ioda']}/signals/raw/country/IR",
                        {"from": 1573941600, "until": 1574553600})
    elapsed = time.monotonic() - began
    figures.add(kind="fault", fault="body trickles in (1 byte / 50 ms)", version="persistent", injected=1,
                outcome="clear error" if elapsed < 1.5 else f"held {elapsed:.1f} s", detail=str(caught.value))
    assert elapsed < 1.5, f"a 0.3 s timeout let a trickling body hold the client for {elapsed:.1f} s"
