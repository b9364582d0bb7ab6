"""Benchmark: outage detection over one year of generated IODA-like signals.

250 entities x 3 datasources: bgp (5 min, nearly flat), ping-slash24 (10 min, diurnal) and
merit-nt (5 min, strongly diurnal and noisy), with 0-3 outages of 1-12 h per entity: 65.7 million
points. Prints points per second of `detect_outages` (grouping, baselines, alerts, fusion), its
peak resident memory (input frame included), and the ratio against a straightforward loop of
pandas `rolling().median()` over the same series with the same windows, measured in the same run
(that loop computes the medians only, nothing else, on one thread), in wall time and CPU time.

    .venv/bin/python benchmarks/bench_detect.py               # full run (needs ~3 GB free memory)
    .venv/bin/python benchmarks/bench_detect.py --quick       # 10 entities, 60 days
    .venv/bin/python benchmarks/bench_detect.py --workers 1   # detection on one thread
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.detect.params import DetectParams  # noqa: E402
from monitor.detect.run import detect_outages  # noqa: E402

DATASOURCES = {  # name: (step, relative diurnal swing, relative noise, outage depth range)
    "bgp": ("5min", 0.0, 0.0003, (0.2, 0.6)),
    "ping-slash24": ("10min", 0.25, 0.015, (0.5, 0.95)),
    "merit-nt": ("5min", 0.45, 0.08, (0.8, 0.95)),
}


def generate(entities: int, days: int, seed: int = 7) -> tuple[pd.DataFrame, int]:
    """A signal frame (categorical entity/datasource columns) and its number of planted outages.

    Values are counts, as IODA's are: bgp a level that moves by a few /24s now and then,
    ping-slash24 and merit-nt a daily cycle with noise; 0.1 % of the bins are gaps (NaN).
    """
    rng = np.random.default_rng(seed)
    start = int(pd.Timestamp("2023-01-01", tz="UTC").timestamp())
    names = [f"asn/{64512 + i}" for i in range(entities)]
    sizes = {ds: int(pd.Timedelta(days=days) / pd.Timedelta(step)) for ds, (step, *_) in DATASOURCES.items()}
    total = entities * sum(sizes.values())
    entity_code = np.empty(total, dtype=np.int16)
    ds_code = np.empty(total, dtype=np.int8)
    seconds = np.empty(total, dtype=np.int64)
    values = np.empty(total, dtype=np.float64)
    outages, pos = 0, 0
    for e in range(entities):
        hits = [(rng.uniform(0, days - 1) * 86400, rng.uniform(1, 12) * 3600) for _ in range(rng.integers(0, 4))]
        outages += len(hits)
        phase = rng.uniform(0, 24)
        for d, (ds, (step, swing, noise, depth)) in enumerate(DATASOURCES.items()):
            n, step_s = sizes[ds], int(pd.Timedelta(step).total_seconds())
            t = np.arange(n, dtype=np.int64) * step_s
            series = _shape(rng, t, phase, swing, noise, ds == "bgp")
            for at, length in hits:
                series[(t >= at) & (t < at + length)] *= 1 - rng.uniform(*depth)
            series = np.round(series)
            series[rng.random(n) < 0.001] = np.nan
            sl = slice(pos, pos + n)
            entity_code[sl], ds_code[sl] = e, d
            seconds[sl], values[sl] = t + start, series
            pos += n
    times = pd.DatetimeIndex(seconds.view("datetime64[s]")).tz_localize("UTC")
    del seconds
    frame = pd.DataFrame({
        "entity": pd.Categorical.from_codes(entity_code, categories=names),
        "datasource": pd.Categorical.from_codes(ds_code, categories=list(DATASOURCES)),
        "time": times, "value": values}, copy=False)
    return frame, outages


def _shape(rng, t: np.ndarray, phase: float, swing: float, noise: float, stepwise: bool) -> np.ndarray:
    """One series' normal shape: a level, a daily cycle, and noise (a random walk for bgp)."""
    level = rng.uniform(500, 50_000)
    if stepwise:  # visible /24s: constant for a while, then a few more or fewer
        moves = np.where(rng.random(len(t)) < 1 / 12, rng.normal(0, noise * level, len(t)), 0.0)
        return level + np.cumsum(moves)
    hour = (t / 3600.0 + phase) % 24
    cycle = 1 - swing * (0.5 + 0.5 * np.cos(2 * np.pi * (hour - 4) / 24))
    return level * cycle * (1 + rng.normal(0, noise, len(t)))


def pandas_loop(frame: pd.DataFrame, params: DetectParams) -> None:
    """The straightforward loop: one pandas rolling median per series, with the rule's window."""
    for (_, ds), group in frame.groupby(["entity", "datasource"], observed=True, sort=False):
        rule = params.rule_for(ds)
        step = group["time"].iloc[1] - group["time"].iloc[0]
        window, needed = int(rule.window / step), int(rule.min_history / step)
        pd.Series(group["value"].to_numpy()).rolling(window, min_periods=needed).median()


def timed(work) -> tuple[object, float, float]:
    """(result, wall seconds, CPU seconds of all threads) of calling `work`."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_gib() -> float:
    """Peak resident memory since the last reset (VmHWM), else since the process started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 entities, 60 days")
    ap.add_argument("--workers", type=int, default=None, help="threads for detection (default: one per CPU)")
    args = ap.parse_args(argv)
    entities, days = (10, 60) if args.quick else (250, 365)
    began = time.perf_counter()
    frame, planted = generate(entities, days)
    points = len(frame)
    print(f"generated {points:,} points ({entities} entities x {len(DATASOURCES)} datasources, {days} days, "
          f"{planted} planted outages) in {time.perf_counter() - began:.1f} s; "
          f"frame {frame.memory_usage(deep=True).sum() / 2**30:.2f} GiB")
    params = DetectParams()
    reset = _reset_peak()
    outages, detect_s, detect_cpu = timed(lambda: detect_outages(frame, params=params, workers=args.workers))
    peak = _peak_gib()
    _, loop_s, loop_cpu = timed(lambda: pandas_loop(frame, params))
    workers = args.workers or os.cpu_count()
    print(f"detect_outages ({workers} threads): {detect_s:.2f} s ({detect_cpu:.2f} s CPU), "
          f"{points / detect_s / 1e6:.1f} M points/s, {len(outages)} outages ({planted} planted)")
    print(f"pandas rolling().median() loop (1 thread): {loop_s:.2f} s ({loop_cpu:.2f} s CPU), "
          f"{points / loop_s / 1e6:.1f} M points/s")
    print(f"ratio (loop / detection): {loop_s / detect_s:.1f}x wall, {loop_cpu / detect_cpu:.1f}x CPU   "
          f"target >= 5x wall, >= 4x CPU")
    what = "during detection" if reset else "of the whole process"
    print(f"peak memory {what} (resident, input frame included): {peak:.2f} GiB   target < 4 GiB")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print(f"note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs - other work shared "
              "the machine, wall times are inflated; the CPU ratio is the steadier figure")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
