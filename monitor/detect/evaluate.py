"""Detected outages against reference outages: matches, misses, false alarms, start/end errors.

References are either rows of the outages table collected from other detectors (IODA's
`/outages/events` as `ioda-events`, its `/outages/alerts` as `ioda-alerts`, Cloudflare Radar as
`cloudflare-radar`), or documented shutdowns imported as events of kind `shutdown_report` (Access
Now's STOP list `stop`, IODA's hand-checked list `ioda-outages`, a curated list by its name).

Only references we could have seen count: the entity must have signals from before the reference
starts until at least its start. Only detections within the reference's own period (its first
start to its last end) are judged: IODA's list starts in 2018, so a 2016 outage is neither a match
nor a false alarm of it. A detected outage and a reference match when they are of the
same entity and overlap, allowing `slack` either side. A detection that matches no reference is a
false alarm *with respect to that reference*: a list of shutdowns does not list power cuts or cable
cuts, so read that number with the reference's scope in mind. STOP gives dates only: its start and
end errors are in days, not minutes. A reference listed more than once (the same entity, overlapping
times: IODA's list has rows repeated per signal or per editor) counts once, as the union of its
rows, with the first row's id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.detect.fusion import SOURCE
from monitor.errors import InputError
from monitor.timeutil import iso

OUTAGE_REFERENCES = ("ioda-events", "ioda-alerts", "cloudflare-radar")
EVENT_REFERENCES = ("stop", "ioda-outages")
REFERENCE_COLUMNS = ["reference_id", "entity", "start", "end", "title"]
RESULT_COLUMNS = ["status", "entity", "reference_id", "reference_start", "reference_end", "outage_id",
                  "detected_start", "detected_end", "start_error_minutes", "end_error_minutes", "title"]


@dataclass(frozen=True)
class EvaluateParams:
    """slack: how far apart a detection and a reference may lie and still match (also the length
    given to a reference without an end); regional: count region-level shutdown reports against
    their country's signals (off by default: a country signal need not show a regional cut)."""

    slack: pd.Timedelta = pd.Timedelta("1h")
    regional: bool = False


def references_from_outages(outages: pd.DataFrame) -> pd.DataFrame:
    """REFERENCE_COLUMNS from rows of the outages table."""
    return pd.DataFrame({"reference_id": outages["outage_id"].astype(str), "entity": outages["entity"],
                         "start": outages["start"], "end": outages["end"],
                         "title": outages["method"].fillna("").astype(str)})[REFERENCE_COLUMNS]


def references_from_events(events: pd.DataFrame, params: EvaluateParams = EvaluateParams()) -> pd.DataFrame:
    """REFERENCE_COLUMNS from shutdown reports: country-level ones (all, with `params.regional`)."""
    kept = events[(events["kind"] == "shutdown_report") & events["country"].notna()]
    if not params.regional:
        kept = kept[kept["region"].isna() | (kept["region"].astype(str).str.strip() == "")]
    return pd.DataFrame({"reference_id": kept["source"] + ":" + kept["uid"].astype(str),
                         "entity": "country/" + kept["country"].astype(str), "start": kept["start"],
                         "end": kept["end"], "title": kept["title"].fillna("").astype(str)})[REFERENCE_COLUMNS]


def merge_duplicates(reference: pd.DataFrame, slack: pd.Timedelta = pd.Timedelta(0)) -> pd.DataFrame:
    """References of one entity that overlap (a missing end counts as start + slack) as one."""
    if reference.empty:
        return reference
    ref = _utc(reference).sort_values(["entity", "start"], kind="stable").reset_index(drop=True)
    ends = ref["end"].fillna(ref["start"] + slack)
    reach = ends.groupby(ref["entity"]).cummax()
    new = (ref["entity"] != ref["entity"].shift()) | (ref["start"] >= reach.shift())
    group = new.cumsum()
    merged = ref.assign(_end=ends, _group=group).groupby("_group").agg(
        reference_id=("reference_id", "first"), entity=("entity", "first"), start=("start", "min"),
        end=("_end", "max"), title=("title", "first"), _known=("end", "count"))
    merged["end"] = merged["end"].where(merged["_known"] > 0)  # no row gave an end: still none
    return merged.reset_index(drop=True)[REFERENCE_COLUMNS]


