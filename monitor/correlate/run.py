"""Correlation end to end: `correlate` (pure, frames in and out) and `run_correlation` (loads the
outages and the calendar from the store, computes, and stores the run with its parameters)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.correlate.coincidences import DAY, find_coincidences, prepare_events, prepare_outages
from monitor.correlate.episodes import episode_index, find_episodes
from monitor.correlate.params import CorrelateParams
from monitor.correlate.significance import significance
from monitor.entities import Entity
from monitor.errors import InputError
from monitor.frames import EVENT_KINDS, OUTAGE_COLUMNS
from monitor.timeutil import from_epoch, iso, now, parse_time, to_epoch

log = logging.getLogger("monitor.correlate")

DETECTED = "detected"


@dataclass(frozen=True)
class CorrelationResult:
    """One stored run: its id, the parameters as stored, the flags, the summaries, and the
    episodes (EPISODE_COLUMNS: what the tests count; rebuild them with find_episodes)."""

    run_id: int
    params: dict
    coincidences: pd.DataFrame
    summary: pd.DataFrame
    episodes: pd.DataFrame | None = None


def correlate(outages: pd.DataFrame, events: pd.DataFrame, params: CorrelateParams | None = None,
              start=None, end=None, observed: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Flag coincidences and test them: (COINCIDENCE_COLUMNS frame, summary frame).

    `start`/`end` bound the observed span (UTC); by default it is the outages' own span, widened by
    the longest windows so events at its edges still count. `observed` (country -> (start, end)),
    when given, narrows each country's test to where it was observed (see observed_spans) and
    leaves out the countries it does not name that have no outage.
    """
    params = params or CorrelateParams()
    lo, hi = analysis_span(outages, events, params, start, end)
    outages = _starting_in(outages, lo, hi)
    prepared_outages = prepare_outages(outages, until=hi)
    prepared_outages["episode"] = episode_index(prepared_outages["country"].to_numpy(dtype=object),
                                                prepared_outages["a"].to_numpy(), prepared_outages["b"].to_numpy(),
                                                prepared_outages["outage_id"].to_numpy(dtype=object))
    prepared_events = prepare_events(_overlapping(events, lo, hi), params)
    flags = find_coincidences(prepared_outages, prepared_events)
    spans = None if observed is None else {c: (_seconds(a), _seconds(b)) for c, (a, b) in observed.items()}
    return flags, significance(prepared_outages, prepared_events, lo, hi, params, spans)


def analysis_span(outages: pd.DataFrame, events: pd.DataFrame, params: CorrelateParams,
                  start=None, end=None) -> tuple[int, int]:
    """The observed span in unix seconds: [start, end) as given, else the outages' days (or the
    events' when there are no outages), widened by the longest windows, in whole UTC days."""
    if start is not None and end is not None:
        lo, hi = _seconds(start), _seconds(end)
    else:
        lo, hi = _data_span(outages if len(outages) else events, params)
        lo = _seconds(start) if start is not None else lo
        hi = _seconds(end) if end is not None else hi
    if hi <= lo:
        raise InputError(f"empty span: from {iso(from_epoch([lo])[0])} until {iso(from_epoch([hi])[0])}")
    return lo, hi


