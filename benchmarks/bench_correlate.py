"""Benchmark: correlate 10,000 outages with 100,000 events and 10,000 permutations (target < 30 s).

Synthetic data over ten years: 50 countries, five event kinds, half the outages in bursts, a tenth
of the events all-day. The defaults are timed: for each country x kind the calendar is shifted by
whole days (the all-day events give it a daily rhythm), every one of the 3,640 shifts evaluated, for
three relations at three windows (the sensitivity check).
The baseline is the straightforward method: a Python loop over every outage-event pair of a country,
for the observed calendar and for each shift, timed on a subsample in the same run and scaled by
the number of pair checks.

    .venv/bin/python benchmarks/bench_correlate.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import pycountry

from monitor.correlate import CorrelateParams, correlate
from monitor.correlate.coincidences import prepare_events, prepare_outages, related
from monitor.errors import InputError
from monitor.events.countries import country_timezone
from monitor.frames import EVENT_COLUMNS, OUTAGE_COLUMNS

START = pd.Timestamp("2015-01-05", tz="UTC")
DAYS = 3640
KINDS = ("election", "protest", "opposition_event", "exam", "other")


def synthetic(n_outages: int, n_events: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outages (half in bursts) and events (a tenth all-day) spread over 50 countries."""
    rng = np.random.default_rng(seed)
    countries = np.array([c.alpha_2 for c in pycountry.countries if _has_zone(c.alpha_2)][:50])
    half = n_outages // 2
    bursts = rng.uniform(0, DAYS, max(1, half // 10))
    offsets = np.concatenate([rng.uniform(0, DAYS, n_outages - half),
                              (rng.choice(bursts, half) + rng.uniform(0, 5, half)) % DAYS])
    starts = START + pd.to_timedelta(np.round(offsets * 86400), unit="s")
    hours = np.minimum(rng.lognormal(1.0, 1.0, n_outages), 24 * 14)
    outages = pd.DataFrame({
        "outage_id": [f"o{i}" for i in range(n_outages)], "source": "bench",
        "country": rng.choice(countries, n_outages), "start": starts,
        "end": starts + pd.to_timedelta(np.round(hours * 3600), unit="s"),
        "datasources": [["bgp"]] * n_outages, "depth": 0.8, "score": 1.0, "method": "bench", "detail": None})
    outages["entity"] = "country/" + outages["country"]
    ev_starts = START + pd.to_timedelta(np.round(rng.uniform(0, DAYS, n_events) * 86400), unit="s")
    all_day = rng.random(n_events) < 0.1
    ev_starts = ev_starts.where(~all_day, ev_starts.floor("D"))
    ev_ends = ev_starts + pd.to_timedelta(np.where(all_day, 86400, rng.integers(1800, 4 * 3600, n_events)), unit="s")
    events = pd.DataFrame({
        "uid": [f"e{i}" for i in range(n_events)], "source": "bench", "kind": rng.choice(KINDS, n_events),
        "country": rng.choice(countries, n_events), "region": None, "start": ev_starts, "end": ev_ends,
        "all_day": all_day, "title": "event", "url": None, "description": None, "raw": None})
    return outages[OUTAGE_COLUMNS], events[EVENT_COLUMNS]


def _has_zone(cc: str) -> bool:
    try:
        country_timezone(cc)
    except InputError:
        return False
    return True


def naive_seconds_per_check(outages: pd.DataFrame, events: pd.DataFrame, params: CorrelateParams,
                            rotations: int, seed: int = 2) -> tuple[float, int]:
    """Time the pair-by-pair loop (observed + `rotations` daily shifts) on small frames."""
    po, pe = prepare_outages(outages), prepare_events(events, params)
    rng = np.random.default_rng(seed)
    day, period, origin = 86400, DAYS * 86400, int(START.timestamp())
    windows = {k: tuple(int(w.total_seconds()) for w in params.window(k)) for k in KINDS}
    calendar = {cc: [(int(e.s), int(e.e - e.s), windows[e.kind]) for e in group.itertuples()]
                for cc, group in pe.groupby("country")}
    checks = 0
    began = time.perf_counter()
    for shift in [0] + list(rng.integers(1, DAYS, rotations) * day):
        for o in po.itertuples():
            for s, length, (before, after) in calendar.get(o.country, []):
                checks += 1
                s = origin + (s - origin + shift) % period
                if related(o.a, o.b, s, s + length, before, after):
                    break
    return (time.perf_counter() - began) / max(checks, 1), checks


def pair_count(outages: pd.DataFrame, events: pd.DataFrame) -> int:
    """Outage-event pairs within the same country (what the naive loop must check)."""
    per_country = events["country"].value_counts()
    return int(outages["country"].map(per_country).fillna(0).sum())


def timed(outages, events, params) -> tuple[float, pd.DataFrame, pd.DataFrame]:
    began = time.perf_counter()
    flags, summary = correlate(outages, events, params, START, START + pd.Timedelta(days=DAYS))
    return time.perf_counter() - began, flags, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 outages x 10,000 events x 1,000 permutations")
    args = parser.parse_args()
    n_out, n_ev, n_perm = (1_000, 10_000, 1_000) if args.quick else (10_000, 100_000, 10_000)
    outages, events = synthetic(n_out, n_ev)
    print(f"{n_out:,} outages x {n_ev:,} events x {n_perm:,} permutations, 50 countries, {DAYS} days",
          flush=True)
    params = CorrelateParams(permutations=n_perm)
    seconds, flags, summary = timed(outages, events, params)
    tested = summary[summary["p_value"].notna()]
    print(f"default: {seconds:.2f} s; {len(flags):,} coincidences, {len(summary)} summary rows "
          f"({len(tested)} tested); shifts per row {int(tested['shifts'].max()):,} by {tested['shift_unit'].iloc[0]}",
          flush=True)

    sample_out, sample_ev = outages.sample(200, random_state=3), events.sample(2_000, random_state=3)
    rotations = 5
    per_check, checks = naive_seconds_per_check(sample_out, sample_ev, params, rotations)
    shifts = int(tested["shifts"].max())
    naive = per_check * pair_count(outages, events) * shifts * 7  # 7 (relation, window) counts per kind
    print(f"naive pair loop: {per_check * 1e6:.2f} us per pair check ({checks:,} checks on a 200 x 2,000 "
          f"subsample, {rotations} shifts), scaled to the full run: {naive:,.0f} s")
    print(f"ratio naive / vectorised: {naive / seconds:,.0f}x")
    target = 30.0
    verdict = "met" if seconds < target else "NOT met"
    print(f"target < {target:.0f} s with the default settings: {verdict} ({seconds:.2f} s)"
          + (" [quick run]" if args.quick else ""))


if __name__ == "__main__":
    main()
