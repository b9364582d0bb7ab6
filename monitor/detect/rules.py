"""Per-signal detection: each value against the median of its trailing history (IODA's rule).

A bin is abnormal when value < warning x baseline (IODA's rule) and, beyond it, the drop exceeds
`noise` x the series' recent robust spread (the noise floor) and `min_drop` units (a drop below
critical x baseline counts however noisy the series and whatever its size). The baseline is the
median of the trailing window's valid values that were not themselves abnormal (so an outage does
not become the normal);
for diurnal signals it is the median, over the window's previous days, of the mean around the same
time of day (+-pool). A partial drop that lasts longer than `rebaseline` becomes the new normal: its
values re-enter the history and its alert ends; a near-total drop stays abnormal however long. With
too little normal history in the window the last baseline is carried forward; at the very start of
the data bins stay unjudged. Every verdict uses only data before its bin.

Alerts are runs of abnormal bins with hysteresis (short recoveries bridged) and a minimum duration.
A gap (NaN value or a missing bin) is "no data", never zero: it is reported as an interval of level
"nodata"; inside an alert it neither ends nor splits it (the alert goes on while the signal is still
down after it, and ends where the data stopped when it has recovered after it).

Exclusion of abnormal values makes each baseline depend on earlier judgements. That recursion is
solved as a fixed point: judge, mask the abnormal values, recompute the medians only where the mask
changed, until nothing changes (it converges left to right, so the result equals the sequential
rule). Medians are bottleneck's moving medians; Python loops run over alerts, never over bins.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import bottleneck as bn
import numpy as np
import pandas as pd

from monitor.detect.params import DAY, NEAR_TOTAL, RuleParams, resolve_rule
from monitor.errors import InputError
from monitor.frames import SIGNAL_COLUMNS
from monitor.timeutil import from_epoch, to_epoch

log = logging.getLogger("monitor.detect.rules")

# One row per alert (level warning/critical) or per interval without a verdict (nodata: no value;
# unjudged: not enough history yet). `end` is exclusive; `open` = still in alert at the data's end.
ALERT_COLUMNS = ["entity", "datasource", "start", "end", "level", "depth", "area", "open", "method", "detail"]
METHOD = "median-ratio"

MAX_PASSES = 500


@dataclass(frozen=True)
class _Geometry:
    """A rule in bins of one series' grid."""

    diurnal: bool
    window: int      # bins (non-diurnal) or days (diurnal)
    min_count: int   # valid history needed: bins (non-diurnal) or days (diurnal)
    per_day: int
    pool: int
    carry: int | None  # bins

    def reach(self) -> tuple[int, int]:
        """Positions t - p whose baseline depends on the value at p (inclusive bounds)."""
        if self.diurnal:
            return self.per_day - self.pool, self.window * self.per_day + self.pool
        return 1, self.window


