"""One verdict per hypothesis: are there more coincidences than chance would give?

A hypothesis is country x event kind x relation:
- "during": an episode overlaps an event of that kind;
- "before": an episode begins at most the kind's `before` window ahead of an event (pre-emptive);
- "after":  an episode begins at most the kind's `after` window after an event begins (reaction).
The unit is the episode (see episodes.py): a shutdown reported as many rows counts once.
The statistic is the number of episodes in that relation to at least one event.

The null (shifts.py) keeps the observed outages fixed and shifts the calendar of that kind as a
whole around the country's observed span, by whole days when either side has a daily rhythm; every
shift is evaluated, so p is exact. `expected` is the mean count over the shifts.

All tested rows of a run form one family, adjusted by Benjamini-Hochberg (BH). Under the complete
null (nothing related anywhere) BH holds the chance of any false claim at alpha; when some effects
are real it holds the expected share of false claims among the claims at alpha, which is what a
reader scanning a table of countries needs. BH is valid when the tests are positively dependent
(Benjamini & Yekutieli 2001), as counts over overlapping windows of one calendar are expected to be;
benchmarks/calibration.py measures the resulting false-claim rate. No pooled rows are made, so no
row is ever tested together with its own components.

The interval is for the excess (observed minus chance, in episodes) and comes from inverting the
same shift test: an excess x is inside when "observed - x" would not be called significant either
way at the BH-corrected level alpha * R / m (R claims among m tests; Benjamini & Yekutieli 2005).
So the interval excludes 0 exactly when the verdict is "significant"; the interval is two-sided at
level 1 - 2 alpha R / m (`ci_level`).

Each row is tested again at half and double its window (two more families); a verdict that changes
is marked `fragile`. Rows with too little data (fewer than `min_outages` episodes or `min_events`
events, or too few shifts to reach alpha) get neither p nor interval. A country with one episode
gets a "single case" row with the chance of single_case.py instead.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from monitor.correlate.coincidences import same_place
from monitor.correlate.params import CorrelateParams, duration_text
from monitor.correlate.shifts import (RELATIONS, RHYTHM_P, Pairs, ShiftGrid, daily_rhythm_p, intervals,
                                      shifted_counts)
from monitor.correlate.single_case import SINGLE_CASE_CAVEAT, chance_seconds
from monitor.correlate.stats import bh_adjust, bh_claims

SUMMARY_COLUMNS = ["country", "kind", "relation", "window", "n_outages", "n_episodes", "n_events",
                   "observed", "expected", "excess", "ci_low", "ci_high", "ci_level", "rate_ratio",
                   "p_value", "p_adjusted", "tests", "shifts", "shift_unit", "verdict", "verdict_half",
                   "verdict_double", "fragile", "chance", "note"]
SIGNIFICANT, NOT_SIGNIFICANT = "significant", "not significant"
INSUFFICIENT, SINGLE_CASE = "insufficient data", "single case"
SCALES = {"": 1.0, "_half": 0.5, "_double": 2.0}  # verdict column suffix -> window factor
WORDING = {"during": "overlapped an event of kind {kind}",
           "before": "began within {window} before an event of kind {kind} (pre-emptive)",
           "after": "began within {window} after an event of kind {kind} began (reaction)"}


def significance(outages: pd.DataFrame, events: pd.DataFrame, start: int, end: int,
                 params: CorrelateParams, spans: dict | None = None) -> pd.DataFrame:
    """The summary frame (SUMMARY_COLUMNS) for prepared outages (with an `episode` column) and
    prepared events, over the observed span [start, end) in unix seconds.

    `spans` (country -> (start, end) unix seconds), when given, narrows a country's span to where
    it was observed, and leaves out the countries it does not name that have no outage: outages can
    only be found where signals exist, and counting chance over years without data would make any
    coincidence look unlikely.
    """
    rows = []
    by_country = dict(tuple(outages.groupby("country", sort=False)))
    for country, ev in events.groupby("country", sort=True):
        lo, hi = start, end
        if spans is not None and country in spans:
            lo, hi = max(lo, spans[country][0]), min(hi, spans[country][1])
        elif spans is not None and country not in by_country:
            continue  # neither observed nor with an outage: nothing to test
        if hi <= lo:
            continue
        out = by_country.get(country, outages.iloc[:0])
        out = out[(out["a"] >= lo) & (out["a"] < hi)]
        ev = ev[(ev["s"] >= lo) & (ev["s"] < hi)]
        for kind, kev in ev.groupby("kind", sort=True):
            rows += _country_kind_rows(country, kind, out, kev, lo, hi, params)
    return _finish(rows, params)


def _country_kind_rows(country, kind, out, kev, lo, hi, params) -> list[dict]:
    """The rows of one country and kind, each holding its shift counts at every window scale."""
    before, after = (int(w.total_seconds()) for w in params.window(kind))
    episode = pd.factorize(out["episode"], sort=True)[0]
    n_episodes = int(episode.max()) + 1 if len(out) else 0
    base = {"country": country, "kind": kind, "n_outages": len(out), "n_episodes": n_episodes,
            "n_events": len(kev)}
    a, d = out["a"].to_numpy(), out["b"].to_numpy() - out["a"].to_numpy()
    s, e = kev["s"].to_numpy(), kev["e"].to_numpy()
    pairs = Pairs.build(a, d, episode, s, e, _place_ok(out, kev))
    if n_episodes == 1:
        length = int(out["b"].max() - out["a"].min())  # the episode, from its first start to its last end
        return [_single_case(base, pairs, length, s, e, lo, hi, before, after)]
    starts = out.groupby(episode)["a"].min().to_numpy()
    daily = bool(kev["all_day"].fillna(False).any()) or \
        min(daily_rhythm_p(starts), daily_rhythm_p(s)) < RHYTHM_P
    grid = ShiftGrid.of(lo, hi, daily, params.permutations)
    cache: dict = {}
    rows = []
    for relation in RELATIONS:
        width = {"during": 0, "before": before, "after": after}[relation]
        null = {}
        for suffix, factor in SCALES.items():
            key = (relation, round(width * factor))
            if key not in cache:
                cache[key] = shifted_counts(pairs, relation, key[1], grid)
            null[suffix] = cache[key]
        rows.append(dict(base, relation=relation, window=duration_text(pd.Timedelta(seconds=width))
                         if width else "", width=width, shifts=grid.size,
                         shift_unit=duration_text(pd.Timedelta(seconds=grid.unit)), null=null))
    return rows


def _place_ok(out: pd.DataFrame, kev: pd.DataFrame) -> np.ndarray | None:
    """Which outage may relate to which event by region (None: all, no region on either side)."""
    o_keys, e_keys = out["region_key"].to_numpy(dtype=object), kev["region_key"].to_numpy(dtype=object)
    if all(k is None for k in o_keys) or all(k is None for k in e_keys):
        return None
    o_codes, o_uniq = pd.factorize(pd.Series(o_keys, dtype=object), use_na_sentinel=False)
    e_codes, e_uniq = pd.factorize(pd.Series(e_keys, dtype=object), use_na_sentinel=False)
    table = np.array([[same_place(_key(x), _key(y)) for y in e_uniq] for x in o_uniq], dtype=bool)
    return table[o_codes][:, e_codes]


def _key(value):
    return value if isinstance(value, str) else None


def _single_case(base, pairs: Pairs, length: int, s, e, lo, hi, before, after) -> dict:
    """One episode: no test, the chance that an outage of its length placed at random would relate."""
    related = False
    for relation, width in (("during", 0), ("before", before), ("after", after)):
        first, last = intervals(pairs, relation, width)
        related |= bool(((first <= 0) & (0 < last)).any())
    chance = chance_seconds(length, s, e, lo, hi, before, after) if len(s) else math.nan
    return dict(base, relation="any", window=f"{duration_text(pd.Timedelta(seconds=before))} before, "
                f"{duration_text(pd.Timedelta(seconds=after))} after", width=0, observed=int(related),
                chance=chance, verdict=SINGLE_CASE, null=None, shifts=0, shift_unit="", length=length)


def _finish(rows: list[dict], params: CorrelateParams) -> pd.DataFrame:
    """p-values, one BH family per window scale, verdicts, intervals, fragility and notes."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SUMMARY_COLUMNS})
    tested = [r for r in rows if r["null"] is not None]
    for r in tested:
        r["insufficient"] = _insufficient(r, params)
        counts = r["null"][""]
        r.update(observed=int(counts[0]), expected=float(counts.mean()))
    for suffix in SCALES:
        family = [r for r in tested if not r["insufficient"]]
        p = np.array([_p_value(r["null"][suffix]) for r in family])
        claims = bh_claims(p, params.alpha)
        level = params.alpha * max(claims, 1) / max(len(family), 1)  # BH: claim where p <= level
        for r, p_r, p_adj in zip(family, p, bh_adjust(p)):
            r["verdict" + suffix] = SIGNIFICANT if claims and p_r <= level else NOT_SIGNIFICANT
            if suffix == "":
                r.update(p_value=p_r, p_adjusted=p_adj, tests=len(family), ci_level=1 - 2 * level)
                r["ci_low"], r["ci_high"] = excess_interval(r["null"][""], level)
        for r in tested:
            r.setdefault("verdict" + suffix, INSUFFICIENT)
    for r in rows:
        r["fragile"] = _fragile(r)
        r["excess"] = r["observed"] - r["expected"] if "expected" in r else math.nan
        r["rate_ratio"] = r["observed"] / r["expected"] if r.get("expected") else math.nan
        r["note"] = _note(r, params)
    df = pd.DataFrame(rows)
    for column in SUMMARY_COLUMNS:
        if column not in df:
            df[column] = math.nan
    df["fragile"] = df["fragile"].astype(bool)
    return df[SUMMARY_COLUMNS].reset_index(drop=True)


