"""Conversions between the frame contracts (monitor.frames) and store rows."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from monitor.errors import InputError
from monitor.timeutil import from_epoch, to_epoch


def require_columns(df: pd.DataFrame, columns: list[str], what: str) -> None:
    """Refuse a frame that lacks contract columns, naming them."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{what} frame lacks column(s) {', '.join(missing)}")


def epochs(series: pd.Series, what: str) -> np.ndarray:
    """A UTC time column -> int64 seconds (NaT not allowed)."""
    if series.isna().any():
        raise InputError(f"{what} has missing times")
    return to_epoch(pd.to_datetime(series, utc=True))


def optional_epochs(series: pd.Series) -> list:
    """A UTC time column that may hold NaT/None -> list of int seconds or None."""
    times = pd.to_datetime(series, utc=True)
    out = [None] * len(times)
    present = times.notna().to_numpy()
    if present.any():
        secs = to_epoch(times[present])
        for i, s in zip(np.flatnonzero(present), secs):
            out[i] = int(s)
    return out


def times(values, nullable: bool = False) -> pd.Series:
    """int seconds (or None) -> a UTC datetime Series."""
    if nullable:
        s = pd.Series(values, dtype="Float64")
        out = pd.Series(pd.NaT, index=range(len(s)), dtype="datetime64[s, UTC]")
        mask = s.notna().to_numpy()
        if mask.any():
            out[mask] = from_epoch(s[mask].astype("int64").to_numpy())
        return out
    return pd.Series(from_epoch(np.asarray(values, dtype="int64")))


def to_json(value) -> str | None:
    """Lists/dicts -> JSON text, NaN-safe and with sorted keys for stable comparisons."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return json.dumps(_jsonable(value), sort_keys=True, ensure_ascii=False)


def from_json(text):
    return None if text is None else json.loads(text)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def none_if_nan(value):
    """NaN/NA -> None so the database gets NULL."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    return value
