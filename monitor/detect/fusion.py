"""Fusion: an entity's overlapping alerts from several datasources become one outage.

Alerts of one entity that overlap (or lie within `merge_gap` of each other) merge into one outage
from the earliest start to the latest end; a gap in the data never splits one (the rules bridge
gaps inside an alert). The outage keeps which datasources agree, each one's start, end, depth and
alert area (in `detail["datasources"]`), its overall depth (the largest fraction of a baseline lost
by any of them), its severity class from that depth, and a score (frames.SCORE_MEANING) that
never falls when depth, duration or agreement grow. An outage is ongoing (end None) when the alert
that ends last is still open at the end of its data; one longer than params.LONG_RUNNING is
labelled long-running. Minutes without data inside an outage are counted per datasource in
`detail["nodata_minutes"]`. The country comes from the entity (country, ISO 3166-2 region); the
caller fills it for other entities from stored metadata (`assign_countries`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitor.detect.params import LONG_RUNNING, DetectParams, severity
from monitor.entities import Entity
from monitor.frames import OUTAGE_COLUMNS, SCORE_HALF_HOURS, empty
from monitor.timeutil import epoch, iso, to_epoch

SOURCE = "detected"
ALERT_LEVELS = ("warning", "critical")


def outage_id(entity: str, start: pd.Timestamp) -> str:
    """The stable id of a detected outage: `detected:<entity>:<start epoch>`."""
    return f"{SOURCE}:{entity}:{epoch(start)}"


def _clusters(entity: np.ndarray, starts: np.ndarray, ends: np.ndarray, merge_gap: float) -> np.ndarray:
    """A cluster number per alert (sorted by entity, start): overlapping alerts share one."""
    reach = pd.Series(ends).groupby(entity).cummax().to_numpy()  # latest end so far, per entity
    new = np.ones(len(entity), dtype=bool)
    new[1:] = (entity[1:] != entity[:-1]) | (starts[1:] > reach[:-1] + merge_gap)
    return np.cumsum(new) - 1


def _per_datasource(alerts: pd.DataFrame) -> pd.DataFrame:
    """One row per (cluster, datasource): its span, depth, area, level and whether it is open."""
    latest = alerts.sort_values(["cluster", "datasource", "end"], kind="stable")
    grouped = latest.groupby(["cluster", "datasource"], sort=True)
    table = grouped.agg(start=("start_s", "min"), end=("end_s", "max"), depth=("depth", "max"),
                        area=("area", "sum"), alerts=("area", "size"), method=("method", "first"),
                        critical=("level", lambda s: bool((s == "critical").any())))
    table["open"] = grouped["open"].last().astype(bool)  # open-ness of the alert that ends last
    deepest = latest.loc[grouped["depth"].idxmax().dropna(), ["cluster", "datasource", "detail"]]
    table["peak_at"] = deepest.set_index(["cluster", "datasource"])["detail"].map(  # bursts: when most were down
        lambda d: d.get("peak_at") if isinstance(d, dict) else None).reindex(table.index)
    return table.reset_index()


def _nodata(gaps: pd.DataFrame, spans: pd.DataFrame) -> dict[int, dict]:
    """Minutes without data per cluster and datasource, inside the cluster's span."""
    if gaps.empty:
        return {}
    g = pd.DataFrame({"entity": gaps["entity"].to_numpy(), "datasource": gaps["datasource"].to_numpy(),
                      "g0": to_epoch(gaps["start"]), "g1": to_epoch(gaps["end"])})
    pairs = spans.merge(g, on="entity")
    lo, hi = np.maximum(pairs["g0"], pairs["start"]), np.minimum(pairs["g1"], pairs["end"])
    pairs = pairs.assign(minutes=(hi - lo) / 60)[hi > lo]
    out: dict[int, dict] = {}
    for (cluster, ds), minutes in pairs.groupby(["cluster", "datasource"])["minutes"].sum().items():
        out.setdefault(int(cluster), {})[str(ds)] = float(minutes)
    return out


