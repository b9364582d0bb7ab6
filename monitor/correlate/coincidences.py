"""Coincidence flags: which outages relate in time to which events of the same country.

An outage [a, b) and an event [s, e) of the same country (and the same region where both name one)
are related when
  - "during": they overlap (the event falls during the outage, or the outage during the event);
  - "before": otherwise, the outage starts at most `before` ahead of the event (a pre-emptive cut);
  - "after":  otherwise, the outage starts at most `after` past the event's start (a reaction).
Zero-length intervals count as one second, an ongoing outage (end NaT) lasts to `until`.
`offset_minutes` is outage start minus event start (negative: the outage came first).

For a fixed event kind the three rules together are one test on integer seconds (see `related`):
    s <= max(a + before, b - 1)  and  reach > a,  with reach = max(e, s + after + 1),
which lets a sorted array of event starts find an outage's candidate events with one binary search.

Regions are free text. Both sides must name one for it to matter; a text that means the whole
country ("Nationwide", "national", "entire country") or an AS number is no region. Two regions are the
same place when one contains the other as whole words ("Kurdistan" and "Kurdistan - (Erbil, Duhok)").

All-day events span whole local days of their country. The importers store them that way; an all-day
event that still sits on UTC midnights (a bare date read as UTC) is moved to the same dates in the
country's zone (`monitor.events.countries.country_timezone`) before any comparison.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from monitor.correlate.params import CorrelateParams
from monitor.entities import Entity
from monitor.errors import InputError
from monitor.events.countries import country_timezone
from monitor.frames import COINCIDENCE_COLUMNS, empty
from monitor.timeutil import from_epoch, to_epoch

log = logging.getLogger("monitor.correlate")

DAY = 86400
# Region texts that mean the whole country (STOP writes "Nationwide", "National", "Entire country"...).
_WHOLE_COUNTRY = re.compile(r"\b(nation ?wi?de?|national(?! capital)|country ?wide|entire country|whole country)\b")
_AS_NUMBER = re.compile(r"^as ?\d+$")


def prepare_outages(outages: pd.DataFrame, until: int | None = None) -> pd.DataFrame:
    """Outages as integer seconds `a`, `b` (b > a) with a country and a normalised region key.

    Outages whose country is unknown (and not readable from a country entity) cannot be compared
    with any event and are left out, with a log line.
    """
    df = outages.reset_index(drop=True).copy()
    if df.empty:
        return df.assign(a=np.array([], dtype=np.int64), b=np.array([], dtype=np.int64),
                         ongoing=np.array([], dtype=bool), region_key=pd.Series([], dtype=object))
    country = df["country"] if "country" in df else pd.Series(None, index=df.index, dtype=object)
    df["country"] = [c if isinstance(c, str) and c else _entity_country(e) for c, e in zip(country, df["entity"])]
    unknown = df["country"].isna()
    if unknown.any():
        log.info("%d outage(s) without a country left out of correlation", int(unknown.sum()))
        df = df[~unknown].reset_index(drop=True)
    df["a"] = to_epoch(pd.to_datetime(df["start"], utc=True))
    ends = pd.to_datetime(df["end"], utc=True)
    limit = until if until is not None else int(max(df["a"].max(), 0)) + 1
    b = np.full(len(df), limit, dtype=np.int64)
    present = ends.notna().to_numpy()
    b[present] = to_epoch(ends[present])
    df["b"] = np.maximum(b, df["a"].to_numpy() + 1)
    df["ongoing"] = ~present
    df["region_key"] = _region_keys(df, len(df))
    return df


def prepare_events(events: pd.DataFrame, params: CorrelateParams) -> pd.DataFrame:
    """Calendar events as integer seconds `s`, `e` (e > s), with their kind's windows and `reach`.

    Shutdown reports are outages, not calendar events: they are dropped here. All-day events still
    on UTC midnights are moved to their country's local day.
    """
    df = events[events["kind"] != "shutdown_report"].reset_index(drop=True).copy()
    no_country = df["country"].isna() | (df["country"].astype(str) == "")
    if no_country.any():
        log.info("%d event(s) without a country left out of correlation", int(no_country.sum()))
        df = df[~no_country].reset_index(drop=True)
    s = to_epoch(pd.to_datetime(df["start"], utc=True)) if len(df) else np.array([], dtype=np.int64)
    e = _end_seconds(df["end"], s)
    if len(df):
        s, e = _local_days(df, s, e)
    windows = {kind: params.window(kind) for kind in df["kind"].unique()}
    before = np.array([windows[k][0].total_seconds() for k in df["kind"]], dtype=np.int64)
    after = np.array([windows[k][1].total_seconds() for k in df["kind"]], dtype=np.int64)
    e = np.maximum(e, s + 1)
    df["s"], df["e"], df["before"] = s, e, before
    df["reach"] = np.maximum(e, s + after + 1)
    df["region_key"] = _region_keys(df, len(df))
    return df


def region_key(text) -> str | None:
    """A comparable form of a region's name; None for no region, the whole country or an AS."""
    if not isinstance(text, str):
        return None
    key = " ".join(re.sub(r"[\W_]+", " ", text.casefold().replace("&", " and ")).split())
    if not key or _WHOLE_COUNTRY.search(key) or _AS_NUMBER.match(key):
        return None
    return key


def same_place(a: str | None, b: str | None) -> bool:
    """Region keys that may name the same place: either is None, or one contains the other."""
    return a is None or b is None or f" {a} " in f" {b} " or f" {b} " in f" {a} "


