"""The methods-and-sources section every report carries: how the numbers were made, from what data
and on whose terms, and what data was missing."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd

from monitor import __version__
from monitor.report.attribution import IODA_COPYRIGHT, attributions
from monitor.report.coverage import scan
from monitor.report.params import ReportParams
from monitor.timeutil import now

VALUE_CHARS = 160
# Signals a source of outages stands for, when the detector names the source (its bursts detector
# records "ripe-atlas"), so the report does not call stored RIPE Atlas series missing.
SOURCE_SIGNALS = {"ripe-atlas": ("atlas-connected", "atlas-disconnects")}


def flatten(params: dict | None, prefix: str = "") -> list[tuple[str, str]]:
    """Nested parameters as sorted `(dotted.key, short text)` pairs for a table."""
    rows: list[tuple[str, str]] = []
    for key in sorted(params or {}, key=str):
        value = params[key]
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.extend(flatten(value, name + "."))
        else:
            rows.append((name, _short(value)))
    return rows


def _short(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 1] + "…"


def methods_context(*, signals: pd.DataFrame, outages: pd.DataFrame, events: pd.DataFrame,
                    run: dict | None, detect_params: dict | None, window: tuple[pd.Timestamp, pd.Timestamp],
                    expected: dict[str, list[str]] | None, params: ReportParams) -> dict:
    """Parameters, software, sources with their terms, and the data that was missing in `window`.

    `expected` maps entity -> datasources a reader would expect (e.g. the outage's), so a series
    absent from the store is named rather than silently left out.
    """
    start, end = window
    covered, gap_rows = scan(signals, start, end)
    names = set(covered["datasource"]) | set(outages["source"]) | set(events["source"])
    found, unattributed = attributions(names - {"detected"})
    have = set(zip(covered["entity"], covered["datasource"]))
    absent = [(e, d) for e, ds in (expected or {}).items() for d in ds
              if not any((e, s) in have for s in SOURCE_SIGNALS.get(d, (d,)))]
    return {
        "software": f"outage-monitor {__version__}",
        "generated": now(),
        "window": window,
        "detect_methods": sorted({m for m in outages["method"].dropna()}),
        "detect_params": flatten(detect_params),
        "run": run,
        "run_params": flatten(run["params"]) if run else [],
        "sources": found,
        "ioda_copyright": IODA_COPYRIGHT if any(a.key == "ioda" for a in found) else None,
        "unattributed": unattributed,
        "coverage": covered.to_dict("records"),
        "gaps": gap_rows.head(params.max_gaps).to_dict("records"),
        "gaps_total": len(gap_rows),
        "absent": absent,
    }


def detection_params(detect, datasources) -> dict:
    """The detector's parameters as configured (a `DetectParams`), with the resolved rule of each
    datasource in the report: what a reader needs to repeat the detection."""
    rules = {}
    for name in sorted(set(datasources)):
        rule = detect.bursts if name == detect.bursts.datasource else detect.rule_for(name)
        rules[name] = {k: _plain(v) for k, v in dataclasses.asdict(rule).items()}
    return {"merge_gap": _plain(detect.merge_gap), "min_datasources": detect.min_datasources, "rules": rules}


def _plain(value):
    """Durations as `7d`, `12h`, `30min`; anything else unchanged."""
    if not isinstance(value, pd.Timedelta):
        return value
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    parts = [f"{days}d"] * bool(days) + [f"{rest // 60}h"] * bool(rest // 60) + [f"{rest % 60}min"] * bool(rest % 60)
    return " ".join(parts) or f"{value.total_seconds():g}s"