def _insufficient(r: dict, params: CorrelateParams) -> str | None:
    """Why a row cannot be tested, or None."""
    if r["n_episodes"] < params.min_outages or r["n_events"] < params.min_events:
        return (f"too few to test: {r['n_episodes']} episode(s) and {r['n_events']} event(s) "
                f"(at least {params.min_outages} and {params.min_events} needed)")
    if 1.0 / r["shifts"] > params.alpha:
        return (f"too short to test: the span allows {r['shifts']} shift(s) of the calendar by "
                f"{r['shift_unit']}, so p cannot go below {1.0 / r['shifts']:.2g}")
    if r["relation"] != "during" and r["width"] == 0:
        return "no window: this relation is not tested"
    return None


def _p_value(counts: np.ndarray) -> float:
    """Share of shifts (the observed one included) with at least the observed count."""
    return _tail_at_least(np.sort(counts), counts[0])


def _tail_at_least(sorted_counts: np.ndarray, value) -> np.ndarray:
    size = len(sorted_counts)
    return (size - np.searchsorted(sorted_counts, value, side="left")) / size


def excess_interval(counts: np.ndarray, level: float) -> tuple[int, int]:
    """Integer excesses x (observed minus chance, in episodes) that the shift test at `level` does
    not reject on either side: observed - x is neither above the upper nor below the lower critical
    count of the null. The low end is >= 1 exactly when _p_value(counts) <= level."""
    observed, null = int(counts[0]), np.sort(counts)
    values = np.arange(-1, int(null[-1]) + 2)
    upper_tail = _tail_at_least(null, values)
    lower_tail = np.searchsorted(null, values, side="right") / len(null)
    critical = int(values[np.argmax(upper_tail <= level)])              # smallest v: P(count >= v) <= level
    floor = int(values[np.flatnonzero(lower_tail <= level).max()])      # largest v: P(count <= v) <= level
    return observed - critical + 1, observed - floor - 1


