"""What data is missing: per-series coverage and the gaps a report must admit to.

A gap is a stretch with no value: bins stored as NaN, bins never stored, and the edges of the window
before the first and after the last value. Each series' step is its own median spacing. One
vectorised pass over int64 times, so a digest over millions of points stays fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COVERAGE_COLUMNS = ["entity", "datasource", "step", "expected", "with_data", "missing", "longest_gap"]
GAP_COLUMNS = ["entity", "datasource", "start", "end", "bins"]


def series_step(times) -> pd.Timedelta | None:
    """The median spacing of a series' timestamps (None with fewer than two points)."""
    ns = times if isinstance(times, np.ndarray) else pd.DatetimeIndex(times).as_unit("ns").asi8
    if len(ns) < 2:
        return None
    return pd.Timedelta(int(np.median(np.diff(ns))), unit="ns").as_unit("s")


def series_gaps(have: np.ndarray, step: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """[start, end) bounds of the stretches without a value inside [lo, hi), each at least one
    step long; `have` holds the sorted times (int64 ns) that have a value."""
    if have.size == 0:
        return np.array([lo]), np.array([hi])
    jumps = np.flatnonzero(np.diff(have) > 1.5 * step)
    starts = np.concatenate(([lo], have[jumps] + step, [have[-1] + step]))
    ends = np.concatenate(([have[0]], have[jumps + 1], [hi]))
    keep = ends - starts >= step
    return starts[keep], ends[keep]


def _series(signals: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp):
    """(entity, datasource, times ns, has-value mask) of every series in the window, sorted by time."""
    inside = signals[(signals["time"] >= start) & (signals["time"] < end)]
    if inside.empty:
        return
    ent, ent_names = pd.factorize(inside["entity"])
    ds, ds_names = pd.factorize(inside["datasource"])
    t = pd.DatetimeIndex(inside["time"]).as_unit("ns").asi8
    has = inside["value"].notna().to_numpy()
    order = np.lexsort((t, ds, ent))
    key = ent[order] * len(ds_names) + ds[order]
    for chunk in np.split(order, np.flatnonzero(np.diff(key)) + 1):
        yield ent_names[ent[chunk[0]]], ds_names[ds[chunk[0]]], t[chunk], has[chunk]


def scan(signals: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage per series (COVERAGE_COLUMNS) and every gap (GAP_COLUMNS, longest first) in the window."""
    lo, hi = start.as_unit("ns").value, end.as_unit("ns").value
    rows, parts = [], []
    for entity, datasource, t, has in _series(signals, start, end):
        step = series_step(t)
        with_data = int(has.sum())
        if step is None:
            rows.append((entity, datasource, None, None, with_data, None, None))
            continue
        width = step.as_unit("ns").value
        a, b = series_gaps(t[has], width, lo, hi)
        expected = max(int((hi - lo) // width), with_data)
        longest = pd.Timedelta(int((b - a).max()) if a.size else 0, unit="ns").as_unit("s")
        rows.append((entity, datasource, step, expected, with_data, expected - with_data, longest))
        parts.append(pd.DataFrame({"entity": entity, "datasource": datasource, "start": a, "end": b,
                                   "bins": (b - a) // width}))
    gaps = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=GAP_COLUMNS)
    gaps["start"] = pd.to_datetime(gaps["start"].astype("int64"), utc=True)
    gaps["end"] = pd.to_datetime(gaps["end"].astype("int64"), utc=True)
    gaps = gaps.sort_values(["bins", "start"], ascending=[False, True], ignore_index=True)
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS), gaps
