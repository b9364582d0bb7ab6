"""Loaders turning the bundled real data (data/, see each folder's PROVENANCE.md) into the frames
detection takes: signal frames (SIGNAL_COLUMNS) and RIPE Atlas probe events (PROBE_EVENT_COLUMNS).

Entities and datasource names for the Monash data are ours: Bago (a city) has no IODA region id,
so its series is `country/MM` with the datasource `ipo-bago`, which names the place; Venezuela's
13 state indices are averaged into `country/VE`, datasource `ipo-index`. Neither has a preset, so
detection chooses their rules from the series themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitor.frames import PROBE_EVENT_COLUMNS, SIGNAL_COLUMNS

DATA = Path(__file__).resolve().parents[2] / "data"
IRAN = DATA / "ioda-iran-2019"
BAGO_OFFSET = pd.Timedelta(hours=6, minutes=30)   # Myanmar, UTC+6:30 (UPSTREAM_README.md)
VENEZUELA_OFFSET = pd.Timedelta(hours=-4)         # Venezuela, UTC-4 (PROVENANCE.md)


def _ioda_csv(path: Path, datasource: str) -> pd.DataFrame:
    raw = pd.read_csv(path)
    return pd.DataFrame({"entity": "country/IR", "datasource": datasource,
                         "time": pd.to_datetime(raw["timestamp"], utc=True),
                         "value": raw["value"].astype("float64")})[SIGNAL_COLUMNS]


def load_iran() -> pd.DataFrame:
    """IODA's country-level active probing (10 min) and BGP (5 min, a 2-day window) for Iran."""
    ap = _ioda_csv(IRAN / "20191123-ioda-iran-countrywide-active-probing.csv", "ping-slash24")
    bgp = _ioda_csv(IRAN / "20191123-ioda-iran-countrywide-bgp_window_2019-11-15T17_2019-11-17T20.csv", "bgp")
    return pd.concat([ap, bgp], ignore_index=True)


def load_kenya_probe_events() -> pd.DataFrame:
    """RIPE Atlas connection log (measurement 7000) of Kenya's probes, 2016-06-01..07."""
    path = DATA / "ripe-atlas-kenya-2016" / "ke_msm7000_2016-06-01_07.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    raw = pd.DataFrame(records)
    return pd.DataFrame({"entity": "country/KE", "probe_id": raw["prb_id"].astype("int64"),
                         "asn": pd.to_numeric(raw["asn"]).astype("Int64"),
                         "time": pd.to_datetime(raw["timestamp"], unit="s", utc=True),
                         "event": raw["event"]})[PROBE_EVENT_COLUMNS]


def load_bago() -> pd.DataFrame:
    """Bago raw pings -> distinct responding addresses per local hour, times in UTC.

    Hours between the first and the last observation without any answer count 0 (the observatory
    kept pinging); outside that span there is no data, so no rows.
    """
    raw = pd.read_csv(DATA / "monash-ip-observatory" / "mmr-2021-04-09_Bago.csv")
    local_hour = pd.to_datetime(raw["time_local_str"]).dt.floor("h")
    counts = raw.groupby(local_hour)["ip_hash"].nunique()
    hours = pd.date_range(counts.index.min(), counts.index.max(), freq="h")
    counts = counts.reindex(hours, fill_value=0).astype("float64")
    times = (hours - BAGO_OFFSET).tz_localize("UTC")
    return pd.DataFrame({"entity": "country/MM", "datasource": "ipo-bago", "time": times,
                         "value": counts.to_numpy()})[SIGNAL_COLUMNS]


def load_venezuela() -> pd.DataFrame:
    """Monash hourly connectivity index for 13 Venezuelan states, averaged, times in UTC."""
    raw = pd.read_csv(DATA / "monash-ip-observatory" / "ven-2019-07-22_gif.csv")
    # time_e is the local wall-clock time written as if it were unix seconds (UPSTREAM_README.md)
    local = pd.to_datetime(raw["time_e"], unit="s")
    index = raw.groupby(local)["connectivity"].mean()
    times = (index.index - VENEZUELA_OFFSET).tz_localize("UTC")
    return pd.DataFrame({"entity": "country/VE", "datasource": "ipo-index", "time": times,
                         "value": index.to_numpy(dtype="float64")})[SIGNAL_COLUMNS]


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
