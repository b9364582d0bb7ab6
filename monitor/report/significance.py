"""The correlator's summary (monitor.correlate.SUMMARY_COLUMNS), shaped for reports.

One row per country, event kind and relation (during / before / after), or one "single case" row.
Tables show the columns below (when present) with each row's note under it; every column goes into
the CSV alongside. A verdict whose window sensitivity check flipped reads "significant (fragile)".

Runs stored before the shift test (a `method` column, rate-ratio intervals) are shown as stored,
except that no row is called significant when its interval includes no effect.
"""

from __future__ import annotations

import math

import pandas as pd

from monitor.text import csv_cell

SHOWN_COLUMNS = ["country", "kind", "relation", "n_episodes", "n_events", "observed", "expected", "excess",
                 "ci_low", "ci_high", "p_adjusted", "verdict"]
OLD_SHOWN_COLUMNS = ["country", "kind", "method", "n_outages", "n_events", "observed", "expected",
                     "rate_ratio", "ci_low", "ci_high", "p_value", "p_adjusted", "verdict"]
KNOWN_COLUMNS = SHOWN_COLUMNS + ["method", "note", "fragile", "tests"]
ALL = "all"
RELATION_LABELS = {"during": "during", "before": "pre-emptive (before)", "after": "reaction (after)",
                   "any": "single case"}


def _blank(value) -> bool:
    return value is None or value == ALL or (isinstance(value, float) and math.isnan(value))


def _none(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _old(row: dict) -> bool:
    return "relation" not in row and "method" in row


def no_effect_inside(row: dict) -> bool:
    """Does the row's interval include no effect (excess 0; rate ratio 1 in old runs)?"""
    low = row.get("ci_low")
    if _none(low):
        return True
    return float(low) <= (1.0 if _old(row) else 0.0)


def significant(row: dict, alpha: float) -> bool:
    """The correlator's verdict (adjusted p under `alpha` if it gave none), never for an interval
    that includes no effect."""
    verdict = row.get("verdict")
    if verdict is not None:
        claimed = verdict == "significant"
    else:
        p = row.get("p_adjusted")
        claimed = not _none(p) and float(p) < alpha
    return claimed and not no_effect_inside(row)


def verdict_text(row: dict, alpha: float) -> str | None:
    """The verdict as a reader sees it: "significant (fragile)" when the window check flipped it,
    and no "significant" beside an interval that includes no effect (old runs)."""
    verdict = row.get("verdict")
    if verdict == "significant" and not significant(row, alpha):
        return "not confirmed: the interval includes no effect"
    if verdict in ("significant", "not significant") and row.get("fragile") is True:
        return f"{verdict} (fragile)"
    return verdict


def stats_for(summary: pd.DataFrame, country: str | None, kind: str | None,
              relation: str | None = None) -> list[dict]:
    """The summary rows of one country and event kind (and relation, when given); empty when not
    tested. Every known column is present in each row (None when the correlator did not give it);
    `method` names the relation for runs that have one and `verdict` reads as verdict_text."""
    if summary.empty or "country" not in summary or "kind" not in summary:
        return []
    match = summary[(summary["country"] == country) & (summary["kind"] == kind)]
    if relation is not None and "relation" in match:
        match = match[match["relation"].isin([relation, "any"])]
    rows = []
    for record in match.to_dict("records"):
        row = {**{c: None for c in KNOWN_COLUMNS}, **{k: None if _none(v) else v for k, v in record.items()}}
        if not _old(row):
            row["method"] = RELATION_LABELS.get(row.get("relation"), row.get("relation"))
        row["verdict"] = verdict_text(row, 0.05)
        rows.append(row)
    return rows


def significance_rows(summary: pd.DataFrame, countries: list[str] | None, alpha: float) -> dict:
    """The summary rows of `countries` plus the overall rows: shown cells, note, significance flag."""
    summary = _of(summary, countries)
    if summary.empty:
        return {"columns": [], "rows": []}
    shown = OLD_SHOWN_COLUMNS if "relation" not in summary and "method" in summary else SHOWN_COLUMNS
    columns = [c for c in shown if c in summary]
    rows = []
    for record in summary.to_dict("records"):
        record = {k: None if _none(v) else v for k, v in record.items()}
        claimed = significant(record, alpha)
        record["verdict"] = verdict_text(record, alpha) if "verdict" in record else None
        cells = [ALL if c in ("country", "kind") and _blank(record[c]) else record[c] for c in columns]
        rows.append({"cells": cells, "note": record.get("note"), "significant": claimed})
    return {"columns": columns, "rows": rows}


def _of(summary: pd.DataFrame, countries: list[str] | None) -> pd.DataFrame:
    if countries and not summary.empty and "country" in summary:
        summary = summary[summary["country"].isin(countries) | summary["country"].map(_blank)]
    return summary.reset_index(drop=True)


def summary_csv(summary: pd.DataFrame, countries: list[str] | None) -> str:
    """Every column of the rows a digest shows, as CSV."""
    return _of(summary, countries).map(csv_cell).to_csv(index=False, lineterminator="\n")


def headline_rows(summary: pd.DataFrame, countries: list[str] | None) -> pd.DataFrame:
    """The rows a chart shows: rows of `countries` with an expected count, labelled by relation,
    with the range of counts chance gives (`chance_low`/`chance_high`: observed minus the interval;
    the observed count lies above it exactly when significant). Old runs: the permutation rows."""
    summary = _of(summary, countries)
    if "relation" in summary:
        summary = summary[pd.to_numeric(summary["expected"], errors="coerce").notna()]
        # chance's range: the counts the shift test would not call significant, either way
        summary = summary.assign(method=summary["relation"],
                                 chance_low=summary["observed"] - summary["ci_high"],
                                 chance_high=summary["observed"] - summary["ci_low"])
    elif "method" in summary and (summary["method"] == "permutation").any():
        summary = summary[summary["method"] == "permutation"]
    return summary.reset_index(drop=True)
