"""Builders of small outage and event frames for the correlation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.frames import EVENT_COLUMNS, OUTAGE_COLUMNS


def outage_frame(starts, hours=3.0, country="SY", region=None, ids=None) -> pd.DataFrame:
    """Outages of one country starting at `starts` (UTC), each `hours` long (None: ongoing)."""
    starts = pd.to_datetime(pd.Series(list(starts)), utc=True)
    n = len(starts)
    ends = starts + pd.Timedelta(hours=hours) if hours is not None else pd.Series(pd.NaT, index=starts.index)
    df = pd.DataFrame({
        "outage_id": ids or [f"o{i}" for i in range(n)], "source": "test", "entity": f"country/{country}",
        "country": country, "start": starts.to_numpy(), "end": pd.to_datetime(ends, utc=True).to_numpy(),
        "datasources": [["ping-slash24"] for _ in range(n)], "depth": 0.9, "score": 1.0,
        "method": "test", "detail": [{} for _ in range(n)]})
    df["start"] = pd.to_datetime(df["start"], utc=True)
    df["end"] = pd.to_datetime(df["end"], utc=True)
    df = df[OUTAGE_COLUMNS]
    if region is not None:
        df["region"] = region
    return df


def event_frame(starts, hours=1.0, kind="opposition_event", country="SY", region=None, all_day=False,
                ends=None, source="cal") -> pd.DataFrame:
    """Calendar events of one kind and country at `starts` (UTC), `hours` long, or ending at `ends`."""
    starts = pd.to_datetime(pd.Series(list(starts)), utc=True)
    n = len(starts)
    ends = pd.to_datetime(pd.Series(list(ends)), utc=True) if ends is not None else starts + pd.Timedelta(hours=hours)
    df = pd.DataFrame({
        "uid": [f"e{i}" for i in range(n)], "source": source, "kind": kind, "country": country,
        "region": region, "start": starts.to_numpy(), "end": ends.to_numpy(), "all_day": all_day,
        "title": [f"event {i}" for i in range(n)], "url": None, "description": None, "raw": None})
    df["start"] = pd.to_datetime(df["start"], utc=True)
    df["end"] = pd.to_datetime(df["end"], utc=True)
    return df[EVENT_COLUMNS]


def random_times(rng: np.random.Generator, n: int, start: pd.Timestamp, days: float,
                 clustered: bool = False) -> pd.DatetimeIndex:
    """n times in [start, start + days): uniform, or in bursts of 10 within 10 days of a random day."""
    if clustered:
        centres = rng.uniform(0, days, n // 10)
        offsets = (centres[:, None] + rng.uniform(0, 10, (n // 10, 10))).ravel() % days
    else:
        offsets = rng.uniform(0, days, n)
    return start + pd.to_timedelta(np.sort(offsets), unit="D")


@pytest.fixture
def outages():
    return outage_frame


@pytest.fixture
def events():
    return event_frame


@pytest.fixture
def times():
    return random_times
