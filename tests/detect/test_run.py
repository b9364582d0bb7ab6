"""Detection end to end, pure and over the store; DetectParams from the [detect] config section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.config import build, parse_config
from monitor.detect.params import AUTO, PRESETS, DetectParams
from monitor.detect.synthetic import cut, diurnal_probing, flapping_bgp, quiet_store
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


# -- scenarios from real use (synthetic series shaped like real ones: monitor/detect/synthetic.py) ---

def test_flapping_network_with_one_real_outage_is_exactly_one_outage():
    signals = cut(flapping_bgp(seed=14, days=30, blocks=60), "2024-01-17 03:00", hours=6)
    outages = detect_outages(signals)
    assert len(outages) == 1
    assert abs(outages.iloc[0]["start"] - pd.Timestamp("2024-01-17 03:00", tz="UTC")) <= pd.Timedelta("5min")
    assert outages.iloc[0]["detail"]["severity"] == "near-total"


def test_a_permanent_partial_drop_becomes_the_new_normal_within_the_maximum():
    probing = diurnal_probing(seed=3, days=40, noise=0.015)
    renumbered = cut(probing, "2024-01-10", hours=24 * 40, keep=0.7)  # 30 % fewer /24s for good
    outages = detect_outages(renumbered)
    assert len(outages) >= 1
    first = outages.iloc[0]
    assert abs(first["start"] - pd.Timestamp("2024-01-10", tz="UTC")) <= pd.Timedelta("10min")
    assert pd.notna(first["end"]) and first["end"] - first["start"] <= PRESETS["ping-slash24"].rebaseline
    assert first["detail"]["datasources"]["ping-slash24"]["depth"] == pytest.approx(0.3, abs=0.05)
    assert outages["end"].notna().all() and outages["end"].max() < pd.Timestamp("2024-01-20", tz="UTC")


def test_a_near_total_drop_stays_one_open_long_running_outage():
    probing = diurnal_probing(seed=4, days=40)
    outages = detect_outages(cut(probing, "2024-01-10", hours=24 * 40, keep=0.02))
    assert len(outages) == 1 and pd.isna(outages.iloc[0]["end"])
    assert outages.iloc[0]["detail"]["long_running"] and outages.iloc[0]["detail"]["severity"] == "near-total"


def test_a_shutdown_with_two_hours_missing_in_the_middle_is_one_outage():
    signals = pd.concat([flapping_bgp(seed=5, days=10, blocks=300, entity="country/ZZ"),
                         diurnal_probing(seed=5, days=10, entity="country/ZZ")], ignore_index=True)
    signals = cut(signals, "2024-01-06 08:00", hours=6, keep=0.03)
    missing = (signals["time"] >= pd.Timestamp("2024-01-06 10:00", tz="UTC")) & \
              (signals["time"] < pd.Timestamp("2024-01-06 12:00", tz="UTC"))
    outages = detect_outages(signals[~missing])  # rows absent: no data, as a collector leaves it
    assert len(outages) == 1
    row = outages.iloc[0]
    assert row["start"] == pd.Timestamp("2024-01-06 08:00", tz="UTC")
    assert row["end"] == pd.Timestamp("2024-01-06 14:00", tz="UTC")
    assert row["detail"]["nodata_minutes"] == {"bgp": 120.0, "ping-slash24": 120.0}


@pytest.mark.parametrize("later_noise", [0.02, 0.15])
def test_a_dip_is_judged_the_same_whatever_comes_later(later_noise):
    """A datasource without a preset: its thresholds come from the past only."""
    rng = np.random.default_rng(10)
    hours = 24 * 60
    values = 1000 * (1 + rng.normal(0, 0.02, hours))
    values[24 * 15:] = 1000 * (1 + rng.normal(0, later_noise, hours - 24 * 15))
    values[24 * 10 + 6: 24 * 10 + 12] *= 0.72  # the 28 % dip on day 10
    times = pd.date_range("2024-01-01", periods=hours, freq="1h", tz="UTC")
    signals = pd.DataFrame({"entity": "country/ZZ", "datasource": "my-counts", "time": times, "value": values})
    early = detect_outages(signals)
    early = early[early["start"] < pd.Timestamp("2024-01-15", tz="UTC")]
    assert len(early) == 1 and early.iloc[0]["start"] == times[24 * 10 + 6]
    assert early.iloc[0]["end"] == times[24 * 10 + 12]


@pytest.mark.parametrize("at", ["2024-01-12 09:00", "2024-01-20 00:00", "2024-02-05 17:30"])
def test_detection_up_to_a_cut_does_not_depend_on_what_follows(at):
    signals = pd.concat([flapping_bgp(seed=8, days=45, blocks=120, entity="country/ZZ"),
                         diurnal_probing(seed=8, days=45, entity="country/ZZ")], ignore_index=True)
    for start, keep in (("2024-01-11 20:00", 0.0), ("2024-01-19 22:00", 0.5), ("2024-02-05 12:00", 0.6)):
        signals = cut(signals, start, hours=9, keep=keep)
    signals = cut(signals, "2024-01-25", hours=24 * 20, keep=0.75, datasources=["ping-slash24"])
    cut_at = pd.Timestamp(at, tz="UTC")
    full = detect_outages(signals)
    truncated = detect_outages(signals[signals["time"] < cut_at])
    settled = cut_at - pd.Timedelta("1h")  # an end needs its recovery confirmed

    def done(frame):
        return frame[frame["end"].notna() & (frame["end"] <= settled)][["start", "end", "depth", "score"]] \
            .reset_index(drop=True)

    assert len(done(full)) >= 1
    pd.testing.assert_frame_equal(done(full), done(truncated))
    ongoing = truncated[truncated["end"].isna()]
    assert (ongoing["start"].isin(full["start"])).all()  # what is under way at the cut began then too


def test_a_confirming_datasource_never_lowers_the_score():
    quiet = pd.concat([flapping_bgp(seed=9, days=10, blocks=300, entity="country/ZZ"),
                       diurnal_probing(seed=9, days=10, entity="country/ZZ")], ignore_index=True)
    one = detect_outages(cut(quiet, "2024-01-06", hours=4, keep=0.5, datasources=["bgp"]))
    both = detect_outages(cut(cut(quiet, "2024-01-06", hours=4, keep=0.5, datasources=["bgp"]),
                              "2024-01-06", hours=2, keep=0.6, datasources=["ping-slash24"]))
    assert len(one) == len(both) == 1 and both.iloc[0]["datasources"] == ["bgp", "ping-slash24"]
    assert both.iloc[0]["score"] > one.iloc[0]["score"]


def test_quiet_realistic_series_make_at_most_half_a_false_outage_per_entity_month():
    store = quiet_store(seed=2, entities=10, days=60)
    outages = detect_outages(store)
    entity_months = store["entity"].nunique() * 60 / 30.44
    assert len(outages) / entity_months <= 0.5, outages[["entity", "start", "datasources", "depth"]]


def test_stored_outages_of_an_asn_know_its_country(sqlite_store):
    signals = cut(flapping_bgp(seed=11, days=5, blocks=80, entity="asn/44244"), "2024-01-03 10:00", hours=3)
    sqlite_store.write_signals(signals)
    sqlite_store.write_entity_places(pd.DataFrame({"entity": ["asn/44244"], "country": ["IR"],
                                                   "name": ["Irancell"], "source": ["ripestat"]}))
    run_detection(sqlite_store)
    stored = sqlite_store.read_outages(sources=["detected"])
    assert len(stored) == 1 and stored.iloc[0]["country"] == "IR"


def _atlas(probes: int, days: int, seed: int, collapse: tuple[float, float, float] | None = None):
    """(signals, probe events) of a country's RIPE Atlas probes with routine churn: one or two
    probes at a time leave (3 min to 6 h, now and then a few days) and return, about one
    disconnection per probe per day; `collapse` = (day, share of probes, hours) adds a collapse
    taking that share down within ten minutes."""
    from monitor.sources.ripe_atlas import connection_series
    rng = np.random.default_rng(seed)
    span, rows = days * 86400, []
    t = 0.0
    while True:
        t += rng.exponential(86400 / probes)
        if t >= span:
            break
        away = 86400 * rng.uniform(1, 4) if rng.random() < 0.02 else 60 * np.exp(rng.uniform(np.log(3), np.log(360)))
        for p in rng.choice(probes, size=rng.choice([1, 2], p=[0.7, 0.3]), replace=False):
            rows += [(p, t, "disconnect"), (p, min(t + away, span + 86400 * 5), "connect")]
    if collapse:
        day, share, hours = collapse
        for p in rng.choice(probes, size=int(round(share * probes)), replace=False):
            at = day * 86400 + rng.uniform(0, 600)
            rows += [(p, at, "disconnect"), (p, at + hours * 3600 + rng.uniform(0, 900), "connect")]
    frame = pd.DataFrame(rows, columns=["probe_id", "secs", "event"]).sort_values("secs", kind="stable")
    frame = frame[frame["secs"] < span]
    # a probe's own log never shows two disconnections in a row: keep its events alternating
    frame = frame[frame["event"] != frame.groupby("probe_id")["event"].shift()]
    start = pd.Timestamp("2024-03-01", tz="UTC")
    events = pd.DataFrame({"entity": "country/XX", "probe_id": frame["probe_id"].astype("int64"),
                           "asn": pd.array(64500 + frame["probe_id"] % 5, dtype="Int64"),
                           "time": start + pd.to_timedelta(frame["secs"].round(), unit="s"),
                           "event": frame["event"]}).reset_index(drop=True)
    signals = connection_series(events, dict.fromkeys(range(probes), True), "country/XX", start,
                                start + pd.Timedelta(days=days), pd.Timedelta("5min"))
    return signals, events


@pytest.mark.parametrize("probes, seed", [(10, 1), (15, 2), (25, 3), (40, 4)])
def test_routine_probe_churn_is_no_outage(probes, seed):
    signals, events = _atlas(probes, days=28, seed=seed)
    connected = signals[signals["datasource"] == "atlas-connected"]["value"]
    assert connected.min() < probes - 2  # the churn does take probes away, several at times
    assert detect_outages(signals, events).empty


@pytest.mark.parametrize("probes, seed", [(12, 5), (30, 6)])
def test_collapse_of_probes_is_one_outage(probes, seed):
    signals, events = _atlas(probes, days=28, seed=seed, collapse=(20.5, 0.7, 4))
    outages = detect_outages(signals, events)
    assert len(outages) == 1
    row = outages.iloc[0]
    at = pd.Timestamp("2024-03-21T12:00Z")
    # from the collapse's first disconnection, or an unrelated one just before it that the burst takes
    # in (the two-state automaton started 7.5 h early here, at the first of a day of churn)
    assert at - pd.Timedelta("30min") <= row["start"] <= at + pd.Timedelta("10min")
    assert at + pd.Timedelta("4h") <= row["end"] <= at + pd.Timedelta("5h")
    assert "ripe-atlas" in row["datasources"] and row["depth"] >= 0.6


def test_counts_of_events_are_never_judged_by_a_level_rule():
    quiet_then_none = synthetic(datasource="atlas-disconnects", drop=(600, 900))
    assert detect_outages(quiet_then_none).empty
    mine = quiet_then_none.assign(datasource="my-events")
    assert len(detect_outages(mine)) == 1  # the same drop in a level is an outage ...
    params = DetectParams(datasources={"my-events": {"judge": False}})
    assert detect_outages(mine, params=params).empty  # ... unless the user says it counts events