def _fragile(r: dict) -> bool:
    decided = (SIGNIFICANT, NOT_SIGNIFICANT)
    main = r.get("verdict")
    return main in decided and any(r.get("verdict" + s) in decided and r.get("verdict" + s) != main
                                   for s in ("_half", "_double"))


def _note(r: dict, params: CorrelateParams) -> str:
    """The plain sentences a reader can quote."""
    if r["verdict"] == SINGLE_CASE:
        return (f"A single episode: no test is possible. An outage of this length "
                f"({_readable(r['length'])}) placed at a random time in the "
                f"span observed for {r['country']} would be related to an event of kind {r['kind']} "
                f"({r['window']}) {r['chance']:.1%} of the time. {SINGLE_CASE_CAVEAT}")
    what = (f"{r['relation']}: {r['observed']} of {r['n_episodes']} episodes "
            + WORDING[r["relation"]].format(window=r["window"], kind=r["kind"]))
    chance = (f"{r['expected']:.3g} expected with the calendar shifted ({r['shifts']:,} shifts by "
              f"{r['shift_unit']})")
    if r["verdict"] == INSUFFICIENT:
        return f"{what}; {r['insufficient']}"
    text = (f"{what}; {chance}; excess {r['excess']:+.3g} episodes ({r['ci_level']:.1%} interval "
            f"{r['ci_low']:+d} to {r['ci_high']:+d}); p = {r['p_value']:.2g}, adjusted "
            f"{r['p_adjusted']:.2g} (Benjamini-Hochberg over {r['tests']} tests): {r['verdict']}")
    if r["fragile"]:
        text += (f"; fragile: {r['verdict_half']} with the window halved, {r['verdict_double']} "
                 "with it doubled")
    return text


def _readable(seconds: int) -> str:
    """A duration for a sentence: '6 d 23 h', '3 h 20 min', '45 min' (to the minute)."""
    minutes = round(seconds / 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins and not days else ""]
    return " ".join(p for p in parts if p) or "under a minute"
