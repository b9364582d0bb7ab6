"""Kleinberg's two-state burst detection and RIPE Atlas disconnection bursts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.detect.bursts import detect_bursts, kleinberg_states
from monitor.detect.params import BurstParams
from monitor.errors import InputError
from monitor.frames import PROBE_EVENT_COLUMNS


def _viterbi(times, s, gamma):
    """Kleinberg's two-state automaton solved with the full cost table (reference)."""
    gaps = np.diff(times)
    n = len(gaps)
    rates = np.array([n / gaps.sum(), s * n / gaps.sum()])
    tau = gamma * np.log(n)
    cost = np.array([0.0, np.inf])
    back = np.zeros((n, 2), dtype=int)
    for i, x in enumerate(gaps):
        emit = rates * x - np.log(rates)
        to0 = np.array([cost[0], cost[1]])          # leaving the burst is free
        to1 = np.array([cost[0] + tau, cost[1]])    # entering it costs tau
        back[i] = [np.argmin(to0), np.argmin(to1)]
        cost = np.array([to0.min(), to1.min()]) + emit
    state, states = int(np.argmin(cost)), []
    for i in range(n - 1, -1, -1):
        states.append(state)
        state = back[i, state]
    return np.array(states[::-1])


@pytest.mark.parametrize("seed", range(8))
def test_two_state_recursion_equals_the_full_viterbi(seed):
    rng = np.random.default_rng(seed)
    calm = np.cumsum(rng.exponential(600, 200))
    storm = calm[rng.integers(20, 180)] + np.cumsum(rng.exponential(rng.uniform(20, 200), rng.integers(3, 30)))
    times = np.sort(np.r_[calm, storm])
    np.testing.assert_array_equal(kleinberg_states(times, 2.0, 0.5), _viterbi(times, 2.0, 0.5))


def test_dense_cluster_is_the_burst():
    times = np.r_[np.arange(0, 100_000, 1000.0), 50_010 + np.arange(20) * 10.0]
    times.sort()
    states = kleinberg_states(times)
    burst = np.flatnonzero(states)
    assert times[burst[0]] >= 49_000 and times[burst[-1] + 1] <= 51_000
    assert kleinberg_states(np.arange(0, 100_000, 1000.0)).sum() == 0  # a steady stream has none


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
