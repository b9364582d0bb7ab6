"""The bundled real data as fixtures (loaders in monitor/detect/bundled.py), a synthetic diurnal
signal and IODA's rule as a plain loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.detect.bundled import (BAGO_OFFSET, load_bago, load_iran, load_kenya_probe_events,
                                    load_venezuela)


@pytest.fixture(scope="session")
def iran() -> pd.DataFrame:
    return load_iran()


@pytest.fixture(scope="session")
def kenya_probe_events() -> pd.DataFrame:
    return load_kenya_probe_events()


@pytest.fixture(scope="session")
def bago() -> pd.DataFrame:
    return load_bago()


@pytest.fixture(scope="session")
def bago_offset() -> pd.Timedelta:
    return BAGO_OFFSET


@pytest.fixture(scope="session")
def venezuela() -> pd.DataFrame:
    return load_venezuela()


@pytest.fixture(scope="session")
def synthetic_diurnal():
    """A factory of synthetic diurnal signals without outages (see make_diurnal)."""
    return make_diurnal


@pytest.fixture(scope="session")
def ioda_reference():
    """IODA's rule as a plain loop (see ioda_rule)."""
    return ioda_rule


def make_diurnal(seed: int = 1, days: int = 7, step: str = "10min", level: float = 10_000.0,
                 swing: float = 0.35, noise: float = 0.02, entity: str = "country/ZZ",
                 datasource: str = "ping-slash24") -> pd.DataFrame:
    """A synthetic signal: a daily cycle (night trough `swing` below the day) with noise, no outage."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2024-03-04", periods=int(pd.Timedelta(days=days) / pd.Timedelta(step)),
                          freq=step, tz="UTC")
    hour = (times.hour + times.minute / 60).to_numpy()
    shape = 1.0 - swing * (0.5 + 0.5 * np.cos(2 * np.pi * (hour - 3.0) / 24.0))
    values = level * shape * (1.0 + rng.normal(0.0, noise, len(times)))
    return pd.DataFrame({"entity": entity, "datasource": datasource, "time": times, "value": values})


def ioda_rule(values: np.ndarray, window: int, warning: float, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """IODA's published rule, bin by bin and plainly: the median of the last `window` bins' values
    not already judged abnormal (the last median carried on when fewer than `min_count` remain);
    a value below warning x that median is abnormal. The reference the accuracy tests check against."""
    base = np.full(len(values), np.nan)
    abnormal = np.zeros(len(values), dtype=bool)
    for t in range(len(values)):
        lo = max(0, t - window)
        history = values[lo:t][~abnormal[lo:t] & np.isfinite(values[lo:t])]
        base[t] = np.median(history) if len(history) >= min_count else (base[t - 1] if t else np.nan)
        abnormal[t] = bool(values[t] < warning * base[t])
    return base, abnormal
