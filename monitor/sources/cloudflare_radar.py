"""Cloudflare Radar outage annotations, stored as reference outages with their cause and scope.

`/annotations/outages?location=CC` (or `asn=N`), paged by `offset`. Needs an API token with Radar
read permission in CLOUDFLARE_API_TOKEN; without it `collect` refuses (exit 2) and the daemon skips it. Radar data is
CC BY-NC 4.0. Enum values beyond those in docs/sources.md (e.g. the cause string for government
shutdowns) are kept verbatim, not interpreted.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from monitor.entities import Entity
from monitor.frames import OUTAGE_COLUMNS, empty
from monitor.http import HttpClient
from monitor.sources.base import Batch, PayloadShape, Source, numbered_pages
from monitor.timeutil import iso

NAME = "cloudflare-radar"
PAGE_SIZE = 100


def parse_annotations(payload: Any, entity: str, url: str | None = None) -> pd.DataFrame:
    """One page of `/annotations/outages` -> reference outages of `entity`."""
    shape = PayloadShape(NAME, url)
    rows = []
    for i, item in enumerate(annotations(payload, url)):
        path = f"result.annotations[{i}]"
        ident = shape.need(item, "id", (str, int), path)
        start = shape.time(shape.need(item, "startDate", str, path), f"{path}.startDate")
        end_text = shape.need(item, "endDate", str, path, optional=True)
        outage = shape.need(item, "outage", dict, path, optional=True) or {}
        data_source = shape.need(item, "dataSource", str, path, optional=True)
        rows.append({
            "outage_id": f"{NAME}:{ident}:{entity}", "source": NAME, "entity": entity,
            "country": Entity.parse(entity).country, "start": start,
            "end": shape.time(end_text, f"{path}.endDate") if end_text else pd.NaT,
            "datasources": [f"cloudflare-{data_source.lower()}"] if data_source else [],
            "depth": np.nan, "score": np.nan, "method": NAME,
            "detail": {"cause": outage.get("outageCause"), "type": outage.get("outageType"),
                       "scope": item.get("scope"), "description": item.get("description"),
                       "url": item.get("linkedUrl"), "locations": item.get("locations"),
                       "asns": item.get("asns"), "raw": item}})
    if not rows:
        return empty(OUTAGE_COLUMNS)
    df = pd.DataFrame(rows, columns=OUTAGE_COLUMNS)
    df["start"] = pd.to_datetime(df["start"], utc=True).dt.as_unit("s")
    df["end"] = pd.to_datetime(df["end"], utc=True).dt.as_unit("s")
    return df


def annotations(payload: Any, url: str | None = None) -> list:
    """The checked `result.annotations` list; `success: false` is a failure naming Radar's error."""
    shape = PayloadShape(NAME, url)
    if shape.need(payload, "success", bool, "") is not True:
        errors = payload.get("errors") or []
        first = errors[0].get("message") if errors and isinstance(errors[0], dict) else None
        raise shape.error("success", f"is false: {first or 'no error message'}")
    result = shape.need(payload, "result", dict, "")
    return shape.need(result, "annotations", list, "result")


def fetch(client: HttpClient, base_url: str, entity: Entity, start: pd.Timestamp, end: pd.Timestamp,
          options: Mapping[str, Any]) -> Batch:
    """Outage annotations of a country or AS whose dates fall in [start, end), every page."""
    url = f"{base_url.rstrip('/')}/annotations/outages"
    where = {"location": entity.code} if entity.type == "country" else {"asn": entity.code}
    params = {**where, "dateStart": iso(start), "dateEnd": iso(end), "format": "json"}
    items = numbered_pages(client, url, params, annotations, page_param="offset", size_param="limit",
                           size=PAGE_SIZE, by_offset=True)
    return Batch(outages=parse_annotations({"success": True, "result": {"annotations": items}}, str(entity), url))


SOURCE = Source(
    name=NAME,
    description="Cloudflare Radar outage annotations (cause, type, scope) as reference outages",
    yields=("outages",),
    base_url="https://api.cloudflare.com/client/v4/radar",
    interval=pd.Timedelta("1h"),
    max_window=pd.Timedelta(days=90),
    overlap=pd.Timedelta(days=7),
    lookback=pd.Timedelta(days=30),
    licence="Cloudflare Radar data, CC BY-NC 4.0; attribute Cloudflare Radar.",
    fetch=fetch,
    entity_types=("country", "asn"),
    options={},
    credential_env="CLOUDFLARE_API_TOKEN",
    credential_required=True,
    auth_scheme="Bearer",
    min_interval=0.25,
)