def _covered(reference: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """References whose entity has signals from before their start until at least their start."""
    span = coverage.groupby("entity").agg(first=("first", "min"), last=("last", "max"))
    joined = reference.join(span, on="entity", how="inner")
    keep = (joined["first"] < joined["start"]) & (joined["last"] >= joined["start"])
    return joined[keep][REFERENCE_COLUMNS]


def _utc(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(start=pd.to_datetime(frame["start"], utc=True), end=pd.to_datetime(frame["end"], utc=True))


def _minutes(a: pd.Series, b: pd.Series) -> pd.Series:
    return (pd.to_datetime(a, utc=True) - pd.to_datetime(b, utc=True)).dt.total_seconds() / 60


def evaluate(detected: pd.DataFrame, reference: pd.DataFrame, coverage: pd.DataFrame,
             params: EvaluateParams = EvaluateParams()) -> tuple[pd.DataFrame, dict]:
    """(one row per reference and per unmatched detection, summary) — pure.

    detected: OUTAGE_COLUMNS; reference: REFERENCE_COLUMNS; coverage: entity, first, last (as
    `store.signal_summary()`), which says where signals exist. Each reference is paired with the
    overlapping detection whose start is closest to its own.
    """
    listed = len(reference)
    reference = merge_duplicates(_utc(reference), params.slack)
    merged = listed - len(reference)
    period = (reference["start"].min() - params.slack,
              reference["end"].fillna(reference["start"]).max() + params.slack)
    reference = _covered(reference, coverage).reset_index(drop=True)
    detected = _utc(detected[detected["entity"].isin(set(coverage["entity"]))]).reset_index(drop=True)
    outside = detected[(detected["start"] > period[1]) | (detected["end"].notna() & (detected["end"] < period[0]))]
    detected = detected.drop(outside.index).reset_index(drop=True)
    ref_end = reference["end"].fillna(reference["start"] + params.slack)
    pairs = reference.assign(ref_end=ref_end).reset_index(names="r").merge(
        detected.reset_index(names="d"), on="entity", suffixes=("", "_det"))
    overlap = (pairs["start_det"] < pairs["ref_end"] + params.slack) & \
              (pairs["end_det"].isna() | (pairs["end_det"] > pairs["start"] - params.slack))
    pairs = pairs[overlap].assign(gap=lambda p: (p["start_det"] - p["start"]).abs())
    best = pairs.sort_values(["r", "gap"], kind="stable").drop_duplicates("r")
    rows = reference.rename(columns={"start": "reference_start", "end": "reference_end"}).assign(status="miss")
    chosen = best.set_index("r")
    rows["outage_id"] = chosen["outage_id"].reindex(rows.index)
    rows["detected_start"] = pd.to_datetime(chosen["start_det"].reindex(rows.index), utc=True)
    rows["detected_end"] = pd.to_datetime(chosen["end_det"].reindex(rows.index), utc=True)
    rows.loc[rows["outage_id"].notna(), "status"] = "match"
    rows["start_error_minutes"] = _minutes(rows["detected_start"], rows["reference_start"])
    rows["end_error_minutes"] = _minutes(rows["detected_end"], rows["reference_end"])
    matched_ids = set(pairs["outage_id"])
    alarms = detected[~detected["outage_id"].isin(matched_ids)]
    alarm_rows = pd.DataFrame({"status": "false alarm", "entity": alarms["entity"],
                               "outage_id": alarms["outage_id"], "detected_start": alarms["start"],
                               "detected_end": alarms["end"], "title": ""})
    outside_rows = pd.DataFrame({"status": "outside the reference's period", "entity": outside["entity"],
                                 "outage_id": outside["outage_id"], "detected_start": outside["start"],
                                 "detected_end": outside["end"], "title": ""})
    result = pd.concat([f for f in (rows, alarm_rows, outside_rows) if len(f)] or [rows], ignore_index=True)
    result = result.reindex(columns=RESULT_COLUMNS)
    summary = _summary(result, len(detected), len(matched_ids))
    summary.update(outside_period=int(len(outside)), period=[iso(t) for t in period] if len(reference) else None,
                   duplicates_merged=int(merged))
    return result, summary


def _summary(result: pd.DataFrame, detections: int, matched_detections: int) -> dict:
    refs = result[result["status"].isin(["match", "miss"])]
    hits = refs[refs["status"] == "match"]

    def median_abs(col):
        values = hits[col].dropna().abs()
        return float(np.median(values)) if len(values) else None

    return {"references": int(len(refs)), "matched": int(len(hits)), "missed": int(len(refs) - len(hits)),
            "detected": int(detections), "false_alarms": int(detections - matched_detections),
            "recall": float(len(hits) / len(refs)) if len(refs) else None,
            "precision": float(matched_detections / detections) if detections else None,
            "median_abs_start_error_minutes": median_abs("start_error_minutes"),
            "median_abs_end_error_minutes": median_abs("end_error_minutes")}


def load_references(store, source: str, entities=None, start=None, end=None,
                    params: EvaluateParams = EvaluateParams()) -> pd.DataFrame:
    """Reference outages of `source` from the store, as REFERENCE_COLUMNS."""
    if source == SOURCE:
        raise InputError(f"--reference {source!r} is our own detections; name a reference source "
                         f"({', '.join(OUTAGE_REFERENCES + EVENT_REFERENCES)} or a curated list)")
    outages = store.read_outages(sources=[source], entities=entities, start=start, end=end)
    if not outages.empty or source in OUTAGE_REFERENCES:
        return references_from_outages(outages)
    countries = None if entities is None else sorted({e.split("/", 1)[1] for e in entities
                                                      if e.startswith("country/")})
    events = store.read_events(countries=countries, kinds=["shutdown_report"], sources=[source],
                               start=start, end=end)
    refs = references_from_events(events, params)
    return refs if entities is None else refs[refs["entity"].isin(list(entities))]


def evaluate_store(store, source: str, entities=None, start=None, end=None,
                   params: EvaluateParams = EvaluateParams()) -> tuple[pd.DataFrame, dict]:
    """Evaluate the stored detections against the stored reference `source` (see `evaluate`)."""
    reference = load_references(store, source, entities, start, end, params)
    if reference.empty:
        raise InputError(f"no reference outages from source {source!r} in {store.url}"
                         + (f" for {', '.join(entities)}" if entities else "")
                         + " (import or collect them first)")
    detected = store.read_outages(sources=[SOURCE], entities=entities, start=start, end=end)
    coverage = store.signal_summary()
    if entities is not None:
        coverage = coverage[coverage["entity"].isin(list(entities))]
    return evaluate(detected, reference, coverage, params)
