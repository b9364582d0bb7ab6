"""What a report says, as plain data: read from the store (the `load_*` functions, the only I/O
here) and shaped into template contexts by pure functions of that data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pycountry

from monitor.correlate.run import load_outages, reports_as_outages
from monitor.entities import Entity
from monitor.errors import InputError
from monitor.frames import EVENT_COLUMNS, SIGNAL_COLUMNS, empty
from monitor.plot import local_zone, outage_country
from monitor.report.coverage import series_step
from monitor.report.fmt import fmt_utc
from monitor.report.methods import detection_params, flatten, methods_context
from monitor.report.params import ReportParams
from monitor.report.significance import significance_rows, stats_for
from monitor.timeutil import iso, now


@dataclass(frozen=True)
class IncidentData:
    """Everything an incident report shows, as read from the store."""

    outage: dict
    signals: pd.DataFrame
    events: pd.DataFrame
    coincidences: pd.DataFrame
    run: dict | None
    window: tuple[pd.Timestamp, pd.Timestamp]
    tz: str | None
    detect_params: dict | None = None
    calendar: pd.DataFrame | None = None   # events of the country over the run's span (single-case chance)


# Events read around a correlation run's span for the single-case chance: wider than any window.
CALENDAR_MARGIN = pd.Timedelta("7D")


def find_outage(store, outage_id: str | None = None, entity: str | None = None,
                at: pd.Timestamp | None = None) -> dict:
    """One outage by id, or the one of `entity` covering time `at` (the detector's first, if several).

    Documented shutdowns (events of kind shutdown_report, id "<source>:<uid>") count as outages too,
    after those of the outages table, so an incident report can be written for a reported shutdown.
    """
    if outage_id is not None:
        found = store.read_outages(ids=[outage_id])
        if found.empty:
            source, _, uid = outage_id.partition(":")
            reports = store.read_events(kinds=["shutdown_report"], sources=[source])
            found = reports_as_outages(reports[reports["uid"] == uid])
        if found.empty:
            raise InputError(f"no outage with id {outage_id!r} in {store.url}")
        return found.iloc[0].to_dict()
    if entity is None or at is None:
        raise InputError("give an outage id, or an entity and a time")
    found = store.read_outages(entities=[entity], start=at, end=at + pd.Timedelta(seconds=1))
    country = Entity.parse(entity).country
    if found.empty and country:
        found = reports_as_outages(store.read_events(countries=[country], kinds=["shutdown_report"], start=at,
                                                     end=at + pd.Timedelta(seconds=1)))
    if found.empty:
        raise InputError(f"no outage of {entity} covers {iso(at)} in {store.url}")
    found = found.assign(_rank=(found["source"] != "detected").astype(int))
    return found.sort_values(["_rank", "start"]).iloc[0].drop("_rank").to_dict()


def latest_run(store, outage_sources, countries, start: pd.Timestamp, end: pd.Timestamp) -> dict | None:
    """The newest correlation run whose scope holds what a report shows: one of `outage_sources`
    (any if None), every one of `countries` (a run without a country filter holds them all), and a
    span overlapping [start, end); a run over all event kinds before one limited to some. Another
    scope's run (say a later run for another country, or for exams only) would report no coincidence
    where there is one, or another country's significance."""
    def holds(p: dict) -> bool:
        lo, hi = (pd.Timestamp(t) for t in p.get("span") or (start, end))
        source_ok = outage_sources is None or "outages" not in p or p["outages"] in outage_sources
        countries_ok = not p.get("countries") or set(countries or []) <= set(p["countries"])
        return source_ok and countries_ok and lo < end and start < hi

    runs = [run for run in store.read_correlation_runs() if holds(run["params"] or {})]
    runs.sort(key=lambda run: bool((run["params"] or {}).get("kinds")))  # stable: newest first within each
    return store.read_correlation_run(runs[0]["run_id"]) if runs else None


def load_incident(store, outage: dict, params: ReportParams, detect=None) -> IncidentData:
    """Read the signals, events and correlation results around one outage.

    The window is the outage with `params.margin` either side, widened to show the start of every
    event that the correlation run covering it (see latest_run) found coinciding with it. `detect`
    (a DetectParams) is described in the methods section when given.
    """
    country = outage_country(pd.DataFrame([outage])).iloc[0]
    run = latest_run(store, [outage["source"]], [country], outage["start"], outage["start"] + pd.Timedelta(seconds=1))
    coincidences = store.read_coincidences(run["run_id"]) if run else pd.DataFrame()
    if not coincidences.empty:
        coincidences = coincidences[coincidences["outage_id"] == outage["outage_id"]].reset_index(drop=True)
    start = outage["start"] - params.margin
    if not coincidences.empty:
        start = min(start, coincidences["event_start"].min() - pd.Timedelta(hours=2))
    ended = outage["end"] is not None and not pd.isna(outage["end"])
    signals = store.read_signals(entities=[outage["entity"]], start=start,
                                 end=outage["end"] + params.margin if ended else None)
    window = (start, _end(outage, signals) + params.margin)
    country = _country(outage)
    events = store.read_events(countries=[country], start=window[0] - params.nearby,
                               end=window[1] + params.nearby) if country else empty(EVENT_COLUMNS)
    tz = local_zone(f"country/{country}") if country else None
    described = detection_params(detect, set(signals["datasource"]) | set(outage["datasources"] or [])) \
        if detect is not None else None
    span = ((run or {}).get("params") or {}).get("span")
    calendar = store.read_events(countries=[country], start=pd.Timestamp(span[0]) - CALENDAR_MARGIN,
                                 end=pd.Timestamp(span[1]) + CALENDAR_MARGIN) if span and country else None
    return IncidentData(outage, signals, events, coincidences, run, window, tz, described, calendar)


def _end(outage: dict, signals: pd.DataFrame) -> pd.Timestamp:
    """The outage's end; for an ongoing one, the last signal time (or now)."""
    if outage["end"] is not None and not pd.isna(outage["end"]):
        return outage["end"]
    return signals["time"].max() if not signals.empty else now()


def _country(outage: dict) -> str | None:
    country = outage.get("country")
    if country and not pd.isna(country):
        return country
    return Entity.parse(outage["entity"]).country


def country_name(code: str | None) -> str:
    """`Iran` for `IR`; the code itself when pycountry does not know it."""
    if not code:
        return ""
    found = pycountry.countries.get(alpha_2=str(code).upper())
    return getattr(found, "common_name", None) or getattr(found, "name", None) or str(code)


def incident_context(data: IncidentData, params: ReportParams) -> dict:
    """The template context of an incident report."""
    o = data.outage
    country = _country(o)
    ongoing = o["end"] is None or pd.isna(o["end"])
    flagged = set(zip(data.coincidences.get("event_source", []), data.coincidences.get("event_uid", [])))
    summary = pd.DataFrame(data.run["summary"]) if data.run else pd.DataFrame()
    return {
        "kind": "incident",
        "title": f"Outage in {_place(country, o['entity'])}, {fmt_utc(o['start'])}",
        "outage": {**o, "ongoing": ongoing, "country": country, "country_name": country_name(country),
                   "duration": None if ongoing else o["end"] - o["start"], "reported": o.get("method") == "report",
                   "detail": _detail(o.get("detail")),
                   "detail_record": o.get("detail") if isinstance(o.get("detail"), dict) else {}},
        "tz": data.tz,
        "params": params,
        "window": data.window,
        "depths": signal_depths(data.signals, o["start"], _end(o, data.signals), params.baseline,
                                o.get("detail")),
        "coincidences": _coincidences(data.coincidences, data.events, summary),
        "nearby": _nearby(data.events, flagged | {tuple(o["outage_id"].split(":", 1))}),  # not itself
        "run": data.run,
        "table_start": around(data.signals, o["start"], params.table_rows),
        "table_end": None if ongoing else around(data.signals, o["end"], params.table_rows),
        "methods": methods_context(signals=data.signals, outages=pd.DataFrame([o]), events=data.events,
                                   run=data.run, detect_params=data.detect_params, window=data.window,
                                   expected={o["entity"]: list(o["datasources"] or [])}, params=params),
    }


def _place(country: str | None, entity: str) -> str:
    name = country_name(country)
    return f"{name} ({entity})" if name else entity


def _detail(detail) -> list[tuple[str, str]]:
    return flatten(detail) if isinstance(detail, dict) else []


def signal_depths(signals: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                  baseline: pd.Timedelta, detail: dict | None = None) -> list[dict]:
    """Per datasource: median before the outage (its baseline), median and minimum during it, the
    depth (1 - during / baseline), the share of bins during the outage that hold a value, and the
    detector's own depth when its record (`detail["datasources"][name]["depth"]`) has one."""
    found = detail.get("datasources") if isinstance(detail, dict) else None
    rows = []
    for name, s in signals.groupby("datasource", sort=True):
        before = s[(s["time"] >= start - baseline) & (s["time"] < start)]["value"]
        during = s[(s["time"] >= start) & (s["time"] < end)]
        base, mid = before.median(), during["value"].median()
        depth = 1 - mid / base if base and np.isfinite(base) and np.isfinite(mid) else np.nan
        step = series_step(s["time"])
        bins = max(int((end - start) / step), 1) if step is not None else None
        rows.append({"datasource": name, "baseline": base, "median": mid, "minimum": during["value"].min(),
                     "depth": depth, "points": int(during["value"].notna().sum()),
                     "coverage": during["value"].notna().sum() / bins if bins else np.nan,
                     "detector": ((found or {}).get(name) or {}).get("depth")})
    return rows


def around(signals: pd.DataFrame, t: pd.Timestamp, n: int) -> dict:
    """The raw values of every datasource at the `n` times before and from `t` (a wide table)."""
    if signals.empty or n == 0:
        return {"columns": [], "rows": []}
    wide = signals.pivot_table(index="time", columns="datasource", values="value", aggfunc="first",
                               dropna=False)
    present = signals.assign(one=1).pivot_table(index="time", columns="datasource", values="one",
                                                aggfunc="first")
    times = wide.index
    i = times.searchsorted(t)
    sel = times[max(i - n, 0):i + n]
    rows = []
    for time in sel:
        cells = [("gap" if present.at[time, c] == 1 else "") if pd.isna(wide.at[time, c]) else wide.at[time, c]
                 for c in wide.columns]
        rows.append({"time": time, "cells": cells, "at": time == times[min(i, len(times) - 1)]})
    return {"columns": list(wide.columns), "rows": rows}


def _coincidences(coincidences: pd.DataFrame, events: pd.DataFrame, summary: pd.DataFrame) -> list[dict]:
    if coincidences.empty:
        return []
    by_key = {(e["source"], e["uid"]): e for e in events.to_dict("records")}
    rows = []
    for c in coincidences.sort_values(["event_start", "event_uid"]).to_dict("records"):
        event = by_key.get((c["event_source"], c["event_uid"]), {})
        rows.append({**c, "url": event.get("url"), "description": event.get("description"),
                     "event_end": event.get("end"), "stats": stats_for(summary, c.get("country"),
                                                                       c.get("event_kind"))})
    return rows


def _run_span(run: dict | None, start: pd.Timestamp, end: pd.Timestamp) -> dict | None:
    """The span a correlation run tested, and whether it leaves part of [start, end) out."""
    span = (run or {}).get("params", {}).get("span")
    if not span:
        return None
    lo, hi = pd.Timestamp(span[0]), pd.Timestamp(span[1])
    return {"start": lo, "end": hi, "partial": lo > start or hi < end}


def _nearby(events: pd.DataFrame, flagged: set) -> list[dict]:
    return [e for e in events.to_dict("records") if (e["source"], e["uid"]) not in flagged]


@dataclass(frozen=True)
class DigestData:
    """Everything a digest shows, as read from the store."""

    start: pd.Timestamp
    end: pd.Timestamp
    countries: list[str]
    outages: pd.DataFrame
    events: pd.DataFrame
    coincidences: pd.DataFrame
    run: dict | None
    signals: pd.DataFrame
    detect_params: dict | None = None


def load_digest(store, start: pd.Timestamp, end: pd.Timestamp, countries: list[str] | None,
                outage_sources: list[str] | None = ("detected",), detect=None) -> DigestData:
    """Read outages, events, correlation results and signals of `countries` over [start, end);
    `detect` (a DetectParams) is described in the methods section when given."""
    if outage_sources:  # each source's outages, or its documented shutdowns (as correlate reads them)
        frames = [load_outages(store, source, countries, start, end) for source in outage_sources]
        outages = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    else:
        outages = store.read_outages(start=start, end=end)
    if countries:
        outages = outages[outage_country(outages).isin(countries)] if not outages.empty else outages
    countries = list(countries) if countries else sorted(outage_country(outages).dropna().unique())
    events = store.read_events(countries=countries, start=start, end=end)
    run = latest_run(store, outage_sources, countries, start, end)
    coincidences = store.read_coincidences(run["run_id"]) if run else pd.DataFrame()
    if not coincidences.empty:
        coincidences = coincidences[coincidences["outage_id"].isin(outages["outage_id"])]
    entities = [f"country/{c}" for c in countries]
    signals = store.read_signals(entities=entities, start=start, end=end) if entities else empty(SIGNAL_COLUMNS)
    described = detection_params(detect, set(signals["datasource"])) if detect is not None else None
    return DigestData(start, end, countries, outages.reset_index(drop=True), events,
                      coincidences.reset_index(drop=True), run, signals, described)


def digest_context(data: DigestData, params: ReportParams) -> dict:
    """The template context of a digest."""
    cc = outage_country(data.outages) if not data.outages.empty else pd.Series(dtype=object)
    summary = pd.DataFrame(data.run["summary"]) if data.run else pd.DataFrame()
    titles = data.coincidences.groupby("outage_id")["event_title"].agg(list).to_dict() \
        if not data.coincidences.empty else {}
    stored = data.signals.groupby("entity")["datasource"].unique().to_dict() if not data.signals.empty else {}
    outages = [{**o, "country": c, "tz": _zone(c), "duration": _duration(o),
                "events": titles.get(o["outage_id"], [])}
               for o, c in zip(data.outages.to_dict("records"), cc)]
    return {
        "kind": "digest",
        "title": f"Outage digest {data.start:%Y-%m-%d} – {data.end:%Y-%m-%d} UTC",
        "start": data.start, "end": data.end,
        "countries": [_country_row(c, outages, data.coincidences, stored, data) for c in data.countries],
        "outages": outages,
        "coincidences": data.coincidences.sort_values("outage_start").to_dict("records")
        if not data.coincidences.empty else [],
        "significance": significance_rows(summary, data.countries, params.alpha),
        "run": data.run,
        "run_span": _run_span(data.run, data.start, data.end),
        "params": params,
        "alpha": params.alpha,
        "methods": methods_context(signals=data.signals, outages=data.outages, events=data.events, run=data.run,
                                   detect_params=data.detect_params, window=(data.start, data.end),
                                   expected=None, params=params),
    }


def _zone(country) -> str | None:
    return local_zone(f"country/{country}") if country and len(str(country)) == 2 else None


def _duration(outage: dict):
    return None if outage["end"] is None or pd.isna(outage["end"]) else outage["end"] - outage["start"]


def _country_row(country: str, outages: list[dict], coincidences: pd.DataFrame, stored: dict,
                 data: DigestData) -> dict:
    mine = [o for o in outages if o["country"] == country]
    hours = sum((o["duration"] or (data.end - o["start"])).total_seconds() for o in mine) / 3600
    depths = [o["depth"] for o in mine if o["depth"] is not None and not pd.isna(o["depth"])]
    flagged = 0 if coincidences.empty else coincidences.loc[coincidences["country"] == country, "outage_id"].nunique()
    return {"country": country, "name": country_name(country), "outages": len(mine), "hours": hours,
            "deepest": max(depths) if depths else None, "with_events": flagged,
            "datasources": sorted(stored.get(f"country/{country}", []))}
