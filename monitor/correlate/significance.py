"""How unlikely are the observed coincidences by chance? Per country x event kind, and overall.

Three tests of one question, each a row of the summary (`method`):
- "eca-precursor": event coincidence analysis (Donges et al. 2016, Eur. Phys. J. ST 225:471). The
  precursor coincidence rate is the share of outages related to at least one event. Under the null
  each outage starts anywhere in the observed span, independently; the chance that outage i is
  related to an event is the share of the span covered by its hit set (the union of the events'
  windows, stretched by the outage's own length), so the count is Poisson-binomial (binomial, as in
  Donges' paper, when all chances are equal). Conditioning on the real calendar keeps its clustering.
- "eca-trigger": the trigger coincidence rate, the share of events related to at least one outage;
  event j's chance is 1 - exp(-sum_i l_ij / T), the Poisson form of Donges' formula.
- "permutation": the precursor count under rotations of each country's calendar around the span by
  whole `shift_unit`s (7 days by default), which keeps its clustering, time of day and weekday.
  With S possible rotations and S <= `permutations`, all are enumerated (exact, p >= 1/S); otherwise
  `permutations` random rotations with the fixed seed. Overall rows rotate every country independently.
  The analytic tests assume outages are independent of one another; when they cluster, trust this one.

Observed vs expected, the rate ratio with an exact Poisson interval at level 1 - alpha, the p-value,
and Benjamini-Hochberg adjusted p-values across all rows of one method. Rows with fewer than
`min_outages` outages or `min_events` events, or whose rotations cannot reach alpha, are not tested.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.correlate.coincidences import EventSet, same_place_mask
from monitor.correlate.params import CorrelateParams
from monitor.correlate.stats import bh_adjust, poisson_binomial_sf, poisson_ci

SUMMARY_COLUMNS = ["country", "kind", "method", "n_outages", "n_events", "observed", "expected",
                   "coincidence_rate", "rate_ratio", "ci_low", "ci_high", "p_value", "p_adjusted",
                   "permutations", "seed", "verdict", "note"]
METHODS = ("eca-precursor", "eca-trigger", "permutation")
ALL = "all"
_CHUNK = 262_144  # outage positions evaluated per block of rotations (fits the cache)


@dataclass(frozen=True)
class Circle:
    """The observed span [start, start + period) as a circle of `rotations` whole shift units."""

    start: int
    period: int
    unit: int

    @classmethod
    def of(cls, start: int, end: int, unit: int) -> "Circle":
        rotations = max(1, math.ceil((end - start) / unit))
        return cls(int(start), int(rotations * unit), int(unit))

    @property
    def rotations(self) -> int:
        return self.period // self.unit


@dataclass
class _Cell:
    """One country x kind (or a merge of several): per-outage and per-event results."""

    n_outages: int
    n_events: int
    hit: np.ndarray            # outage related to an event (observed)
    p_hit: np.ndarray          # its chance under the analytic null
    event_hit: np.ndarray      # event related to an outage (observed)
    q_hit: np.ndarray          # its chance under the analytic null
    rotated: np.ndarray | None = None  # precursor count at each evaluated rotation


@dataclass
class _Country:
    cells: dict                # kind -> _Cell
    any_cell: _Cell            # all kinds together (an outage counts once)
    lookup: np.ndarray         # for overall rows: which evaluated rotation each permutation uses
    exact: bool                # rotations enumerated (index = shift), else random draws


def significance(outages: pd.DataFrame, events: pd.DataFrame, circle: Circle,
                 params: CorrelateParams, spans: dict | None = None) -> pd.DataFrame:
    """The summary frame (SUMMARY_COLUMNS) for prepared outages and events starting in the circle.

    `spans` (country -> (start, end) unix seconds), when given, narrows a country's circle to where
    it was observed, and leaves out the countries it does not name that have no outage: outages can
    only be found where signals exist, and counting chance over years without data would make any
    coincidence look unlikely.
    """
    rng = np.random.default_rng(params.seed)
    countries: dict[str, _Country] = {}
    by_country = dict(tuple(outages.sort_values("a", kind="stable").groupby("country", sort=False)))
    no_outages = outages.iloc[:0]
    for country, ev in events.groupby("country", sort=True):
        lo, hi = circle.start, circle.start + circle.period
        if spans is not None and country in spans:
            lo, hi = max(lo, spans[country][0]), min(hi, spans[country][1])
        elif spans is not None and country not in by_country:
            continue  # neither observed nor with an outage: nothing to test
        if hi <= lo:
            continue  # never observed inside the span: nothing to test
        own = Circle.of(lo, hi, circle.unit)
        out = by_country.get(country, no_outages)
        out = out[(out["a"] >= own.start) & (out["a"] < own.start + own.period)]
        ev = ev[(ev["s"] >= own.start) & (ev["s"] < own.start + own.period)]
        if ev.empty:
            continue
        exact = own.rotations <= params.permutations
        draws = rng.integers(0, own.rotations, params.permutations)
        shifts = np.arange(own.rotations) if exact else draws
        cells, any_cell = _country_cells(out, ev, own, shifts)
        countries[country] = _Country(cells, any_cell, draws if exact else np.arange(len(draws)), exact)
    rows = []
    for country, c in countries.items():
        for kind, cell in c.cells.items():
            rows += _rows(country, kind, cell, _country_null(cell.rotated, c.exact), params)
        if len(c.cells) > 1:
            rows += _rows(country, ALL, c.any_cell, _country_null(c.any_cell.rotated, c.exact), params)
    rows += _overall_rows(countries, params)
    return _finish(pd.DataFrame(rows), params)


def _country_cells(out: pd.DataFrame, ev: pd.DataFrame, circle: Circle,
                   shifts: np.ndarray) -> tuple[dict, _Cell]:
    """Per kind of one country: observed hits, analytic chances and rotated precursor counts."""
    a = out["a"].to_numpy()
    d = np.minimum(out["b"].to_numpy() - a, circle.period)
    regions = out["region_key"].to_numpy(dtype=object)
    cells, tiled = {}, {}
    for kind, kev in ev.groupby("kind", sort=True):
        hit, p_hit, tiled[kind] = np.zeros(len(a), bool), np.zeros(len(a)), []
        for key in _region_classes(regions):
            rows = _same_region(regions, key)
            line = _event_set(kev, key, circle.period)
            widen = np.maximum(line.before, d[rows] - 1)
            tiled[kind].append((None if rows.all() else rows, line.tiled(circle.period), widen))
            hit[rows] = line.hits(a[rows], a[rows] + d[rows])
            p_hit[rows] = _circle_share(line, widen, circle.period)
        event_hit, q_hit = _trigger(a, d, regions, kev, circle.period)
        cells[kind] = _Cell(len(a), len(kev), hit, p_hit, event_hit, q_hit)
    counts, any_counts = _rotate(a, d, tiled, circle, shifts)
    for kind, cell in cells.items():
        cell.rotated = counts[kind]
    any_cell = _merge_kinds(list(cells.values()), len(a))
    any_cell.rotated = any_counts
    return cells, any_cell


def _rotate(a: np.ndarray, d: np.ndarray, tiled: dict, circle: Circle,
            shifts: np.ndarray) -> tuple[dict, np.ndarray]:
    """Precursor counts per kind and for any kind, with the calendar rotated by each shift.

    Rotating the calendar forward by x equals moving the outages back by x. The event sets are
    tiled (repeated every period), so they stay sorted, no modulo is needed, and each outage and
    rotation costs one binary search per kind.
    """
    counts = {kind: np.zeros(len(shifts), dtype=np.int64) for kind in tiled}
    any_counts = np.zeros(len(shifts), dtype=np.int64)
    step = max(1, _CHUNK // max(len(a), 1))
    for lo in range(0, len(shifts) if len(a) else 0, step):
        a_rot = a[None, :] - shifts[lo:lo + step, None] * circle.unit
        any_hit = np.zeros(a_rot.shape, dtype=bool)
        for kind, sets in tiled.items():
            hit = np.zeros(a_rot.shape, dtype=bool)
            for rows, events, widen in sets:
                if rows is None:
                    hit = events.hits_widened(a_rot, widen)
                else:
                    hit[:, rows] = events.hits_widened(a_rot[:, rows], widen)
            counts[kind][lo:lo + step] = hit.sum(axis=1)
            any_hit |= hit
        any_counts[lo:lo + step] = any_hit.sum(axis=1)
    return counts, any_counts


def _trigger(a: np.ndarray, d: np.ndarray, regions: np.ndarray, kev: pd.DataFrame,
             period: int) -> tuple[np.ndarray, np.ndarray]:
    """For each event: related to some outage? and its chance if outages started anywhere."""
    before = int(kev["before"].iloc[0])
    s, reach = kev["s"].to_numpy(), np.minimum(kev["reach"].to_numpy(), kev["s"].to_numpy() + period)
    e_regions = kev["region_key"].to_numpy(dtype=object)
    event_hit, q_hit = np.zeros(len(kev), bool), np.zeros(len(kev))
    for key in _region_classes(e_regions):
        ev_rows = _same_region(e_regions, key)
        out_rows = same_place_mask(key, regions)
        oa, od = a[out_rows], d[out_rows]
        if len(oa) == 0:
            continue
        order = np.argsort(oa, kind="stable")
        oa, od = oa[order], od[order]
        upper_max = np.maximum.accumulate(np.maximum(oa + before, oa + od - 1))
        k = np.searchsorted(oa, reach[ev_rows], side="left")
        event_hit[ev_rows] = (k > 0) & (upper_max[np.maximum(k - 1, 0)] >= s[ev_rows])
        widen = np.sort(np.maximum(before, od - 1))
        span = reach[ev_rows] - s[ev_rows]
        idx = np.searchsorted(widen, period - span, side="left")
        cum = np.concatenate([[0], np.cumsum(widen)])
        covered = idx * span + cum[idx] + (len(widen) - idx) * period
        q_hit[ev_rows] = 1.0 - np.exp(-covered / period)
    return event_hit, q_hit


def _event_set(kev: pd.DataFrame, key, period: int) -> EventSet:
    """The events of one kind that outages of region `key` can relate to (None: all of them)."""
    rows = same_place_mask(key, kev["region_key"].to_numpy(dtype=object))
    s = kev["s"].to_numpy()[rows]
    reach = np.minimum(kev["reach"].to_numpy()[rows], s + period)
    return EventSet.build(s, reach, int(kev["before"].iloc[0]))


def _circle_share(events: EventSet, widen: np.ndarray, period: int) -> np.ndarray:
    """Share of the circle where an outage could start and be related to some event.

    Its hit set is the union of [s_j - widen, reach_j) over the events. On the circle that union's
    length is the union of two copies (shifted by one period) minus the union of one copy.
    """
    if len(events.starts) == 0 or len(widen) == 0:
        return np.zeros(len(widen))
    two = EventSet.build(np.concatenate([events.starts, events.starts + period]),
                         np.concatenate([events.reach, events.reach + period]), events.before)
    length = _union_length(two, widen) - _union_length(events, widen)
    return np.clip(length, 0, period) / period


def _union_length(events: EventSet, widen: np.ndarray) -> np.ndarray:
    """Length of the union of [s_j - w, reach_j) for each w in `widen` (events sorted by start).

    The union runs from the first start to the last reach minus the gaps where a start lies beyond
    every earlier reach; each gap g shrinks to max(0, g - w), so sorted gaps answer all w at once.
    """
    s, top = events.starts, events.reach_max
    gaps = np.sort(s[1:] - top[:-1])
    tail = np.concatenate([np.cumsum(gaps[::-1])[::-1], [0]])
    idx = np.searchsorted(gaps, widen, side="right")
    return top[-1] - s[0] + widen - (tail[idx] - widen * (len(gaps) - idx))


def _merge_kinds(cells: list[_Cell], n_outages: int) -> _Cell:
    """One country's kinds together: an outage is hit if any kind hits it (chances combined as if
    independent); events of all kinds are pooled."""
    miss = np.prod([1.0 - c.p_hit for c in cells], axis=0)
    return _Cell(n_outages, sum(c.n_events for c in cells),
                 np.logical_or.reduce([c.hit for c in cells]), 1.0 - miss,
                 np.concatenate([c.event_hit for c in cells]), np.concatenate([c.q_hit for c in cells]))


def _pool(cells: list[_Cell]) -> _Cell:
    """Cells of different countries side by side (their outages and events are distinct)."""
    return _Cell(sum(c.n_outages for c in cells), sum(c.n_events for c in cells),
                 np.concatenate([c.hit for c in cells]), np.concatenate([c.p_hit for c in cells]),
                 np.concatenate([c.event_hit for c in cells]), np.concatenate([c.q_hit for c in cells]))


def _country_null(rotated: np.ndarray, exact: bool) -> np.ndarray:
    """Rotation counts other than the identity (enumerated) or all random draws."""
    return rotated[1:] if exact else rotated


def _overall_rows(countries: dict[str, _Country], params: CorrelateParams) -> list[dict]:
    """All countries per kind (when a kind spans several) and everything together."""
    rows = []
    kinds = sorted({k for c in countries.values() for k in c.cells})
    for kind in kinds:
        having = [c for c in countries.values() if kind in c.cells]
        if len(having) > 1:
            null = sum(c.cells[kind].rotated[c.lookup] for c in having)
            rows += _rows(ALL, kind, _pool([c.cells[kind] for c in having]), null, params)
    if len(kinds) > 1 and len(countries) > 1:
        null = sum(c.any_cell.rotated[c.lookup] for c in countries.values())
        rows += _rows(ALL, ALL, _pool([c.any_cell for c in countries.values()]), null, params)
    return rows


def _rows(country: str, kind: str, cell: _Cell, null: np.ndarray, params: CorrelateParams) -> list[dict]:
    """The three method rows of one country x kind."""
    too_few = cell.n_outages < params.min_outages or cell.n_events < params.min_events
    base = {"country": country, "kind": kind, "n_outages": cell.n_outages, "n_events": cell.n_events,
            "too_few": too_few}
    precursor, trigger = int(cell.hit.sum()), int(cell.event_hit.sum())
    rows = [dict(base, method="eca-precursor", observed=precursor, expected=float(cell.p_hit.sum()),
                 coincidence_rate=_rate(precursor, cell.n_outages), permutations=0,
                 p_value=poisson_binomial_sf(precursor, cell.p_hit)),
            dict(base, method="eca-trigger", observed=trigger, expected=float(cell.q_hit.sum()),
                 coincidence_rate=_rate(trigger, cell.n_events), permutations=0,
                 p_value=poisson_binomial_sf(trigger, cell.q_hit))]
    n = len(null)
    rows.append(dict(base, method="permutation", observed=precursor,
                     expected=float(null.mean()) if n else math.nan,
                     coincidence_rate=_rate(precursor, cell.n_outages), permutations=n,
                     p_value=(1 + int((null >= precursor).sum())) / (n + 1) if n else math.nan))
    return rows


def _finish(df: pd.DataFrame, params: CorrelateParams) -> pd.DataFrame:
    """Rate ratios and intervals, BH per method, and a plain verdict and note per row."""
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SUMMARY_COLUMNS})
    level = 1.0 - params.alpha
    bounds = [poisson_ci(int(k), level) for k in df["observed"]]
    expected = df["expected"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        df["rate_ratio"] = np.where(expected > 0, df["observed"] / expected, np.nan)
        df["ci_low"] = np.where(expected > 0, [b[0] for b in bounds] / expected, np.nan)
        df["ci_high"] = np.where(expected > 0, [b[1] for b in bounds] / expected, np.nan)
    too_few = df["too_few"].to_numpy(dtype=bool)
    df.loc[too_few, ["rate_ratio", "ci_low", "ci_high"]] = np.nan  # not a figure anyone should quote
    floor = np.where(df["method"] == "permutation", 1.0 / (df["permutations"] + 1), 0.0)
    untestable = too_few | (floor > params.alpha) | df["p_value"].isna().to_numpy()
    df.loc[untestable, "p_value"] = np.nan
    df["p_adjusted"] = np.nan
    for method in METHODS:
        rows = (df["method"] == method).to_numpy()
        df.loc[rows, "p_adjusted"] = bh_adjust(df.loc[rows, "p_value"].to_numpy(dtype=float))
    df["seed"] = params.seed
    df["verdict"] = np.where(untestable, "insufficient",
                             np.where(df["p_adjusted"] < params.alpha, "significant", "not significant"))
    df["note"] = [_note(r, params) for r in df.itertuples(index=False)]
    _caution(df)
    return df[SUMMARY_COLUMNS].reset_index(drop=True)


def _caution(df: pd.DataFrame) -> None:
    """Say so on an analytic row that is significant where the permutation test is not."""
    rotation = df[df["method"] == "permutation"].set_index(["country", "kind"])["verdict"]
    for i, r in df[(df["method"] != "permutation") & (df["verdict"] == "significant")].iterrows():
        if rotation.get((r["country"], r["kind"])) == "not significant":
            df.loc[i, "note"] += ("; the permutation test, which keeps the clustering of outages and "
                                  "events, does not confirm it")


def _note(r, params: CorrelateParams) -> str:
    """One plain sentence a reader can quote."""
    if r.too_few:
        return (f"too few to conclude anything: {r.n_outages} outage(s) and {r.n_events} event(s) "
                f"(at least {params.min_outages} and {params.min_events} needed)")
    if r.method == "permutation" and (r.permutations == 0 or 1.0 / (r.permutations + 1) > params.alpha):
        return (f"too few to conclude anything: the span allows only {r.permutations + 1} rotation(s) of "
                f"the calendar, so p cannot go below {1.0 / (r.permutations + 1):.2g}")
    if r.method == "eca-trigger":
        what = f"{r.observed} of {r.n_events} events had an outage in their window"
    else:
        what = f"{r.observed} of {r.n_outages} outages began in the window of an event"
    how = "by rotating the calendar" if r.method == "permutation" else "if outages were independent"
    return (f"{what}; {r.expected:.3g} expected by chance {how} (p = {r.p_value:.2g}, "
            f"adjusted {r.p_adjusted:.2g})")


def _rate(count: int, total: int) -> float:
    return count / total if total else math.nan


def _region_classes(regions: np.ndarray) -> list:
    """Distinct region keys, None (no region) first."""
    named = sorted({r for r in regions if isinstance(r, str)})
    return ([None] if any(not isinstance(r, str) for r in regions) else []) + named


def _same_region(regions: np.ndarray, key) -> np.ndarray:
    return pd.isna(regions) if key is None else (regions == key)