def _geometry(rule: RuleParams, step: pd.Timedelta) -> _Geometry:
    per_day = DAY // step if DAY % step == pd.Timedelta(0) else 0
    carry = None if rule.max_carry is None else int(rule.max_carry // step)
    if rule.diurnal and per_day >= 4:
        days = max(1, round(rule.window / DAY))
        min_days = min(days, max(1, -(-rule.min_history // DAY)))
        return _Geometry(True, days, min_days, per_day, min(int(rule.pool // step), per_day // 2 - 1), carry)
    bins = max(1, int(rule.window // step))
    return _Geometry(False, bins, min(bins, max(1, int(rule.min_history // step))), per_day, 0, carry)


def _segment(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """x[a:b], padded with NaN where a < 0 or b > len(x)."""
    if a >= 0 and b <= len(x):
        return x[a:b]
    out = np.full(b - a, np.nan)
    lo, hi = max(a, 0), min(b, len(x))
    if hi > lo:
        out[lo - a: hi - a] = x[lo:hi]
    return out


def _raw_baseline(x: np.ndarray, lo: int, hi: int, g: _Geometry) -> np.ndarray:
    """History medians for positions [lo, hi) of x (NaN = excluded); NaN where history is short."""
    if not g.diurnal:
        seg = _segment(x, lo - g.window, hi - 1)
        return bn.move_median(seg, g.window, min_count=g.min_count)[g.window - 1:]
    # Rows wholly before the data (pool included) would only be NaN: leave them out.
    n, m = g.per_day, g.pool
    days = min(g.window, -(-(lo + m) // n))
    start = lo - days * n
    seg = _segment(x, start - m, hi - n + m)
    pooled = bn.move_mean(seg, 2 * m + 1, min_count=1)[2 * m:] if m else seg
    rows = days + -(-(hi - lo) // n)  # row r holds the pooled values of positions start + r*n + j
    if rows <= g.min_count:
        return np.full(hi - lo, np.nan)  # no position has enough days before it
    grid = np.full(rows * n, np.nan)
    grid[: len(pooled)] = pooled
    # with fewer rows than days, a window of all rows is the same window
    medians = bn.move_median(grid.reshape(rows, n), min(g.window, rows), min_count=g.min_count, axis=0)
    out = np.full((rows - days) * n, np.nan)  # position lo + r*n + j: rows r .. r+days-1 before it
    if days:
        out[:] = medians[days - 1: rows - 1].reshape(-1)
    else:
        out[n:] = medians[: rows - 1].reshape(-1)
    return out[: hi - lo]


def _carry(raw: np.ndarray, g: _Geometry) -> np.ndarray:
    """Carry the last baseline forward where the history was too short (per time of day if diurnal)."""
    missing = np.isnan(raw)
    first = int(np.argmax(~missing))
    if not missing[first:].any():
        return raw  # nothing to carry: history was short only at the start (or everywhere)
    period = g.per_day if g.diurnal else 1
    size = -(-len(raw) // period) * period
    padded = np.full(size, np.nan)
    padded[: len(raw)] = raw
    grid = padded.reshape(-1, period)
    rows = np.arange(grid.shape[0])[:, None]
    last = np.maximum.accumulate(np.where(np.isnan(grid), -1, rows), axis=0)
    carried = np.take_along_axis(grid, np.maximum(last, 0), axis=0)
    carried[last < 0] = np.nan
    if g.carry is not None:
        carried[(rows - last) * period > g.carry] = np.nan
    return carried.reshape(-1)[: len(raw)]


def _affected(changed: np.ndarray, g: _Geometry, size: int) -> Iterator[tuple[int, int]]:
    """Ranges [lo, hi) of baselines touched by changed positions, overlapping ranges merged."""
    near, far = g.reach()
    lo, hi = changed + near, changed + far + 1
    breaks = np.flatnonzero(lo[1:] > hi[:-1]) + 1
    for a, b in zip(np.r_[0, breaks], np.r_[breaks, len(changed)]):
        start, stop = max(int(lo[a]), 0), min(int(hi[b - 1]), size)
        if stop > start:
            yield start, stop


def noise_spread(values: np.ndarray, rule: RuleParams, step: pd.Timedelta) -> np.ndarray:
    """Each bin's recent robust spread (a standard deviation), past-only; 0 where there is no
    history yet.

    The series is cut into blocks of a quarter of `min_history` (at most 6 h), each giving one
    estimate: its standard deviation, or for a time-of-day rule (whose blocks hold part of the daily
    swing) its mean absolute bin-to-bin change x sqrt(pi)/2 (sigma for Gaussian noise). A bin gets
    the median of the estimates of the blocks of the previous `window`: the median over blocks is
    what makes it robust (an outage's edges inflate one or two blocks only), and per-block means
    plus a median over a few dozen blocks cost one pass over the bins.
    """
    size = len(values)
    block = max(4, int(min(rule.min_history, DAY) / 4 // step))
    blocks = -(-size // block)
    grid = np.full(blocks * block, np.nan)
    with np.errstate(all="ignore"):
        if rule.diurnal:
            grid[1:size] = np.abs(np.diff(values))
            per_block = bn.nanmean(grid.reshape(blocks, block), axis=1) * (np.sqrt(np.pi) / 2)
        else:
            grid[:size] = values
            per_block = bn.nanstd(grid.reshape(blocks, block), axis=1)
    span = min(blocks, max(1, int(rule.window // (block * step))))
    recent = bn.move_median(per_block, span, min_count=1)
    before = np.r_[np.nan, recent[:-1]]  # block k: the blocks before it only
    return np.repeat(np.nan_to_num(before, nan=0.0), block)[:size]


def _floor(spread: np.ndarray, rule: RuleParams) -> np.ndarray | float:
    """The drop each bin needs beyond IODA's rule: the noise floor and the minimum drop in units."""
    if not rule.noise or not spread.any():
        return float(rule.min_drop)
    return np.maximum(rule.noise * spread, rule.min_drop)


def _thresholds(base: np.ndarray, floor: np.ndarray | float, rule: RuleParams) -> np.ndarray:
    """The value below which each bin is abnormal: IODA's warning x baseline, lowered by the floor
    (never below critical x baseline)."""
    ioda = rule.warning * base
    if np.isscalar(floor) and floor == 0:
        return ioda
    return np.minimum(ioda, np.maximum(base - floor, rule.critical * base))


def _settled(below: np.ndarray, values: np.ndarray, base: np.ndarray, rule: RuleParams, step: int) -> np.ndarray:
    """Bins of a partial drop older than `rebaseline`: they are the new normal (past-only: a bin's
    age counts from the start of the drop it belongs to; no-data bins continue the drop)."""
    size = len(below)
    valued = ~np.isnan(values)
    idx = np.where(valued, np.arange(size), -1)
    last_valued = np.maximum.accumulate(idx)
    down = np.where(last_valued >= 0, below[np.maximum(last_valued, 0)], False)
    if not down.any():
        return np.zeros(size, dtype=bool)
    began = np.maximum.accumulate(np.where(down & ~np.r_[False, down[:-1]], np.arange(size), -1))
    age = (np.arange(size) - began) * step
    with np.errstate(invalid="ignore"):
        partial = values >= (1.0 - NEAR_TOTAL) * base
    return below & (began >= 0) & (age >= rule.rebaseline.total_seconds()) & partial


def baseline(values: np.ndarray, rule: RuleParams, step: pd.Timedelta) -> tuple[np.ndarray, np.ndarray]:
    """(baseline, abnormal) for values on a regular grid of `step`; NaN baseline = unjudged."""
    base, flags, _, _ = _judge(values, rule, step)
    return base, flags


def _judge(values: np.ndarray, rule: RuleParams, step: pd.Timedelta):
    """(baseline, abnormal, threshold value, re-baselined) for values on a regular grid of `step`."""
    g = _geometry(rule, step)
    floor = _floor(noise_spread(values, rule, step), rule)
    raw = _raw_baseline(values, 0, len(values), g)
    flags = np.zeros(len(values), dtype=bool)
    step_s = int(step.total_seconds())
    none = np.zeros(len(values), dtype=bool)
    nodata = int(np.isnan(values).sum())
    for _ in range(MAX_PASSES):
        base = _carry(raw, g)
        threshold = _thresholds(base, floor, rule)
        with np.errstate(invalid="ignore"):
            below = values < threshold
        # a drop can outlast `rebaseline` only if its bins (no-data ones included) add up to it
        long_enough = rule.rebaseline is not None and \
            (int(below.sum()) + nodata) * step_s >= rule.rebaseline.total_seconds()
        settled = _settled(below, values, base, rule, step_s) if long_enough else none
        new = below & ~settled
        changed = np.flatnonzero(new ^ flags)
        if changed.size == 0:
            return base, flags, threshold, settled
        flags = new
        masked = np.where(flags, np.nan, values)
        for lo, hi in _affected(changed, g, len(values)):
            raw[lo:hi] = _raw_baseline(masked, lo, hi, g)
    log.warning("baseline did not settle after %d passes; judgements after the first change are approximate",
                MAX_PASSES)
    return base, flags, threshold, settled


def to_grid(seconds: np.ndarray, values: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(first time, step, values) of a series put on its regular grid; missing bins become NaN.

    `seconds` must be sorted; the step is the median spacing; a repeated bin keeps the last value.
    """
    spacing = np.diff(seconds)
    if len(spacing) and spacing[0] > 0 and (spacing == spacing[0]).all():
        return int(seconds[0]), int(spacing[0]), np.asarray(values, dtype=float)  # already regular
    positive = spacing[spacing > 0]
    step = int(np.median(positive)) if len(positive) else 0
    if step <= 0:
        return int(seconds[0]), 0, np.asarray(values, dtype=float)
    index = np.rint((seconds - seconds[0]) / step).astype(np.int64)
    grid = np.full(int(index[-1]) + 1, np.nan)
    grid[index] = values
    return int(seconds[0]), step, grid


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and (exclusive) ends of the True runs of a boolean array."""
    edges = np.diff(np.r_[0, mask.view(np.int8), 0])
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _first_at_or_after(positions: np.ndarray, at: np.ndarray, none: int) -> np.ndarray:
    """For each `at`, the first of the sorted `positions` >= it (`none` if there is none)."""
    found = np.searchsorted(positions, at)
    return np.where(found < len(positions), positions[np.minimum(found, len(positions) - 1)], none) \
        if len(positions) else np.full(len(at), none)


def _alert_runs(j: dict):
    """(first abnormal bin, end bin, how it ended) of each alert, hysteresis applied, gaps bridged.

    Works on the positions of abnormal, recovered and unjudged bins, so its cost follows the number
    of alerts, not the length of the series. No-data bins are neither abnormal nor recovered: an
    alert goes on across them; when the signal has recovered after a gap the alert ends where the
    data stopped ("recovery after gap"). A re-baselined bin ends its alert ("rebaselined").
    """
    rule, step, values, ratio = j["rule"], j["step"], j["values"], j["ratio"]
    size = len(ratio)
    below_at = np.flatnonzero(j["abnormal"])
    if below_at.size == 0:
        return []
    with np.errstate(invalid="ignore"):
        release = j["threshold_ratio"] if rule.release is None else np.maximum(j["threshold_ratio"], rule.release)
        recovered_at = np.flatnonzero((ratio >= release) | j["settled"])
    unjudged = np.flatnonzero(~np.isnan(values) & np.isnan(ratio))
    last_valued = np.maximum.accumulate(np.where(np.isnan(values), -1, np.arange(size)))

    def stops_between(a, b):  # unjudged bins in (a, b]
        return np.searchsorted(unjudged, b, "right") - np.searchsorted(unjudged, a, "right")

    p, q = below_at[:-1], below_at[1:]
    first_rec = _first_at_or_after(recovered_at, p + 1, size)
    long_rec = (first_rec < q) & ((q - first_rec) * step >= rule.recovery.total_seconds())
    broken = (stops_between(p, q) > 0) | long_rec
    starts, lasts = below_at[np.r_[True, broken]], below_at[np.r_[broken, True]]
    recs = _first_at_or_after(recovered_at, lasts + 1, size)
    out = []
    for first, last, rec in zip(starts.tolist(), lasts.tolist(), recs.tolist()):
        upto = min(rec, size - 1)
        if stops_between(last, upto) > 0:
            out.append((first, last + 1, "no baseline"))
        elif rec >= size:
            out.append((first, size, "data end"))
        elif j["settled"][rec]:
            out.append((first, rec, "rebaselined"))
        elif last_valued[rec - 1] < rec - 1:
            out.append((first, int(last_valued[rec - 1]) + 1, "recovery after gap"))
        else:
            out.append((first, rec, "recovery"))
    return out


def _alert_row(entity: str, datasource: str, j: dict, first: int, end: int, how: str) -> dict | None:
    """One alert's row from a judged series (see judge_series), or None when it is too short."""
    rule, step, r = j["rule"], j["step"], j["ratio"][first:end]
    abnormal = int(j["abnormal"][first:end].sum())
    if abnormal * step < rule.min_duration.total_seconds():
        return None
    drop = np.clip(1.0 - r[~np.isnan(r)], 0.0, 1.0)
    confirmed = how not in ("recovery", "recovery after gap") or \
        (len(j["values"]) - end) * step >= rule.recovery.total_seconds()
    detail = {"baseline": float(np.nanmedian(j["baseline"][first:end])), "min_ratio": float(np.nanmin(r)),
              "warning": rule.warning, "critical": rule.critical, "diurnal": bool(rule.diurnal),
              "threshold": float(np.nanmedian(j["threshold_ratio"][first:end])),
              "window": rule.window.isoformat(), "ended_by": how, "end_confirmed": bool(confirmed),
              "abnormal_minutes": abnormal * step / 60, "step_seconds": step,
              "nodata_minutes": float(np.isnan(j["values"][first:end]).sum() * step / 60)}
    return {"entity": entity, "datasource": datasource, "start": j["t0"] + first * step,
            "end": j["t0"] + end * step, "level": "critical" if np.nanmin(r) < rule.critical else "warning",
            "depth": float(np.median(drop)), "area": float(drop.sum() * step / 60),
            "open": how == "data end", "method": METHOD, "detail": detail}


def _interval_rows(entity, datasource, t0, step, mask, level, why) -> list[dict]:
    starts, ends = _runs(mask)
    return [{"entity": entity, "datasource": datasource, "start": t0 + a * step, "end": t0 + b * step,
             "level": level, "depth": np.nan, "area": 0.0, "open": False, "method": METHOD,
             "detail": {"reason": why}}
            for a, b in zip(starts.tolist(), ends.tolist())]


def judge_series(seconds: np.ndarray, values: np.ndarray, rule: RuleParams) -> dict:
    """Grid, resolved rule, baseline, ratio and abnormal flags of one series (sorted epoch seconds)."""
    t0, step, grid = to_grid(seconds, values)
    if step == 0 or len(grid) < 2:
        none = np.full(len(grid), np.nan)
        return {"t0": t0, "step": step, "values": grid, "rule": rule, "baseline": none, "ratio": none,
                "threshold_ratio": none, "abnormal": np.zeros(len(grid), dtype=bool),
                "settled": np.zeros(len(grid), dtype=bool)}
    step_td = pd.Timedelta(seconds=step)
    rule = resolve_rule(rule, step_td, grid)
    if rule.diurnal and not _geometry(rule, step_td).diurnal:
        rule = dataclasses.replace(rule, diurnal=False)  # a day is not a whole number of >= 4 bins
    base, abnormal, threshold, settled = _judge(grid, rule, step_td)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = grid / base
        threshold_ratio = threshold / base
    if (base <= 0).any():
        ratio[base <= 0] = np.nan  # nothing can drop below a baseline of zero
        abnormal = abnormal & ~(base <= 0)
    return {"t0": t0, "step": step, "values": grid, "rule": rule, "baseline": base, "ratio": ratio,
            "threshold_ratio": threshold_ratio, "abnormal": abnormal, "settled": settled}


def detect_series(entity: str, datasource: str, seconds: np.ndarray, values: np.ndarray,
                  rule: RuleParams) -> list[dict]:
    """Alert and no-data rows (epoch-second times) for one series (none if its rule does not judge)."""
    if not rule.judge:
        return []
    j = judge_series(seconds, values, rule)
    if j["step"] == 0:
        return []
    ratio, rule, t0, step = j["ratio"], j["rule"], j["t0"], j["step"]
    has_value = ~np.isnan(j["values"])
    rows = [_alert_row(entity, datasource, j, first, end, how) for first, end, how in _alert_runs(j)]
    rows = [row for row in rows if row is not None]
    rows += _interval_rows(entity, datasource, t0, step, ~has_value, "nodata", "no value")
    rows += _interval_rows(entity, datasource, t0, step, has_value & np.isnan(ratio), "unjudged",
                           f"no baseline (needs {rule.min_history} of normal history)")
    return rows


def iter_series(signals: pd.DataFrame) -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """(entity, datasource, sorted epoch seconds, values) of each series in a signal frame."""
    if signals.empty:
        return
    ent_codes, entities = _codes(signals["entity"])
    ds_codes, datasources = _codes(signals["datasource"])
    order, starts = _blocks(ent_codes, ds_codes)
    bounds = np.r_[starts, len(ent_codes)]
    times, values = signals["time"].array, signals["value"].to_numpy(dtype=np.float64)
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        rows = slice(a, b) if order is None else order[a:b]
        secs, vals = to_epoch(times[rows]), values[rows]
        if (secs[1:] <= secs[:-1]).any():
            keep = np.argsort(secs, kind="stable")
            secs, vals = secs[keep], vals[keep]
        first = a if order is None else order[a]
        yield str(entities[ent_codes[first]]), str(datasources[ds_codes[first]]), secs, vals


def _blocks(ent_codes: np.ndarray, ds_codes: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """(row order or None if the rows are already grouped by series, start of each series)."""
    starts = np.r_[0, np.flatnonzero((ent_codes[1:] != ent_codes[:-1]) | (ds_codes[1:] != ds_codes[:-1])) + 1]
    pairs = set(zip(ent_codes[starts].tolist(), ds_codes[starts].tolist()))
    if len(pairs) == len(starts):
        return None, starts  # each series is one block of rows (as the store returns them)
    key = ent_codes.astype(np.int64) * (int(ds_codes.max()) + 1) + ds_codes
    order = np.argsort(key, kind="stable")
    key = key[order]
    return order, np.r_[0, np.flatnonzero(key[1:] != key[:-1]) + 1]


def _codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories
    codes, uniques = pd.factorize(column)
    return codes, pd.Index(uniques)


def alerts_frame(rows: list[dict]) -> pd.DataFrame:
    """ALERT_COLUMNS frame from alert rows with epoch-second times, ordered by entity and start."""
    if not rows:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in ALERT_COLUMNS})
        frame["start"] = frame["end"] = pd.Series(dtype="datetime64[s, UTC]")
        return frame
    frame = pd.DataFrame(rows, columns=ALERT_COLUMNS)
    frame["start"] = from_epoch(frame["start"].to_numpy())
    frame["end"] = from_epoch(frame["end"].to_numpy())
    return frame.sort_values(["entity", "start", "datasource"], kind="stable").reset_index(drop=True)


def detect_signals(signals: pd.DataFrame, rules, progress=None, workers: int | None = None) -> pd.DataFrame:
    """Alerts and no-data intervals of every series in a signal frame.

    `rules` maps a datasource name to its RuleParams (e.g. `DetectParams().rule_for`);
    `progress`, if given, wraps the iterator over results (e.g. a tqdm factory); series are
    judged on `workers` threads (default: one per CPU; the moving medians release the GIL).
    """
    missing = [c for c in SIGNAL_COLUMNS if c not in signals.columns]
    if missing:
        raise InputError(f"signal frame lacks column(s) {', '.join(missing)}")
    workers = workers or os.cpu_count() or 1

    def one(series):
        entity, datasource, secs, vals = series
        return detect_series(entity, datasource, secs, vals, rules(datasource))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(one, iter_series(signals))
        rows = [row for found in (results if progress is None else progress(results)) for row in found]
    return alerts_frame(rows)


def judge_signal(signal: pd.DataFrame, rule: RuleParams) -> pd.DataFrame:
    """One series judged bin by bin: time, value, baseline, ratio, threshold (the ratio below which
    the bin is abnormal), level (for plots and notebooks).

    level: nodata, unjudged, normal, warning (abnormal) or critical (abnormal and below critical).
    """
    series = list(iter_series(signal))
    if len(series) != 1:
        raise InputError(f"judge_signal needs exactly one series, got {len(series)}")
    j = judge_series(series[0][2], series[0][3], rule)
    rule, ratio = j["rule"], j["ratio"]
    level = np.full(len(ratio), "normal", dtype=object)
    with np.errstate(invalid="ignore"):
        level[j["abnormal"]] = "warning"
        level[j["abnormal"] & (ratio < rule.critical)] = "critical"
    level[np.isnan(ratio)] = "unjudged"
    level[np.isnan(j["values"])] = "nodata"
    times = from_epoch(j["t0"] + np.arange(len(ratio)) * max(j["step"], 1))
    return pd.DataFrame({"time": times, "value": j["values"], "baseline": j["baseline"], "ratio": ratio,
                         "threshold": j["threshold_ratio"], "level": level})
