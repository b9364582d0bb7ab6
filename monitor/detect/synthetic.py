"""Realistic synthetic signals for measuring false outages and checking scenarios (seeded).

Shapes follow what IODA's signals look like for one network or country: BGP is an integer count of
visible /24s that is flat except for routine flaps (one block withdrawn for 15-40 minutes, about 20
times a month) and rare lasting one-block changes; active probing is an integer count of responsive
/24s with a daily cycle and 1-2 % noise; "noisy BGP" is a large count with 1 % noise. The benchmark
`benchmarks/bench_evaluate.py` and the tests use the same functions with fixed seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitor.frames import SIGNAL_COLUMNS

START = pd.Timestamp("2024-01-01", tz="UTC")


def _frame(entity: str, datasource: str, step: str, values: np.ndarray, start=START) -> pd.DataFrame:
    times = pd.date_range(start, periods=len(values), freq=step, tz="UTC")
    return pd.DataFrame({"entity": entity, "datasource": datasource, "time": times,
                         "value": np.asarray(values, dtype=float)})[SIGNAL_COLUMNS]


def flapping_bgp(seed: int, days: int = 30, blocks: int = 60, flaps_per_month: float = 20,
                 entity: str = "asn/64500", step: str = "5min") -> pd.DataFrame:
    """Visible /24s of a quiet network: `blocks`, minus one block during each 15-40 min flap, with a
    lasting one-block change (a prefix added or dropped) about every 10 days."""
    rng = np.random.default_rng(seed)
    step_s = int(pd.Timedelta(step).total_seconds())
    n = days * 86400 // step_s
    values = np.full(n, float(blocks))
    for _ in range(rng.poisson(flaps_per_month * days / 30)):
        at = int(rng.integers(0, n))
        length = int(rng.uniform(15, 40) * 60 // step_s) + 1
        values[at:at + length] -= 1
    for _ in range(rng.poisson(days / 10)):
        values[int(rng.integers(0, n)):] += rng.choice([-1.0, 1.0])
    return _frame(entity, "bgp", step, values)


def noisy_bgp(seed: int, days: int = 30, level: float = 2000, noise: float = 0.01,
              entity: str = "asn/64501", step: str = "5min") -> pd.DataFrame:
    """A large BGP count with 1 % independent noise per bin, rounded."""
    rng = np.random.default_rng(seed)
    n = days * 86400 // int(pd.Timedelta(step).total_seconds())
    return _frame(entity, "bgp", step, np.round(level * (1 + rng.normal(0, noise, n))))


def diurnal_probing(seed: int, days: int = 30, level: float | None = None, swing: float | None = None,
                    noise: float | None = None, entity: str = "asn/64502", datasource: str = "ping-slash24",
                    step: str = "10min") -> pd.DataFrame:
    """Responsive /24s: a daily cycle (night trough `swing` below the day, default 10-35 %) with
    1-2 % noise, rounded; level 200-5,000 unless given."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(200, 5000) if level is None else level
    swing = rng.uniform(0.1, 0.35) if swing is None else swing
    noise = rng.uniform(0.01, 0.02) if noise is None else noise
    times = pd.date_range(START, periods=days * 86400 // int(pd.Timedelta(step).total_seconds()), freq=step)
    hour = (times.hour + times.minute / 60).to_numpy() + rng.uniform(0, 24)
    shape = 1.0 - swing * (0.5 + 0.5 * np.cos(2 * np.pi * (hour - 3.0) / 24.0))
    values = np.round(level * shape * (1 + rng.normal(0, noise, len(times))))
    return _frame(entity, datasource, step, values)


def quiet_store(seed: int = 1, entities: int = 50, days: int = 60) -> pd.DataFrame:
    """`entities` networks, each with a flapping BGP count and diurnal active probing, and as many
    large noisy BGP counts: no outage anywhere."""
    frames = []
    for i in range(entities):
        frames.append(flapping_bgp(seed * 1000 + i, days, blocks=int(np.random.default_rng(i).integers(20, 200)),
                                   entity=f"asn/{64512 + i}"))
        frames.append(diurnal_probing(seed * 1000 + i, days, entity=f"asn/{64512 + i}"))
        frames.append(noisy_bgp(seed * 1000 + i, days, entity=f"asn/{65000 + i}"))
    return pd.concat(frames, ignore_index=True)


def cut(frame: pd.DataFrame, start: str | pd.Timestamp, hours: float, keep: float = 0.0,
        datasources=None) -> pd.DataFrame:
    """`frame` with its values scaled by `keep` for `hours` from `start` (an outage)."""
    start = pd.Timestamp(start)
    start = start.tz_localize("UTC") if start.tzinfo is None else start
    inside = (frame["time"] >= start) & (frame["time"] < start + pd.Timedelta(hours=hours))
    if datasources is not None:
        inside &= frame["datasource"].isin(list(datasources))
    out = frame.copy()
    out.loc[inside, "value"] = np.round(out.loc[inside, "value"] * keep)
    return out