def find_coincidences(outages: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Every related (outage, event) pair of prepared frames, as a COINCIDENCE_COLUMNS frame."""
    parts = []
    by_country = dict(tuple(outages.groupby("country", sort=False)))
    for (country, _kind), ev in events.groupby(["country", "kind"], sort=True):
        if country in by_country:
            parts.append(_pairs(by_country[country], ev))
    if not parts:
        return empty(COINCIDENCE_COLUMNS)
    pairs = pd.concat(parts, ignore_index=True)
    return _coincidence_frame(outages, events, pairs)


def related(a: int, b: int, s: int, e: int, before: int, after: int) -> str | None:
    """The relation of one outage [a, b) to one event [s, e) by the rules above, or None.

    The reference definition (one pair at a time) that the vectorised code must agree with.
    """
    b, e = max(b, a + 1), max(e, s + 1)
    if a < e and s < b:
        return "during"
    if s - before <= a < s:
        return "before"
    if s <= a <= s + after:
        return "after"
    return None


def _pairs(out: pd.DataFrame, ev: pd.DataFrame) -> pd.DataFrame:
    """Candidate pairs by binary search, then the exact rule and the region match."""
    order = np.argsort(ev["s"].to_numpy(), kind="stable")
    ev = ev.iloc[order]
    s, reach = ev["s"].to_numpy(), ev["reach"].to_numpy()
    before = int(ev["before"].iloc[0])
    a, b = out["a"].to_numpy(), out["b"].to_numpy()
    longest = int((reach - s).max())
    lo = np.searchsorted(s, a - longest, side="right")
    hi = np.searchsorted(s, np.maximum(a + before, b - 1), side="right")
    counts = np.maximum(hi - lo, 0)
    oi = np.repeat(np.arange(len(out)), counts)
    ej = np.repeat(lo, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    keep = reach[ej] > a[oi]
    oi, ej = oi[keep], ej[keep]
    o_region = out["region_key"].to_numpy(dtype=object)[oi]
    e_region = ev["region_key"].to_numpy(dtype=object)[ej]
    verdict = {(x, y): same_place(x, y) for x, y in set(zip(o_region, e_region))}
    place = np.fromiter((verdict[p] for p in zip(o_region, e_region)), dtype=bool, count=len(oi))
    return pd.DataFrame({"o": out.index.to_numpy()[oi][place], "e": ev.index.to_numpy()[ej][place]})


def _coincidence_frame(outages: pd.DataFrame, events: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs of positions in the prepared frames -> the coincidence frame, sorted by time."""
    oi, ej = pairs["o"].to_numpy(), pairs["e"].to_numpy()
    a, b = outages["a"].to_numpy()[oi], outages["b"].to_numpy()[oi]
    s, end = events["s"].to_numpy()[ej], events["e"].to_numpy()[ej]
    relation = np.where((a < end) & (s < b), "during", np.where(a < s, "before", "after"))
    ongoing = outages["ongoing"].to_numpy()[oi]
    frame = pd.DataFrame({
        "outage_id": outages["outage_id"].to_numpy(dtype=object)[oi],
        "entity": outages["entity"].to_numpy(dtype=object)[oi],
        "outage_start": from_epoch(a), "outage_end": from_epoch(b).where(~ongoing, pd.NaT),
        "event_source": events["source"].to_numpy(dtype=object)[ej],
        "event_uid": events["uid"].to_numpy(dtype=object)[ej],
        "event_title": events["title"].to_numpy(dtype=object)[ej],
        "event_kind": events["kind"].to_numpy(dtype=object)[ej],
        "event_start": from_epoch(s), "country": outages["country"].to_numpy(dtype=object)[oi],
        "relation": relation.astype(object), "offset_minutes": (a - s) / 60.0})
    return frame.sort_values(["outage_start", "entity", "event_start", "event_uid"],
                             ignore_index=True)[COINCIDENCE_COLUMNS]


def _entity_country(entity) -> str | None:
    try:
        return Entity.parse(entity).country
    except InputError:
        return None


def _region_keys(df: pd.DataFrame, n: int) -> pd.Series:
    keys = [region_key(r) for r in df["region"]] if "region" in df else [None] * n
    return pd.Series(keys, index=df.index, dtype=object)


def _end_seconds(ends: pd.Series, starts: np.ndarray) -> np.ndarray:
    """Event ends in seconds; a missing end makes the event a point at its start."""
    e = np.array(starts, dtype=np.int64, copy=True)
    times = pd.to_datetime(ends, utc=True)
    present = times.notna().to_numpy()
    if present.any():
        e[present] = to_epoch(times[present])
    return e


def _local_days(df: pd.DataFrame, s: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All-day events still on UTC midnights -> the same dates in their country's zone."""
    s, e = s.copy(), e.copy()
    utc_dated = df["all_day"].fillna(False).astype(bool).to_numpy() & (s % DAY == 0) & (e % DAY == 0)
    for country in pd.unique(df.loc[utc_dated, "country"]):
        rows = utc_dated & (df["country"] == country).to_numpy()
        zone = country_timezone(country)
        s[rows] = _local_midnights(s[rows], zone)
        e[rows] = _local_midnights(e[rows], zone)
    return s, e


def _local_midnights(utc_midnights: np.ndarray, zone: str) -> np.ndarray:
    """The calendar dates of UTC midnights, as the start of those dates in `zone` (UTC seconds)."""
    dates = from_epoch(utc_midnights).tz_localize(None)
    # a midnight that happens twice (clocks back at 01:00) is the first one; a skipped one, 01:00
    local = dates.tz_localize(zone, ambiguous=np.ones(len(dates), dtype=bool), nonexistent="shift_forward")
    return to_epoch(local)
