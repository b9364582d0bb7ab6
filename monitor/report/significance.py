"""The correlator's per-country, per-kind summary (monitor.correlate.SUMMARY_COLUMNS), shaped for
reports. One row per country, event kind and method; country/kind "all" (or empty) are the overall
rows. Tables show the columns below (when present) with each row's note under it; every column,
including any the correlator adds, goes into the CSV alongside."""

from __future__ import annotations

import math

import pandas as pd

SHOWN_COLUMNS = ["country", "kind", "method", "n_outages", "n_events", "observed", "expected", "rate_ratio",
                 "ci_low", "ci_high", "p_value", "p_adjusted", "verdict"]
KNOWN_COLUMNS = SHOWN_COLUMNS + ["note"]
ALL = "all"


def _blank(value) -> bool:
    return value is None or value == ALL or (isinstance(value, float) and math.isnan(value))


def stats_for(summary: pd.DataFrame, country: str | None, kind: str | None) -> list[dict]:
    """The summary rows (one per method) of one country and event kind; empty when not tested.

    Every known column is present in each row (None when the correlator did not give it)."""
    if summary.empty or "country" not in summary or "kind" not in summary:
        return []
    match = summary[(summary["country"] == country) & (summary["kind"] == kind)]
    return [{**{c: None for c in KNOWN_COLUMNS}, **{k: None if _none(v) else v for k, v in row.items()}}
            for row in match.to_dict("records")]


def _none(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def significant(row: dict, alpha: float) -> bool:
    """The correlator's verdict when it gave one, else adjusted p under `alpha`."""
    if row.get("verdict") is not None:
        return row["verdict"] == "significant"
    p = row.get("p_adjusted")
    return not _none(p) and float(p) < alpha


def significance_rows(summary: pd.DataFrame, countries: list[str] | None, alpha: float) -> dict:
    """The summary rows of `countries` plus the overall rows: shown cells, note, significance flag."""
    summary = _of(summary, countries)
    if summary.empty:
        return {"columns": [], "rows": []}
    columns = [c for c in SHOWN_COLUMNS if c in summary]
    rows = []
    for record in summary.to_dict("records"):
        cells = [ALL if c in ("country", "kind") and _blank(record[c]) else record[c] for c in columns]
        note = record.get("note")
        rows.append({"cells": cells, "note": None if _none(note) else note,
                     "significant": significant(record, alpha)})
    return {"columns": columns, "rows": rows}


def _of(summary: pd.DataFrame, countries: list[str] | None) -> pd.DataFrame:
    if countries and not summary.empty and "country" in summary:
        summary = summary[summary["country"].isin(countries) | summary["country"].map(_blank)]
    return summary.reset_index(drop=True)


def summary_csv(summary: pd.DataFrame, countries: list[str] | None) -> str:
    """Every column of the rows a digest shows, as CSV."""
    return _of(summary, countries).to_csv(index=False, lineterminator="\n")


def headline_rows(summary: pd.DataFrame, countries: list[str] | None) -> pd.DataFrame:
    """The rows a chart shows: of `countries` (and overall), one method per pair (the permutation
    test, which keeps the calendar's structure, when the run has it)."""
    summary = _of(summary, countries)
    if "method" in summary and (summary["method"] == "permutation").any():
        summary = summary[summary["method"] == "permutation"]
    return summary.reset_index(drop=True)
