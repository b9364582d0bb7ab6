"""UTC time helpers. Inside the program every time is a timezone-aware UTC pandas Timestamp;
in the store it is integer unix seconds."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from monitor.errors import InputError

# ISO 8601 only: a date, or a date and time (`T` or a space) with an optional `Z` or offset.
_ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}"
                     r"(?P<time>[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(?P<offset>Z|[+-]\d{2}:?\d{2})?)?")
_EPOCH_RE = re.compile(r"\d{9,}")  # unix seconds as text: 9+ digits (1973 on), so "2019" is no epoch
_EXPECTED = "not an ISO 8601 date or time (e.g. 2019-11-16 or 2019-11-16T14:00Z) nor unix seconds"


def now() -> pd.Timestamp:
    """The current time, UTC, to the second."""
    return pd.Timestamp(datetime.now(timezone.utc)).floor("s")


def parse_time(value, *, what: str = "time", naive: str = "utc") -> pd.Timestamp:
    """ISO 8601 (a date, or a date and time with optional `Z`/offset) or unix seconds -> UTC Timestamp.

    Text is unix seconds only when all digits and at least 9 of them; numbers from code always are.
    `naive="utc"` reads a time without offset as UTC (fine for command-line options);
    `naive="error"` refuses it (for data files, where a guess would silently shift every point).
    """
    if isinstance(value, pd.Timestamp | datetime):
        ts = pd.Timestamp(value)
    elif isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        if not np.isfinite(value):
            raise InputError(f"bad {what} {value!r}: not a finite number")
        try:
            ts = pd.Timestamp(int(value), unit="s", tz="UTC")
        except (ValueError, OverflowError) as exc:
            raise InputError(f"bad {what} {value!r}: out of range for unix seconds") from exc
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise InputError(f"bad {what}: empty")
        if _EPOCH_RE.fullmatch(text):
            return parse_time(int(text), what=what)
        iso_match = _ISO_RE.fullmatch(text.upper())
        if not iso_match:
            raise InputError(f"bad {what} {text!r}: {_EXPECTED}")
        if naive == "error" and iso_match["time"] and not iso_match["offset"]:
            raise InputError(f"bad {what} {text!r}: a date-time needs a UTC offset or 'Z'")
        try:
            ts = pd.Timestamp(iso_match[0])
        except (ValueError, OverflowError) as exc:
            raise InputError(f"bad {what} {text!r}: not a valid date or time") from exc
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
        # pandas deprecates the lower-case day and week units; people write "1d" and "2w", so accept them.
        td = pd.Timedelta(re.sub(r"(\d)\s*([dw])\b", lambda m: m[1] + m[2].upper(), text.strip()))
    except (ValueError, AttributeError) as exc:
        raise InputError(f"bad {what} {text!r}: use e.g. 90m, 2h or 1d") from exc
    if td < pd.Timedelta(0):
        raise InputError(f"bad {what} {text!r}: negative")
    return td
