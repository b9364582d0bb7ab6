"""Kleinberg's multi-level burst detection and RIPE Atlas disconnection bursts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.detect.bursts import detect_bursts, kleinberg_levels, threshold_level
from monitor.detect.params import BurstParams
from monitor.errors import InputError
from monitor.frames import PROBE_EVENT_COLUMNS


def _viterbi(times, s, gamma, levels):
    """Kleinberg's automaton with `levels` states solved with the full k x k cost table (reference)."""
    gaps = np.maximum(np.diff(times), 1.0)
    n = len(gaps)
    rates = n / gaps.sum() * s ** np.arange(levels)
    tau = gamma * np.log(n)
    move = np.array([[max(j - i, 0) * tau for j in range(levels)] for i in range(levels)])  # i -> j
    cost = np.r_[0.0, np.full(levels - 1, np.inf)]
    back = np.zeros((n, levels), dtype=int)
    for t, x in enumerate(gaps):
        total = cost[:, None] + move
        back[t] = np.argmin(total, axis=0)
        cost = total.min(axis=0) + rates * x - np.log(rates)
    state, states = int(np.argmin(cost)), []
    for t in range(n - 1, -1, -1):
        states.append(state)
        state = back[t, state]
    return np.array(states[::-1])


@pytest.mark.parametrize("seed", range(8))
def test_multi_level_recursion_equals_the_full_viterbi(seed):
    rng = np.random.default_rng(seed)
    calm = np.cumsum(rng.exponential(600, 200))
    storm = calm[rng.integers(20, 180)] + np.cumsum(rng.exponential(rng.uniform(2, 30), rng.integers(5, 30)))
    times = np.sort(np.r_[calm, storm])
    found = kleinberg_levels(times, 2.0, 0.5)
    gaps = np.maximum(np.diff(times), 1.0)
    top = int(np.ceil(np.log2(gaps.sum() / len(gaps) / gaps.min()))) + 1  # the same bound on levels
    np.testing.assert_array_equal(found, _viterbi(times, 2.0, 0.5, top + 1))
    assert found.max() >= 2  # the storm climbs above the first level


def test_denser_cluster_is_a_higher_level():
    times = np.r_[np.arange(0, 100_000, 1000.0), 30_010 + np.arange(20) * 100.0, 70_010 + np.arange(20) * 5.0]
    times.sort()
    levels = kleinberg_levels(times)
    slow = levels[(times[:-1] > 30_000) & (times[:-1] < 31_900)]
    fast = levels[(times[:-1] > 70_000) & (times[:-1] < 70_090)]
    assert slow.min() >= 1 and fast.min() > slow.max()
    assert kleinberg_levels(np.arange(0, 100_000, 1000.0)).sum() == 0  # a steady stream has none


def test_threshold_level_grows_with_the_probes_an_outage_needs():
    # a stream of 1000 disconnections over 100 days; half the probes within an hour
    levels = [threshold_level(p, BurstParams(), 1000, 100 * 86400.0) for p in (10, 40, 160)]
    assert levels == sorted(levels) and levels[0] < levels[-1]
    assert threshold_level(10, BurstParams(span=pd.Timedelta("30D")), 1000, 100 * 86400.0) == 1


def _events(rows):
    frame = pd.DataFrame(rows, columns=["probe_id", "asn", "seconds", "event"])
    return pd.DataFrame({"entity": "country/XX", "probe_id": frame["probe_id"],
                         "asn": frame["asn"].astype("Int64"),
                         "time": pd.to_datetime(frame["seconds"], unit="s", utc=True),
                         "event": frame["event"]})[PROBE_EVENT_COLUMNS]


WAVE = 400_000


def _flapping_and_wave(probes=12, wave=10, reconnect=1800):
    """Probes that flap now and then over ten days (never near the wave), and a wave taking `wave`
    of them down within five minutes."""
    rng = np.random.default_rng(0)
    rows = []
    for p in range(probes):
        flaps = rng.uniform(0, 800_000, 3)
        for t in np.sort(np.where(flaps > WAVE - 20_000, flaps + 40_000, flaps)):
            rows += [(p, 100 + p % 3, t, "disconnect"), (p, 100 + p % 3, t + 120, "connect")]
    for p in range(wave):
        t = WAVE + 30 * p
        rows += [(p, 100 + p % 3, t, "disconnect"), (p, 100 + p % 3, t + reconnect + 10 * p, "connect")]
    return _events(rows)


def test_wave_of_disconnections_is_one_outage_to_the_median_reconnection():
    found = detect_bursts(_flapping_and_wave())
    assert len(found) == 1
    row = found.iloc[0]
    assert row["start"] == pd.Timestamp(WAVE, unit="s", tz="UTC")
    reconnects = WAVE + 30 * np.arange(10) + 1800 + 10 * np.arange(10)
    assert row["end"] == pd.Timestamp(int(np.median(reconnects)), unit="s", tz="UTC")
    assert row["depth"] == pytest.approx(10 / 12) and not row["open"]
    assert row["detail"]["disconnected"] == 10 and row["detail"]["asns"] == [100, 101, 102]
    assert row["detail"]["level"] >= row["detail"]["threshold_level"] >= 1
    assert row["datasource"] == "ripe-atlas" and row["method"] == "kleinberg"


def test_small_wave_is_not_an_outage_of_the_entity():
    assert detect_bursts(_flapping_and_wave(wave=4)).empty  # 4 of 12 probes < half
    found = detect_bursts(_flapping_and_wave(wave=4), BurstParams(min_fraction=0.3))
    assert list(found["start"]) == [pd.Timestamp(WAVE, unit="s", tz="UTC")]


def test_slow_drizzle_of_flaps_is_not_an_outage():
    rng = np.random.default_rng(5)
    rows = []
    for p, t in enumerate(np.sort(rng.uniform(0, 18 * 3600, 12))):  # 12 probes, one flap each, 18 h
        rows += [(p, 100, t, "disconnect"), (p, 100, t + 120, "connect")]
    for p in range(12):  # a calm week around them
        for t in rng.uniform(100_000, 700_000, 2):
            rows += [(p, 100, t, "disconnect"), (p, 100, t + 120, "connect")]
    events = _events(rows)
    assert detect_bursts(events, BurstParams(span=pd.Timedelta("30D"))).shape[0] == 1  # a Kleinberg burst
    assert detect_bursts(events).empty  # but never half of the probes within an hour


def test_entities_with_few_probes_are_not_judged():
    events = _flapping_and_wave(probes=9, wave=9)
    assert detect_bursts(events).empty
    assert len(detect_bursts(events, BurstParams(min_probes=5))) == 1
    # a known probe count (e.g. from the probe list) overrides the count seen in the events
    assert detect_bursts(_flapping_and_wave(), probe_counts={"country/XX": 40}).empty


def test_outage_without_reconnections_stays_open():
    events = _flapping_and_wave(reconnect=10**7)
    events = events[events["time"] < pd.Timestamp(WAVE + 3600, unit="s", tz="UTC")]  # the data stops
    row = detect_bursts(events).iloc[0]
    assert row["open"] and row["end"] == events["time"].max()


def test_bad_frame_is_refused():
    with pytest.raises(InputError, match="event"):
        detect_bursts(pd.DataFrame({"entity": [], "time": []}))
