"""Detection end to end, pure and over the store; DetectParams from the [detect] config section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.config import build, parse_config
from monitor.detect.params import AUTO, PRESETS, DetectParams
from monitor.detect.run import detect_outages, run_detection
from monitor.errors import ConfigError
from monitor.frames import OUTAGE_COLUMNS, SIGNAL_COLUMNS


def synthetic(entity="asn/64512", drop=(600, 660), days=4, datasource="bgp"):
    """Five-minute BGP-like counts with one 5-hour drop to 40 %."""
    times = pd.date_range("2024-05-01", periods=days * 288, freq="5min", tz="UTC")
    values = np.full(len(times), 5000.0)
    if drop:
        values[drop[0]:drop[1]] = 2000.0
    return pd.DataFrame({"entity": entity, "datasource": datasource, "time": times, "value": values})


def test_detect_outages_is_pure(iran):
    before = iran.copy()
    outages = detect_outages(iran)
    pd.testing.assert_frame_equal(iran, before)
    assert list(outages.columns) == OUTAGE_COLUMNS
    assert set(outages["source"]) == {"detected"} and outages["start"].dt.tz is not None


def test_signals_and_probe_events_together(iran, kenya_probe_events):
    outages = detect_outages(iran, kenya_probe_events)
    assert sorted(outages["entity"]) == ["country/IR", "country/KE"]


def test_stored_detection_replaces_never_duplicates(sqlite_store, iran):
    sqlite_store.write_signals(iran)
    first = run_detection(sqlite_store)
    assert len(first) == 1
    again = run_detection(sqlite_store)
    stored = sqlite_store.read_outages(sources=["detected"])
    assert len(stored) == 1 and list(stored["outage_id"]) == list(first["outage_id"])
    assert list(again["outage_id"]) == list(first["outage_id"])
    # a window in the middle of the outage redoes it whole, with its real start and end
    middle = run_detection(sqlite_store, start="2019-11-20", end="2019-11-21")
    stored = sqlite_store.read_outages(sources=["detected"])
    assert len(stored) == 1 and stored.iloc[0]["start"] == first.iloc[0]["start"]
    assert stored.iloc[0]["end"] == first.iloc[0]["end"] and len(middle) == 1
    assert stored.iloc[0]["detail"]["datasources"]["bgp"]["open"] is True  # detail round-trips


def test_corrected_data_removes_a_stored_outage(sqlite_store):
    sqlite_store.write_signals(synthetic())
    assert len(run_detection(sqlite_store)) == 1
    sqlite_store.write_signals(synthetic(drop=None))  # the dip was a collection error, now fixed
    assert run_detection(sqlite_store).empty
    assert sqlite_store.read_outages(sources=["detected"]).empty


def test_entities_limit_what_is_replaced(sqlite_store):
    sqlite_store.write_signals(pd.concat([synthetic("asn/1"), synthetic("asn/2", drop=(700, 760))]))
    run_detection(sqlite_store)
    assert sorted(sqlite_store.read_outages(sources=["detected"])["entity"]) == ["asn/1", "asn/2"]
    sqlite_store.write_signals(synthetic("asn/2", drop=None))
    run_detection(sqlite_store, entities=["asn/2"])
    assert list(sqlite_store.read_outages(sources=["detected"])["entity"]) == ["asn/1"]


def test_reference_outages_are_left_alone(sqlite_store, iran):
    reference = pd.DataFrame([{"outage_id": "ioda-events:1", "source": "ioda-events", "entity": "country/IR",
                               "country": "IR", "start": pd.Timestamp("2019-11-16 14:00", tz="UTC"),
                               "end": pd.Timestamp("2019-11-24 20:30", tz="UTC"), "datasources": ["bgp"],
                               "depth": None, "score": 1.0, "method": "ioda", "detail": {}}])
    sqlite_store.write_outages(reference)
    sqlite_store.write_signals(iran)
    run_detection(sqlite_store)
    run_detection(sqlite_store)
    assert sorted(sqlite_store.read_outages()["source"]) == ["detected", "ioda-events"]


def test_probe_events_from_the_store(sqlite_store, kenya_probe_events):
    sqlite_store.write_probe_events(kenya_probe_events)
    outages = run_detection(sqlite_store)  # no signals at all: the window follows the probe events
    assert list(outages["datasources"]) == [["ripe-atlas"]]
    assert len(run_detection(sqlite_store, start="2016-06-01", end="2016-06-08")) == 1
    assert len(sqlite_store.read_outages(sources=["detected"])) == 1


def test_empty_store_detects_nothing(sqlite_store):
    assert run_detection(sqlite_store).empty
    assert detect_outages(pd.DataFrame(columns=SIGNAL_COLUMNS)).empty


def test_config_section_overrides_presets():
    params = build(DetectParams, {"merge_gap": "1h", "datasources": {"bgp": {"warning": 0.98, "window": "12h"}},
                                  "auto": {"window": "72h"}, "bursts": {"min_probes": 5}}, "[detect]")
    assert params.merge_gap == pd.Timedelta("1h") and params.bursts.min_probes == 5
    bgp = params.rule_for("bgp")
    assert bgp.warning == 0.98 and bgp.window == pd.Timedelta("12h")
    assert bgp.critical == PRESETS["bgp"].critical  # the rest of the preset stays
    assert params.rule_for("ping-slash24") == PRESETS["ping-slash24"]
    mine = params.rule_for("my-counts")
    assert mine.window == pd.Timedelta("3D") and mine.warning == AUTO.warning


@pytest.mark.parametrize("section,message", [
    ({"merge_gaps": "1h"}, "unknown key 'merge_gaps'"),
    ({"datasources": {"bgp": {"warnin": 0.9}}}, "warnin"),
    ({"datasources": {"bgp": {"warning": 1.5}}}, "warning must be in"),
    ({"datasources": {"bgp": {"critical": 0.995}}}, "critical 0.995 is above warning"),
    ({"datasources": {"bgp": {"window": "soon"}}}, "window"),
    ({"bursts": {"gamma": -1}}, "gamma"),
    ({"min_datasources": 0}, "min_datasources"),
])
def test_bad_config_is_a_config_error_naming_the_key(section, message):
    with pytest.raises(ConfigError, match=message):
        build(DetectParams, section, "monitor.toml: [detect]")


def test_detect_params_from_a_config_file_section():
    config = parse_config({"detect": {"datasources": {"merit-nt": {"min_duration": "1h"}}}})
    params = build(DetectParams, config.detect, "[detect]")
    assert params.rule_for("merit-nt").min_duration == pd.Timedelta("1h")
    # the verdict on a bin needs the longest window (+ pool) and the re-baselining maximum before it
    assert params.longest_window == pd.Timedelta("7D") + pd.Timedelta("30min") + pd.Timedelta("7D")