def fuse(alerts: pd.DataFrame, params: DetectParams = DetectParams()) -> pd.DataFrame:
    """Outages (OUTAGE_COLUMNS, source "detected") from per-datasource alerts (rules.ALERT_COLUMNS)."""
    real = alerts[alerts["level"].isin(ALERT_LEVELS)] if not alerts.empty else alerts
    if real.empty:
        return empty(OUTAGE_COLUMNS)
    real = real.sort_values(["entity", "start"], kind="stable").reset_index(drop=True)
    real = real.assign(start_s=to_epoch(real["start"]), end_s=to_epoch(real["end"]))
    real["cluster"] = _clusters(real["entity"].to_numpy(), real["start_s"].to_numpy(),
                                real["end_s"].to_numpy(), params.merge_gap.total_seconds())
    per_ds = _per_datasource(real)
    spans = real.groupby("cluster").agg(entity=("entity", "first"), start=("start_s", "min"),
                                        end=("end_s", "max")).reset_index()
    nodata = _nodata(alerts[alerts["level"] == "nodata"], spans)
    by_cluster: dict[int, list[dict]] = {}
    for record in per_ds.to_dict("records"):
        by_cluster.setdefault(int(record["cluster"]), []).append(record)
    rows = [_outage(spans.iloc[c], group, nodata.get(c, {})) for c, group in sorted(by_cluster.items())
            if len(group) >= params.min_datasources]
    if not rows:
        return empty(OUTAGE_COLUMNS)
    out = pd.DataFrame(rows, columns=OUTAGE_COLUMNS)
    out["start"] = pd.to_datetime(out["start"], utc=True).dt.as_unit("s")
    out["end"] = pd.to_datetime(out["end"], utc=True).dt.as_unit("s")
    return out.sort_values(["start", "entity"], kind="stable").reset_index(drop=True)


def score(datasources: list[tuple[float, float]]) -> float:
    """The outage score (frames.SCORE_MEANING) from (depth, hours) of each agreeing datasource."""
    kept = 1.0
    for depth, hours in datasources:
        kept *= 1.0 - min(max(depth, 0.0), 1.0) * (1.0 - 2.0 ** (-max(hours, 0.0) / SCORE_HALF_HOURS))
    return 1.0 - kept


def assign_countries(outages: pd.DataFrame, places: dict[str, str]) -> pd.DataFrame:
    """Outages with `country` filled from `places` (entity -> ISO alpha-2, e.g. the store's entity
    places) where the entity itself does not say it."""
    if outages.empty or not places:
        return outages
    missing = outages["country"].isna()
    return outages.assign(country=outages["country"].where(~missing, outages["entity"].map(places)))


def _utc(seconds) -> pd.Timestamp:
    return pd.Timestamp(int(seconds), unit="s", tz="UTC")


def _outage(span: pd.Series, group: list[dict], nodata: dict) -> dict:
    """One outage row from its span and its per-datasource records."""
    entity, start, last = str(span["entity"]), _utc(span["start"]), _utc(span["end"])
    ongoing = all(r["open"] for r in group if r["end"] == span["end"])
    per_ds = {str(r["datasource"]): {"start": iso(_utc(r["start"])), "end": iso(_utc(r["end"])),
                                     "open": bool(r["open"]), "depth": float(r["depth"]),
                                     "area": float(r["area"]), "alerts": int(r["alerts"]),
                                     "level": "critical" if r["critical"] else "warning",
                                     "method": str(r["method"])}
              | ({"peak_at": iso(_utc(r["peak_at"]))} if pd.notna(r.get("peak_at")) else {})
              for r in group}
    depth = max(d["depth"] for d in per_ds.values())
    detail = {"datasources": per_ds, "nodata_minutes": nodata, "ongoing": ongoing, "seen_until": iso(last),
              "severity": severity(depth), "long_running": bool(last - start > LONG_RUNNING)}
    hours = [(float(r["depth"]), (r["end"] - r["start"]) / 3600) for r in group]
    return {"outage_id": outage_id(entity, start), "source": SOURCE, "entity": entity,
            "country": Entity.parse(entity).country, "start": start, "end": None if ongoing else last,
            "datasources": sorted(per_ds), "depth": depth, "score": score(hours),
            "method": "+".join(sorted({d["method"] for d in per_ds.values()})), "detail": detail}
