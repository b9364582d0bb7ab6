"""Calibration: how often does the correlator claim a link that is not there, and how often does it
find one that is?

Random calendars that have nothing to do with the outages (timed Poisson events, bursts of timed
events, runs of all-day events) are correlated with five outage structures: nightly cuts (70 nights,
Myanmar 2021 style), exam-season blocks (12 daily morning cuts a year), outages covering ~70 % of
the span, IODA's hand-checked Venezuela list (data/ioda-outages/: national and regional rows of one
shutdown, clustered) and 40 random outages over a year. A false claim is any row of the country and
kind called significant (whatever the relation), as a reader would quote it. The rate comes with a
95 % Wilson interval; the target is an upper end <= 0.08 at alpha 0.05.

Power: 40 random outages over a year and 30 events, 40 % of them placed 20-90 minutes before an
outage start (the outage reacts to the event); the share of calendars where the "after" row is
significant (target >= 0.8).

Baseline, measured in the same run: the analytic tests this replaces (event coincidence analysis:
each outage, and each event, an independent trial whose chance is the share of start times that
would relate it to the other side; outages not grouped into episodes; a claim when either test gives
p < alpha).

    .venv/bin/python benchmarks/calibration.py [--quick] [--calendars N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from monitor.correlate import CorrelateParams, correlate
from monitor.correlate.coincidences import prepare_events, prepare_outages
from monitor.correlate.single_case import chance_seconds
from monitor.correlate.stats import wilson_interval
from monitor.events.ioda_outages import parse_ioda_outages
from monitor.frames import EVENT_COLUMNS, OUTAGE_COLUMNS

DAY, HOUR = 86400, 3600
START = pd.Timestamp("2021-01-01", tz="UTC")
COUNTRY = "MM"
IODA_LIST = Path(__file__).resolve().parents[1] / "data/ioda-outages/ioda_investigated_outages_cleaned_phase1+2.csv"
CALENDARS = {"timed": "protest", "bursty": "opposition_event", "all-day": "exam"}  # type -> event kind


# -- outage structures: (start offsets in seconds, lengths in seconds, regions or None), span ---------
def nightly(rng) -> tuple:
    """70 consecutive nights cut from about 01:00 to 09:00 Myanmar time (18:30-02:30 UTC)."""
    first = rng.integers(0, 365 - 70)
    starts = (first + np.arange(70)) * DAY + 18 * HOUR + 30 * 60
    return starts, np.full(70, 8 * HOUR), None, 365 * DAY


def exam_blocks(rng) -> tuple:
    """Two exam seasons of six days, cut every morning 05:00-08:00 UTC."""
    days = np.concatenate([d + np.arange(6) for d in rng.choice(np.arange(0, 359, 7), 2, replace=False)])
    return days * DAY + 5 * HOUR, np.full(len(days), 3 * HOUR), None, 365 * DAY


def most_of_span(rng) -> tuple:
    """30 outages of about 8.5 days covering ~70 % of the year, in random order with random gaps."""
    lengths = np.full(30, int(0.7 * 365 * DAY / 30))
    gaps = rng.dirichlet(np.ones(31)) * (365 * DAY - lengths.sum())
    starts = np.cumsum(gaps[:-1]) + np.concatenate([[0], np.cumsum(lengths[:-1])])
    return starts.astype(np.int64), lengths, None, 365 * DAY


def random_outages(rng, n: int = 40) -> tuple:
    """n outages at uniform random times over a year, lasting a few hours (lognormal)."""
    starts = np.sort(rng.integers(0, 365 * DAY - 14 * DAY, n))
    return starts, np.minimum(rng.lognormal(np.log(3 * HOUR), 1.0, n), 14 * DAY).astype(np.int64), None, 365 * DAY


def venezuela(rng) -> tuple:
    """IODA's hand-checked Venezuela rows as they are (312 rows, 148 start days, regions named)."""
    text = IODA_LIST.read_text(encoding="utf-8-sig")
    rows = parse_ioda_outages(text, where=IODA_LIST.name, country="VE").events
    a = (pd.to_datetime(rows["start"], utc=True) - START).dt.total_seconds().to_numpy(np.int64)
    b = (pd.to_datetime(rows["end"], utc=True) - START).dt.total_seconds().to_numpy(np.int64)
    lo = a.min() // DAY * DAY
    return a - lo, np.maximum(b - a, 1), rows["region"].to_numpy(dtype=object), int(-(-(b.max() - lo) // DAY) * DAY)


STRUCTURES = {"nightly cuts": nightly, "exam-season blocks": exam_blocks, "outages over ~70% of span": most_of_span,
              "IODA Venezuela list (clustered)": venezuela, "40 random outages": random_outages}


# -- random calendars, unrelated to the outages -----------------------------------------------------
def calendar(kind: str, rng, span: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """(starts, lengths, all_day) of a random calendar of one type over [0, span)."""
    if kind == "timed":
        n = rng.poisson(30)
        return rng.integers(0, span, n), rng.integers(HOUR, 3 * HOUR, n), False
    if kind == "bursty":
        centres = rng.integers(0, span, 6)
        starts = (np.repeat(centres, 5) + rng.integers(0, 3 * DAY, 30)) % span
        return starts, rng.integers(HOUR, 3 * HOUR, 30), False
    first = rng.integers(0, span // DAY - 5, 4)  # four runs of five all-day events
    days = np.unique((first[:, None] + np.arange(5)).ravel())
    return days * DAY, np.full(len(days), DAY), True


def frames(outage_structure: tuple, events: tuple, kind: str, country: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    a, length, regions, _ = outage_structure
    s, e_len, all_day = events
    n, m = len(a), len(s)
    start = START + pd.to_timedelta(a, unit="s")
    outages = pd.DataFrame({
        "outage_id": [f"o{i}" for i in range(n)], "source": "calibration", "entity": f"country/{country}",
        "country": country, "start": start, "end": start + pd.to_timedelta(length, unit="s"),
        "datasources": [[] for _ in range(n)], "depth": np.nan, "score": np.nan, "method": "calibration",
        "detail": None, "region": regions if regions is not None else None})
    ev_start = START + pd.to_timedelta(s, unit="s")
    events_frame = pd.DataFrame({
        "uid": [f"e{j}" for j in range(m)], "source": "calibration", "kind": kind, "country": country,
        "region": None, "start": ev_start, "end": ev_start + pd.to_timedelta(e_len, unit="s"),
        "all_day": all_day, "title": "random event", "url": None, "description": None, "raw": None})
    return outages[OUTAGE_COLUMNS + ["region"]], events_frame[EVENT_COLUMNS]


def claims(outages, events, span: int, params: CorrelateParams, relation: str | None = None) -> bool:
    """Does the correlator call any row (or the `relation` row) significant?"""
    _, summary = correlate(outages, events, params, START, START + pd.Timedelta(seconds=span))
    rows = summary if relation is None else summary[summary["relation"] == relation]
    return bool((rows["verdict"] == "significant").any())


def old_method_claims(outages, events, span: int, params: CorrelateParams) -> bool:
    """The analytic tests this replaces: outages (not episodes) as independent trials placed at
    random in the span, and events likewise (the precursor and trigger rates of event coincidence
    analysis), each a test of its own; a claim when either says p < alpha."""
    lo = int(START.timestamp())
    po, pe = prepare_outages(outages), prepare_events(events, params)
    before, after = (int(w.total_seconds()) for w in params.window(events["kind"].iloc[0]))
    a, b, s, e = po["a"].to_numpy(), po["b"].to_numpy(), pe["s"].to_numpy(), pe["e"].to_numpy()
    pair = ((a[:, None] < e) & (s < b[:, None])) | ((s - before <= a[:, None]) & (a[:, None] <= s + after))
    outage_chance = [chance_seconds(min(d, span // 2), s, e, lo, lo + span, before, after) for d in b - a]
    event_chance = [chance_seconds(min(d, span // 2), a, b, lo, lo + span, after, before) for d in e - s]
    return min(_poisson_binomial_sf(int(pair.any(axis=1).sum()), outage_chance),
               _poisson_binomial_sf(int(pair.any(axis=0).sum()), event_chance)) < params.alpha


def _poisson_binomial_sf(k: int, probs: np.ndarray) -> float:
    pmf = np.zeros(len(probs) + 1)
    pmf[0] = 1.0
    for p in probs:
        pmf[1:] = pmf[1:] * (1 - p) + pmf[:-1] * p
        pmf[0] *= 1 - p
    return float(pmf[k:].sum())


def false_claims(structure, n_calendars: int, params: CorrelateParams, seed: int,
                 baseline: bool = True) -> dict:
    """False claims of the correlator (and of the old method) over n random calendars."""
    rng = np.random.default_rng(seed)
    country = "VE" if structure is venezuela else COUNTRY
    new = old = 0
    for i in range(n_calendars):
        shape = structure(rng)
        cal_type = list(CALENDARS)[i % len(CALENDARS)]
        outages, events = frames(shape, calendar(cal_type, rng, shape[3]), CALENDARS[cal_type], country)
        if events.empty:
            continue
        new += claims(outages, events, shape[3], params)
        old += baseline and old_method_claims(outages, events, shape[3], params)
    return {"n": n_calendars, "new": new, "old": old}


def planted(rng) -> tuple:
    """40 random outages and 30 events, 12 of them 20-90 minutes before an outage's start."""
    shape = random_outages(rng)
    chosen = rng.choice(40, 12, replace=False)
    s = np.concatenate([shape[0][chosen] - rng.integers(20 * 60, 90 * 60, 12), rng.integers(0, shape[3], 18)])
    return shape, (s, np.full(30, HOUR), False)


def power(n_calendars: int, params: CorrelateParams, seed: int) -> int:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_calendars):
        shape, events = planted(rng)
        outages, ev = frames(shape, events, "opposition_event", COUNTRY)
        hits += claims(outages, ev, shape[3], params, relation="after")
    return hits


def _rate(k: int, n: int) -> str:
    low, high = wilson_interval(k, n)
    return f"{k:>3}/{n} = {k / n:.3f} (95% {low:.3f}-{high:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 calendars per structure, 30 planted")
    parser.add_argument("--calendars", type=int, help="random calendars per structure (default 600)")
    args = parser.parse_args()
    n = args.calendars or (60 if args.quick else 600)
    n_power = 30 if args.quick else 200
    params = CorrelateParams()
    print(f"alpha {params.alpha}; {n} random calendars per structure (timed, bursty, all-day in turn)")
    print(f"{'structure':34} {'false claims (shift test)':40} {'old analytic test':40} target upper <= 0.08")
    worst = 0.0
    for i, (name, structure) in enumerate(STRUCTURES.items()):
        began = time.perf_counter()
        r = false_claims(structure, n, params, seed=100 + i)
        worst = max(worst, wilson_interval(r["new"], r["n"])[1])
        print(f"{name:34} {_rate(r['new'], r['n']):40} {_rate(r['old'], r['n']):40} "
              f"({time.perf_counter() - began:.0f} s)", flush=True)
    hits = power(n_power, params, seed=7)
    print(f"power (planted, 'after' row significant): {_rate(hits, n_power)}")
    bound = "met" if worst <= 0.08 else "NOT met"
    if args.quick and worst > 0.08:
        bound = "not judged (a quick run has too few calendars to bound the rate under 0.08)"
    print(f"targets: false-claim upper bound <= 0.08 in every structure: {bound} (worst {worst:.3f}); "
          f"power >= 0.8: {'met' if hits / n_power >= 0.8 else 'NOT met'}" + (" [quick run]" if args.quick else ""))


if __name__ == "__main__":
    main()
