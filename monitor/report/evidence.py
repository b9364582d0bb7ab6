"""The evidence file: every figure and claim a report states, as one JSON document.

A report's HTML and Markdown are rendered from this document only (after a JSON round trip), so
the two never disagree with each other or with the file a reader can check them against. Each
figure is kept as shown (`*_text`, formatted for people) next to its exact value; titles are kept
whole here and shortened only in the rendered tables.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd

from monitor.frames import SCORE_MEANING
from monitor.correlate.single_case import SINGLE_CASE_CAVEAT, single_case_chance
from monitor.plot import COUNT_UNITS, MARK_UNITS
from monitor.report import fmt
from monitor.report.attribution import attribution
from monitor.report.context import DigestData, IncidentData, digest_context, incident_context
from monitor.report.significance import _of as _rows_of  # the rows significance_rows shows
from monitor.report.significance import headline_rows, no_effect_inside
from monitor.timeutil import iso

SCHEMA = "outage-monitor/evidence/1"
UNITS = {**COUNT_UNITS, **MARK_UNITS}   # datasources drawn in their own units


def plain(value):
    """A value as JSON holds it: times in ISO, durations in seconds, NaN as null, numpy as Python."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return iso(value)
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if isinstance(value, np.generic):
        value = value.item()
    if fmt.missing(value) or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def dumps(evidence: dict) -> str:
    """The evidence as JSON text (UTF-8, control characters escaped by JSON)."""
    return json.dumps(plain(evidence), indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def _when(ts, tz) -> dict:
    return {"time": iso(ts) if not fmt.missing(ts) else None, "text": fmt.fmt_utc(ts),
            "local": fmt.fmt_local(ts, tz)}


def _text_pairs(pairs) -> list[list[str]]:
    return [[fmt.clean(k), fmt.shorten(v)] for k, v in pairs]


# -- pieces shared by both kinds ---------------------------------------------------------------
def methods_evidence(mt: dict) -> dict:
    """The methods-and-sources section, figures as text."""
    run = mt["run"]
    return {
        "software": mt["software"], "generated": _when(mt["generated"], None),
        "window": [_when(mt["window"][0], None), _when(mt["window"][1], None)],
        "detect_methods": [fmt.clean(m) for m in mt["detect_methods"]],
        "detect_params": _text_pairs(mt["detect_params"]),
        "run": {"id": run["run_id"], "finished": _when(run["finished"], None)} if run else None,
        "run_params": _text_pairs(mt["run_params"]),
        "sources": [{"provider": a.provider, "url": a.url, "terms": a.terms} for a in mt["sources"]],
        "ioda_copyright": mt["ioda_copyright"],
        "unattributed": [fmt.clean(n) for n in mt["unattributed"]],
        "coverage": [{"entity": fmt.clean(c["entity"]), "datasource": fmt.clean(c["datasource"]),
                      "step": fmt.fmt_duration(c["step"]), "expected": fmt.fmt_num(c["expected"]),
                      "with_data": fmt.fmt_num(c["with_data"]), "missing": fmt.fmt_num(c["missing"]),
                      "longest_gap": fmt.fmt_duration(c["longest_gap"]) if c["longest_gap"] else "none"}
                     for c in mt["coverage"]],
        "gaps": [{"entity": fmt.clean(g["entity"]), "datasource": fmt.clean(g["datasource"]),
                  "start": fmt.fmt_utc(g["start"]), "end": fmt.fmt_utc(g["end"]), "bins": int(g["bins"])}
                 for g in mt["gaps"]],
        "gaps_total": mt["gaps_total"],
        "absent": [[fmt.clean(e), fmt.clean(d)] for e, d in mt["absent"]],
    }


def stat_evidence(row: dict) -> dict:
    """One summary row of the correlator (any columns), with a sentence for people."""
    method = fmt.clean(row.get("method") or "test")
    note = fmt.clean(row.get("note")) if row.get("note") else None
    interval = None
    if not fmt.missing(row.get("ci_low")) and not fmt.missing(row.get("ci_high")):
        interval = f"{fmt.fmt_figure(row['ci_low'])}–{fmt.fmt_figure(row['ci_high'])}"
    new_run = "excess" in row and not fmt.missing(row.get("excess"))
    if note:
        text = note
    else:
        text = (f"{fmt.fmt_figure(row.get('observed'))} observed, {fmt.fmt_num(row.get('expected'), 2)} expected "
                f"by chance (p = {fmt.fmt_p(row.get('p_value'))}, adjusted {fmt.fmt_p(row.get('p_adjusted'))})")
        if interval:
            text += (f"; excess {fmt.fmt_figure(row.get('excess'))} episodes, interval {interval}" if new_run
                     else f"; rate ratio {fmt.fmt_figure(row.get('rate_ratio'))}, interval {interval}")
    caveats = []
    if not fmt.missing(row.get("fragile")) and bool(row.get("fragile")):
        caveats.append("the correlator flags this verdict as fragile")
    if interval is not None and no_effect_inside(row) and row.get("verdict") == "significant":
        caveats.append("the interval includes no effect (no association)")
    return {"method": method, "verdict": fmt.clean(row.get("verdict")) or None, "text": text,
            "caveats": caveats, "row": plain(row)}


# -- incident ---------------------------------------------------------------------------------
def _outage(o: dict, tz) -> dict:
    detail = o.get("detail_record") or {}
    severity = detail.get("severity") if isinstance(detail, dict) else None
    reported = bool(o["reported"])
    credit = attribution(o["source"])
    by = "the detector" if o["source"] == "detected" else fmt.clean(o["source"])
    return {
        "id": fmt.clean(o["outage_id"]), "source": fmt.clean(o["source"]), "method": fmt.clean(o.get("method")),
        "entity": fmt.clean(o["entity"]), "country": o["country"], "country_name": fmt.clean(o["country_name"]),
        "start": _when(o["start"], tz), "end": _when(o["end"], tz), "ongoing": bool(o["ongoing"]),
        "duration_seconds": None if o["duration"] is None else o["duration"].total_seconds(),
        "duration_text": "ongoing" if o["ongoing"] else fmt.fmt_duration(o["duration"]),
        "depth": plain(o.get("depth")), "depth_text": fmt.fmt_pct(o.get("depth")), "depth_by": by,
        "score": plain(o.get("score")), "score_text": fmt.fmt_figure(o.get("score")),
        "severity": fmt.clean(severity) if isinstance(severity, str) else plain(severity),
        "long_running": bool(isinstance(detail, dict) and detail.get("long_running")),
        "score_meaning": SCORE_MEANING if o["source"] == "detected" else None,
        "datasources": [fmt.clean(d) for d in o["datasources"] or []],
        "reported": reported, "reported_by": credit.credit if credit and reported else None,
        "report": {"title": fmt.clean(detail.get("title")), "title_text": fmt.shorten(detail.get("title")),
                   "url": detail.get("url")} if reported else None,
    }


def _signals(depths: list[dict]) -> list[dict]:
    rows = []
    for d in depths:
        rows.append({"datasource": fmt.clean(d["datasource"]), "unit": UNITS.get(d["datasource"], "as stored"),
                     "baseline": plain(d["baseline"]), "baseline_text": fmt.fmt_figure(d["baseline"]),
                     "median": plain(d["median"]), "median_text": fmt.fmt_figure(d["median"]),
                     "minimum": plain(d["minimum"]), "minimum_text": fmt.fmt_figure(d["minimum"]),
                     "drop": plain(d["depth"]), "drop_text": fmt.fmt_pct(d["depth"]),
                     "points": int(d["points"]), "coverage_text": fmt.fmt_pct(d["coverage"])})
    return rows


def _detector_depths(detail) -> list[dict]:
    """The detector's own depth per source or datasource, from its record."""
    found = detail.get("datasources") if isinstance(detail, dict) else None
    rows = []
    for name, rec in sorted((found or {}).items()):
        if isinstance(rec, dict) and not fmt.missing(rec.get("depth")):
            peak = pd.to_datetime(rec.get("peak_at"), utc=True, errors="coerce")
            rows.append({"name": fmt.clean(name), "depth": plain(rec["depth"]), "depth_text": fmt.fmt_pct(rec["depth"]),
                         "peak": None if fmt.missing(peak) else fmt.fmt_utc(peak)})
    return rows


def merge_events(rows: list[dict]) -> list[dict]:
    """Events listed by several sources (or twice by one) as one row: same kind, start, end and title."""
    merged: dict[tuple, dict] = {}
    for e in rows:
        key = (e["kind"], iso(e["start"]), iso(e["end"]) if not fmt.missing(e["end"]) else None,
               fmt.clean(e["title"]).casefold())
        if key in merged:
            merged[key]["sources"] = sorted(set(merged[key]["sources"]) | {e["source"]})
            merged[key]["keys"].append([e["source"], e["uid"]])
        else:
            merged[key] = {**e, "sources": [e["source"]], "keys": [[e["source"], e["uid"]]]}
    return list(merged.values())


def _events(coincidences: list[dict], nearby: list[dict], tz) -> list[dict]:
    """Every event of the report in time order, numbered as the chart labels them."""
    flagged = [{"uid": c["event_uid"], "source": c["event_source"], "kind": c["event_kind"],
                "title": c["event_title"], "start": c["event_start"], "end": c.get("event_end"), "url": c.get("url"),
                "relation": c["relation"], "offset": c["offset_minutes"], "stats": c["stats"]} for c in coincidences]
    others = [{**e, "relation": None, "offset": None, "stats": []} for e in nearby]
    rows = merge_events(flagged) + [e for e in merge_events(others)
                                   if (e["source"], e["uid"]) not in {(f["source"], f["uid"]) for f in flagged}]
    out = []
    for i, e in enumerate(sorted(rows, key=lambda e: (e["start"], e["relation"] is None)), start=1):
        end = None if fmt.missing(e["end"]) else e["end"]
        out.append({"n": i, "title": fmt.clean(e["title"]) or fmt.clean(e["kind"]),
                    "title_text": fmt.shorten(e["title"]) or fmt.clean(e["kind"]),
                    "kind": fmt.clean(e["kind"]), "sources": [fmt.clean(s) for s in e["sources"]],
                    "keys": e["keys"], "url": e["url"] if isinstance(e["url"], str) else None,
                    "start": _when(e["start"], tz), "end": _when(end, tz) if end is not None else None,
                    "duration_text": fmt.fmt_duration(end - e["start"])
                    if end is not None and end > e["start"] else None,
                    "coinciding": e["relation"] is not None, "relation": fmt.clean(e["relation"]) or None,
                    "offset_text": fmt.fmt_offset(e["offset"]) if e["relation"] is not None else None,
                    "stats": [stat_evidence(s) for s in e["stats"]]})
    return out


def _chance(data: IncidentData, events: list[dict]) -> list[dict]:
    """The single-case chance per kind of coinciding event, over the correlation run's span."""
    o = data.outage
    params = (data.run or {}).get("params") or {}
    if o["end"] is None or pd.isna(o["end"]) or not params.get("span"):
        return []
    lo, hi = (pd.Timestamp(t) for t in params["span"])
    duration = o["end"] - o["start"]
    out = []
    for kind in sorted({e["kind"] for e in events if e["coinciding"]}):
        window = _run_window((params.get("windows") or {}).get(kind))
        if window is None:
            continue
        before, after = window
        known = data.calendar if data.calendar is not None else data.events
        calendar = known[known["kind"] == kind] if not known.empty else known
        share = single_case_chance(duration, calendar, lo, hi, before, after)
        out.append({"kind": kind, "share": plain(share), "share_text": fmt.fmt_pct(share),
                    "events": int(len(calendar)), "span": [_when(lo, None)["text"], _when(hi, None)["text"]],
                    "before_text": fmt.fmt_duration(before), "after_text": fmt.fmt_duration(after),
                    "duration_text": fmt.fmt_duration(duration), "caveat": SINGLE_CASE_CAVEAT})
    return out


def _kind(kind: str) -> str:
    """`opposition_event` -> `opposition event`, for sentences."""
    return kind.replace("_", " ")


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _run_window(spec) -> tuple[pd.Timedelta, pd.Timedelta] | None:
    """A run's stored coincidence window of a kind, {"before": "2h", "after": "3h"} (or a pair)."""
    pair = (spec.get("before", "0s"), spec.get("after", "0s")) if isinstance(spec, dict) else spec
    try:
        before, after = (pd.Timedelta(v) for v in pair)
    except (TypeError, ValueError):
        return None
    return before, after


def _summary(e: dict) -> list[str]:
    """Plain sentences a journalist can quote, made only of the evidence's own figures: what, where,
    when (UTC and local), how deep and seen by what; which events coincided; how likely by chance and
    what that does not prove."""
    o = e["outage"]
    place = f"{o['country_name']} ({o['entity']})" if o["country_name"] else o["entity"]
    local = f" ({o['start']['local']})" if o["start"]["local"] else ""
    until = "and is still ongoing" if o["ongoing"] else f"until {o['end']['text']}, lasting {o['duration_text']}"
    if o["reported"]:
        first = (f"An internet shutdown is reported in {place} from {o['start']['text']}{local} {until} "
                 f"(source: {o['reported_by'] or o['source']}); this is a documented report, not a measurement"
                 + (", and no measurement of it is stored." if e["no_data"] else "."))
    else:
        seen = ", ".join(o["datasources"]) or "no named signal"
        first = (f"outage-monitor detected a connectivity outage in {place} from {o['start']['text']}{local} {until}, "
                 f"seen by {seen}; {o['depth_by']} recorded a depth of {o['depth_text']}.")
        probes = next((s for s in e["signals"] if s["datasource"] == "atlas-connected"), None)
        if probes:
            first += (f" RIPE Atlas probes connected fell from a median of {probes['baseline_text']} before to "
                      f"{probes['minimum_text']} at the lowest: a handful of measuring devices, not the whole "
                      "country's internet.")
    sentences = [first]
    flagged = [ev for ev in e["events"] if ev["coinciding"]]
    if flagged:
        names = "; ".join(f"{ev['title_text']} ({_kind(ev['kind'])}, from {ev['start']['text']})" for ev in flagged)
        sentences.append(f"It coincided with: {names}.")
    elif e["run"]:
        sentences.append("The correlation run flagged no event coinciding with it.")
    for c in e["chance"]:
        kind = _kind(c["kind"])
        sentences.append(f"By chance alone, an outage of {c['duration_text']} at a random time between {c['span'][0]} "
                         f"and {c['span'][1]} would coincide with {_article(kind)} {kind} of this calendar "
                         f"{c['share_text']} of the time; {c['caveat'][0].lower()}{c['caveat'][1:]}")
    if flagged and not e["chance"]:
        sentences.append("A coincidence in time does not show that one caused the other.")
    return sentences


def incident_evidence(data: IncidentData, params, files: dict) -> dict:
    """Everything an incident report states. `files` names what the report writes (report, csv, chart,
    evidence)."""
    ctx = incident_context(data, params)
    tz = ctx["tz"]
    measured = not data.signals.empty
    o = ctx["outage"]
    w0, w1 = ctx["window"]
    e = {
        "schema": SCHEMA, "kind": "incident", "title": fmt.clean(ctx["title"]),
        "tz": tz, "window": [_when(w0, tz), _when(w1, tz)],
        "outage": _outage(o, tz),
        "detector_depths": _detector_depths(o.get("detail_record")),
        "signals": _signals(ctx["depths"]),
        "baseline_text": fmt.fmt_duration(params.baseline),
        "events": _events(ctx["coincidences"], ctx["nearby"], tz),
        "run": {"id": data.run["run_id"], "finished": _when(data.run["finished"], None)} if data.run else None,
        "no_data": None if measured else {
            "text": f"No measurement of {fmt.clean(o['entity'])} is stored for {fmt.fmt_utc(w0)} to {fmt.fmt_utc(w1)}: "
                    "this report rests on the documented report and the calendar only, and shows no chart.",
            "command": f"outage-monitor collect ioda --entity {fmt.clean(o['entity'])} --from {fmt.fmt_utc(w0)} "
                       f"--until {fmt.fmt_utc(w1)}"},
        "tables": [t for t in (_raw_table(ctx["table_start"], "Around the start", "first bin of the outage"),
                               _raw_table(ctx["table_end"], "Around the end", "first bin after the outage")) if t],
        "detail": _text_pairs(o["detail"]),
        "points": int(len(data.signals)),
        "files": files,
        "parameters": plain({k: getattr(params, k) for k in params.__dataclass_fields__}),
        "methods": methods_evidence(ctx["methods"]),
    }
    e["chance"] = _chance(data, e["events"])
    e["chart"] = None if not measured else {"file": files.get("chart"), "alt": _chart_alt(e)}
    e["summary"] = _summary(e)
    return e


def _chart_alt(e: dict) -> str:
    o = e["outage"]
    names = {s["datasource"] for s in e["signals"]}
    drawn = ["signals in percent of each one's maximum in the window"] * bool(names - set(UNITS))
    drawn += [f"{name} as {UNITS[name]}" for name in sorted(names & set(UNITS))]
    return (f"Signals of {o['entity']} from {e['window'][0]['text']} to {e['window'][1]['text']}: "
            f"{'; '.join(drawn)}. The outage from {o['start']['text']} is shaded red, stretches without data "
            "are hatched, events are numbered as in the table below.")


def _raw_table(t: dict | None, label: str, marked: str) -> dict | None:
    if not t or not t["rows"]:
        return None
    return {"label": label, "marked": marked, "columns": [fmt.clean(c) for c in t["columns"]],
            "rows": [{"time": fmt.fmt_utc(r["time"]), "at": bool(r["at"]),
                      "cells": [c if isinstance(c, str) else fmt.fmt_figure(c) for c in r["cells"]]}
                     for r in t["rows"]]}


# -- digest ----------------------------------------------------------------------------------
def digest_evidence(data: DigestData, params, files: dict) -> dict:
    """Everything a digest states."""
    ctx = digest_context(data, params)
    sig = ctx["significance"]
    run_span = ctx["run_span"]
    e = {
        "schema": SCHEMA, "kind": "digest", "title": fmt.clean(ctx["title"]),
        "start": _when(data.start, None), "end": _when(data.end, None),
        "countries": [{"country": c["country"], "name": fmt.clean(c["name"]), "outages": c["outages"],
                       "hours": plain(c["hours"]), "hours_text": fmt.fmt_num(c["hours"], 1),
                       "deepest": plain(c["deepest"]), "deepest_text": fmt.fmt_pct(c["deepest"]),
                       "with_events": int(c["with_events"]), "datasources": [fmt.clean(d) for d in c["datasources"]]}
                      for c in ctx["countries"]],
        "outages": [_digest_outage(o) for o in ctx["outages"]],
        "coincidences": [{"country": fmt.clean(c["country"]), "outage_start": fmt.fmt_utc(c["outage_start"]),
                          "title": fmt.clean(c["event_title"]), "title_text": fmt.shorten(c["event_title"]),
                          "kind": fmt.clean(c["event_kind"]), "event_start": fmt.fmt_utc(c["event_start"]),
                          "relation": fmt.clean(c["relation"]), "offset_text": fmt.fmt_offset(c["offset_minutes"])}
                         for c in ctx["coincidences"]],
        "significance": _significance(sig, summary_rows(data), params.alpha),
        "run": {"id": data.run["run_id"], "finished": _when(data.run["finished"], None)} if data.run else None,
        "run_span": None if not run_span else {"start": fmt.fmt_utc(run_span["start"]),
                                               "end": fmt.fmt_utc(run_span["end"]), "partial": run_span["partial"]},
        "files": files,
        "parameters": plain({k: getattr(params, k) for k in params.__dataclass_fields__}),
        "methods": methods_evidence(ctx["methods"]),
    }
    e["charts"] = _digest_charts(e, data, files)
    e["summary"] = _digest_summary(e)
    return e


def _digest_outage(o: dict) -> dict:
    return {"id": fmt.clean(o["outage_id"]), "country": fmt.clean(o["country"]), "entity": fmt.clean(o["entity"]),
            "start": _when(o["start"], o["tz"]),
            "duration_text": "ongoing" if o["duration"] is None else fmt.fmt_duration(o["duration"]),
            "depth": plain(o["depth"]), "depth_text": fmt.fmt_pct(o["depth"]),
            "datasources": [fmt.clean(d) for d in o["datasources"] or []],
            "events": [fmt.shorten(t) for t in o["events"]], "events_full": [fmt.clean(t) for t in o["events"]]}


def summary_rows(data: DigestData) -> list[dict]:
    """Every column of the summary rows the digest shows, in the table's order (the correlator's
    columns change; caveats such as `fragile` are read from here, not from the shown cells)."""
    summary = pd.DataFrame(data.run["summary"]) if data.run else pd.DataFrame()
    return _rows_of(summary, data.countries).to_dict("records")


def _significance(sig: dict, full: list[dict], alpha: float) -> dict:
    """The digest's significance table, cells formatted per column (p-values by fmt_p)."""
    text = ("country", "kind", "method", "verdict")
    return {"columns": sig["columns"], "alpha": alpha,
            "rows": [{"cells": [fmt.clean(v) if col in text else fmt.fmt_cell(v, col)
                                for v, col in zip(r["cells"], sig["columns"])],
                      "note": fmt.clean(r["note"]) if r["note"] else None, "significant": bool(r["significant"]),
                      "caveats": stat_evidence(record)["caveats"]}
                     for r, record in zip(sig["rows"], full)]}


def _digest_charts(e: dict, data: DigestData, files: dict) -> list[dict]:
    charts = [{"file": files.get("overview"), "alt": f"Outages per country from {e['start']['text']} to "
               f"{e['end']['text']}, coloured by depth where the source records one, with events marked "
               "above each row, one lane per kind of event."}]
    summary = headline_rows(pd.DataFrame(data.run["summary"]) if data.run else pd.DataFrame(), data.countries)
    if not summary.empty and {"observed", "expected"} <= set(summary.columns):
        charts.append({"file": files.get("coincidences"), "alt": "Observed and expected coincidences per country, event kind and "
                       "relation, with the range chance gives (the counts the test does not call significant)."})
    return charts


def _digest_summary(e: dict) -> list[str]:
    n, shown = len(e["outages"]), [c for c in e["countries"] if c["outages"]]
    first = (f"{n} outage{'s' if n != 1 else ''} in {len(shown)} of {len(e['countries'])} "
             f"countr{'ies' if len(e['countries']) != 1 else 'y'} between {e['start']['text']} and {e['end']['text']}; "
             f"{len(e['coincidences'])} coincidence{'s' if len(e['coincidences']) != 1 else ''} with events"
             + (" (no stored correlation run covers these outages)." if not e["run"] else "."))
    out = [first]
    if e["run_span"]:
        text = (f"Coincidences and significance are those of correlation run #{e['run']['id']}, which tested "
                f"{e['run_span']['start']} to {e['run_span']['end']}")
        out.append(text + (", not the whole period of this digest: outages outside it were not tested."
                           if e["run_span"]["partial"] else "."))
    return out


def numbers(text: str) -> set[str]:
    """Every figure (a run of digits, with its decimal point and thousands separators) in `text`."""
    return set(re.findall(r"\d+(?:[.,]\d+)*", text))

