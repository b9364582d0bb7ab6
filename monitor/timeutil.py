"""UTC time helpers. Inside the program every time is a timezone-aware UTC pandas Timestamp;
in the store it is integer unix seconds."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from monitor.errors import InputError

_EPOCH_RE = re.compile(r"^-?\d{1,12}(\.\d+)?$")
_HAS_OFFSET_RE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


def now() -> pd.Timestamp:
    """The current time, UTC, to the second."""
    return pd.Timestamp(datetime.now(timezone.utc)).floor("s")


def parse_time(value, *, what: str = "time", naive: str = "utc") -> pd.Timestamp:
    """Parse ISO 8601 (with offset or `Z`), a bare date, or unix seconds into a UTC Timestamp.

    `naive="utc"` reads a time without offset as UTC (fine for command-line options);
    `naive="error"` refuses it (for data files, where a guess would silently shift every point).
    """
    if isinstance(value, pd.Timestamp | datetime):
        ts = pd.Timestamp(value)
    elif isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        if not np.isfinite(value):
            raise InputError(f"bad {what} {value!r}: not a finite number")
        ts = pd.Timestamp(int(value), unit="s", tz="UTC")
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise InputError(f"bad {what}: empty")
        if _EPOCH_RE.match(text):
            return parse_time(float(text), what=what)
        if naive == "error" and "T" in text.upper() and not _HAS_OFFSET_RE.search(text):
            raise InputError(f"bad {what} {text!r}: a date-time needs a UTC offset or 'Z'")
        try:
            ts = pd.Timestamp(text)
        except (ValueError, OverflowError) as exc:
            raise InputError(f"bad {what} {text!r}: not ISO 8601 or unix seconds") from exc
    else:
        raise InputError(f"bad {what} {value!r}: not a time")
    if ts is pd.NaT:
        raise InputError(f"bad {what} {value!r}: not a time")
    if ts.tzinfo is None:
        if naive == "error" and not isinstance(value, str):
            raise InputError(f"bad {what} {value!r}: a date-time needs a UTC offset")
        ts = ts.tz_localize("UTC")
    return ts.tz_convert("UTC")


def to_epoch(times: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """UTC datetimes -> int64 unix seconds (via as_unit, never `// 10**9`)."""
    idx = pd.DatetimeIndex(times)
    if idx.tz is None:
        raise InputError("times must be timezone-aware")
    return idx.tz_convert("UTC").as_unit("s").asi8.astype(np.int64)


def from_epoch(seconds) -> pd.DatetimeIndex:
    """int unix seconds -> timezone-aware UTC DatetimeIndex (second resolution)."""
    arr = np.asarray(seconds, dtype="int64")
    return pd.DatetimeIndex(arr.astype("datetime64[s]")).tz_localize("UTC")


def epoch(ts: pd.Timestamp) -> int:
    """One UTC Timestamp -> int unix seconds."""
    return int(pd.Timestamp(ts).timestamp())


def iso(ts: pd.Timestamp | None) -> str | None:
    """ISO 8601 UTC with a `Z`, to the second, for output."""
    if ts is None or ts is pd.NaT:
        return None
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_duration(text: str, *, what: str = "duration") -> pd.Timedelta:
    """Parse a duration such as `90m`, `2h`, `1d`, `30min` or `PT2H`."""
    try:
        # pandas deprecates the lower-case day unit; people write "1d", so accept it.
        td = pd.Timedelta(re.sub(r"(\d)\s*d\b", r"\1D", text.strip()))
    except (ValueError, AttributeError) as exc:
        raise InputError(f"bad {what} {text!r}: use e.g. 90m, 2h or 1d") from exc
    if td < pd.Timedelta(0):
        raise InputError(f"bad {what} {text!r}: negative")
    return td