def _data_span(frame: pd.DataFrame, params: CorrelateParams) -> tuple[int, int]:
    if frame.empty:
        raise InputError("nothing to correlate: no outages and no events")
    starts = to_epoch(pd.to_datetime(frame["start"], utc=True))
    ends = pd.to_datetime(frame["end"], utc=True)
    last = max(int(starts.max()), int(to_epoch(ends.dropna()).max()) if ends.notna().any() else 0)
    before, after = (w.total_seconds() for w in _longest_windows(params))
    return (int(starts.min() - after) // DAY) * DAY, -(-int(last + before + 1) // DAY) * DAY


def _longest_windows(params: CorrelateParams) -> tuple[pd.Timedelta, pd.Timedelta]:
    """The longest `before` and `after` windows over all calendar kinds."""
    kinds = [k for k in EVENT_KINDS if k != "shutdown_report"]
    return max(params.window(k)[0] for k in kinds), max(params.window(k)[1] for k in kinds)


def reports_as_outages(reports: pd.DataFrame) -> pd.DataFrame:
    """Documented shutdowns (events of kind shutdown_report) as an outage frame, keeping the region."""
    n = len(reports)
    return pd.DataFrame({
        "outage_id": (reports["source"] + ":" + reports["uid"]).to_numpy(dtype=object),
        "source": reports["source"].to_numpy(dtype=object),
        "entity": ("country/" + reports["country"]).to_numpy(dtype=object),
        "country": reports["country"].to_numpy(dtype=object),
        "start": pd.to_datetime(reports["start"], utc=True).to_numpy(),
        "end": pd.to_datetime(reports["end"], utc=True).to_numpy(),
        "datasources": [[] for _ in range(n)], "depth": np.full(n, np.nan), "score": np.full(n, np.nan),
        "method": ["report"] * n,
        "detail": [{"title": t, "url": u} for t, u in zip(reports["title"], reports["url"])],
        "region": reports["region"].to_numpy(dtype=object),
    }).astype({"start": "datetime64[s, UTC]", "end": "datetime64[s, UTC]"})[OUTAGE_COLUMNS + ["region"]]


def run_correlation(store, outages_source: str = DETECTED, countries=None, kinds=None, start=None,
                    end=None, params: CorrelateParams | None = None) -> CorrelationResult:
    """Load outages and events from the store, correlate them, store the run; returns it.

    `outages_source` is "detected" (the detector's outages), a reference source of the outages
    table ("ioda-events", "ioda-alerts", "cloudflare-radar") or the source of documented shutdowns
    imported as shutdown_report events ("stop", "ioda-outages", a curated list's name).
    """
    params = params or CorrelateParams()
    started = now()
    start, end = (_time(start), _time(end))
    kinds = _calendar_kinds(kinds)
    outages = load_outages(store, outages_source, countries, start, end)
    if start is None and end is None and outages_source == DETECTED and len(outages):
        start, end = _signal_coverage(store, outages["entity"].unique())
    wide_start, wide_end = _widened(start, end, params)
    events = store.read_events(countries=countries, kinds=kinds, start=wide_start, end=wide_end)
    events = events[events["kind"] != "shutdown_report"].reset_index(drop=True)
    log.info("correlating %d outage(s) from %s with %d event(s)", len(outages), outages_source, len(events))
    if outages.empty and events.empty:
        raise InputError(f"nothing to correlate: no outages from {outages_source!r} and no calendar "
                         "events for the chosen countries, kinds and times")
    lo, hi = analysis_span(outages, events, params, start, end)
    observed = observed_spans(store.signal_summary()) if outages_source == DETECTED else None
    unseen = sorted(set(events["country"].dropna()) - set(observed) - set(outages["country"].dropna())) \
        if observed is not None else []
    if unseen:
        log.warning("no signals stored for %s: no outage could be detected there, so %s left out of the "
                    "tests", ", ".join(unseen), "it is" if len(unseen) == 1 else "they are")
    flags, summary = correlate(outages, events, params, from_epoch([lo])[0], from_epoch([hi])[0], observed)
    episodes = find_episodes(prepare_outages(_starting_in(outages, lo, hi), until=hi))
    stored = dict(params.to_dict(), outages=outages_source, unit="episodes",
                  episodes={"outages": int(episodes["n_outages"].sum()), "episodes": len(episodes)},
                  countries=sorted(countries or []) or None,
                  kinds=sorted(kinds or []) or None, span=[iso(from_epoch([lo])[0]), iso(from_epoch([hi])[0])],
                  observed={c: [iso(a), iso(b)] for c, (a, b) in sorted((observed or {}).items())
                            if not countries or c in countries} or None)
    run_id = store.write_correlation(stored, flags, summary, started=started)
    return CorrelationResult(run_id, stored, flags, summary, episodes)


def load_outages(store, source: str, countries=None, start=None, end=None) -> pd.DataFrame:
    """Outages of one source: the outages table, else shutdown_report events of that source."""
    outages = store.read_outages(sources=[source], countries=countries, start=start, end=end)
    if len(outages) or source == DETECTED:
        regions = [d.get("region") if isinstance(d, dict) else None for d in outages["detail"]]
        return outages.assign(region=pd.Series(regions, index=outages.index, dtype=object))
    reports = store.read_events(countries=countries, kinds=["shutdown_report"], sources=[source],
                                start=start, end=end)
    if reports.empty:
        raise InputError(f"no outages from {source!r} in the store for the chosen countries and times: "
                         "use 'detected', a collected source (ioda-events, cloudflare-radar) or an "
                         "imported list of shutdown reports (stop, ioda-outages, a curated list)")
    return merge_reports(reports_as_outages(reports))


def merge_reports(outages: pd.DataFrame) -> pd.DataFrame:
    """Reports of one country and region whose days overlap, as one outage (the first one's id).

    Lists such as STOP record one shutdown twice (per network type, or again with a later end);
    counted twice, it would be two coincidences where there is one.
    """
    if len(outages) < 2:
        return outages
    df = outages.assign(_region=outages["region"].fillna("").astype(str)).sort_values(
        ["country", "_region", "start"], kind="stable").reset_index(drop=True)
    ends = df["end"].fillna(df["start"])
    reach = ends.groupby([df["country"], df["_region"]]).cummax()
    same = (df["country"] == df["country"].shift()) & (df["_region"] == df["_region"].shift())
    new = ~(same & (df["start"] <= reach.shift()))
    group = new.cumsum()
    merged = df.groupby(group).agg({**{c: "first" for c in df.columns if c not in ("end", "detail")},
                                    "detail": lambda d: d.iloc[0] if len(d) == 1 else
                                    {**d.iloc[0], "merged": [x.get("title") for x in d]}})
    merged["end"] = df["end"].groupby(group).max().to_numpy()  # NaT (no end given) only if none has one
    return merged.drop(columns="_region")[outages.columns].sort_values("start", kind="stable").reset_index(drop=True)


def _calendar_kinds(kinds) -> list[str] | None:
    if not kinds:
        return None
    unknown = [k for k in kinds if k not in EVENT_KINDS or k == "shutdown_report"]
    if unknown:
        raise InputError(f"unknown event kind {unknown[0]!r}: use one of "
                         f"{', '.join(k for k in EVENT_KINDS if k != 'shutdown_report')}")
    return list(kinds)


def observed_spans(summary: pd.DataFrame) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """Country -> (first day, day after the last) of its country-level signals (store.signal_summary()).

    Detected outages exist only where signals do, so chance is counted over this span, not over
    years in which the store holds nothing for the country. Gaps inside it still count as observed.
    """
    codes = summary["entity"].map(lambda e: Entity.parse(e).country)
    known = summary.assign(country=codes).dropna(subset=["country"])
    spans = known.groupby("country").agg(first=("first", "min"), last=("last", "max"))
    return {str(c): (r["first"].floor("D"), r["last"].floor("D") + pd.Timedelta("1D"))
            for c, r in spans.iterrows()}


def _signal_coverage(store, entities) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """First and last signal time of the outages' entities: the span where outages could be seen."""
    summary = store.signal_summary()
    summary = summary[summary["entity"].isin(set(entities))]
    if summary.empty:
        return None, None
    return summary["first"].min().floor("D"), summary["last"].max().ceil("D") + pd.Timedelta("1D")


def _widened(start, end, params: CorrelateParams):
    """The events worth loading for a span: its edges moved out by the longest windows."""
    before, after = _longest_windows(params)
    return (start - after if start is not None else None, end + before if end is not None else None)


def _starting_in(outages: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    if outages.empty:
        return outages
    a = to_epoch(pd.to_datetime(outages["start"], utc=True))
    return outages[(a >= lo) & (a < hi)]


def _overlapping(events: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    if events.empty:
        return events
    s = to_epoch(pd.to_datetime(events["start"], utc=True))
    e = pd.to_datetime(events["end"], utc=True).fillna(pd.to_datetime(events["start"], utc=True))
    return events[(to_epoch(e) >= lo) & (s < hi)]


def _seconds(value) -> int:
    return int(to_epoch(pd.DatetimeIndex([_time(value)]))[0])


def _time(value) -> pd.Timestamp | None:
    return None if value is None else parse_time(value)
