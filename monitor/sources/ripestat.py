"""RIPEstat `country-resource-stats`: a country's routed ASNs and prefixes over time, as signals.

RIPEstat compresses runs of equal values into `timeline` intervals; each is expanded onto the
resolution grid (interval ends taken as inclusive; a later interval wins on a shared bin), so the
store gets one point per bin like any other signal. Only the routing-derived (`*_ris`) counts are
kept: the registration counts (`*_stats`) do not move when a country goes offline.
Field meanings follow the RIPEstat docs (see docs/sources.md); the payload shape was not checked
against the live service from here.

For an ASN entity the source gives where it is instead of signals: `rir-stats-country` (the country
its RIR registered it to, `data.located_resources[].location`) becomes its stored place, so outages
of the ASN know their country.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd

from monitor.entities import Entity
from monitor.errors import InputError
from monitor.frames import PLACE_COLUMNS, SIGNAL_COLUMNS, empty
from monitor.http import HttpClient
from monitor.sources.base import Batch, PayloadShape, Source
from monitor.timeutil import iso, parse_duration

NAME = "ripestat"
ENDPOINT = "country-resource-stats"
PLACE_ENDPOINT = "rir-stats-country"
SOURCEAPP = "outage-monitor"
RESOLUTIONS = ("5m", "1h", "1d", "1w")
MAX_BINS = 100_000  # per timeline span (a year at 5 minutes)
# payload field -> datasource name
SERIES = {"asns_ris": "ripestat-asns-ris", "v4_prefixes_ris": "ripestat-v4-prefixes-ris",
          "v6_prefixes_ris": "ripestat-v6-prefixes-ris"}


def parse_resource_stats(payload: Any, entity: str, resolution: str, url: str | None = None, *,
                         start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """A `country-resource-stats` answer -> signal frame on the resolution grid.

    Timelines are clipped to [start, end) before expansion, and one span may not expand to more
    than MAX_BINS bins: a payload claiming decades cannot make us build millions of points.
    """
    shape = PayloadShape(NAME, url)
    status = shape.need(payload, "status", str, "")
    if status != "ok":
        raise shape.error("status", f"is {status!r}: {_messages(payload)}")
    data = shape.need(payload, "data", dict, "")
    step = _step(shape.need(data, "resolution", str, "data", optional=True) or resolution)
    rows = []
    for i, stat in enumerate(shape.need(data, "stats", list, "data")):
        path = f"data.stats[{i}]"
        values = {field: shape.need(stat, field, (int, float), path, optional=True) for field in SERIES}
        for j, span in enumerate(shape.need(stat, "timeline", list, path)):
            where = f"{path}.timeline[{j}]"
            first = shape.time(shape.need(span, "starttime", str, where), f"{where}.starttime")
            last = shape.time(shape.need(span, "endtime", str, where), f"{where}.endtime")
            if last < first:
                raise shape.error(f"{where}.endtime", f"({iso(last)}) is before starttime ({iso(first)})")
            for t in _grid(shape, where, first, last, step, start, end):
                rows.extend((entity, name, t, values[field]) for field, name in SERIES.items())
    if not rows:
        return empty(SIGNAL_COLUMNS)
    df = pd.DataFrame(rows, columns=SIGNAL_COLUMNS)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    df["time"] = pd.DatetimeIndex(df["time"]).as_unit("s")
    return df.drop_duplicates(["entity", "datasource", "time"], keep="last").reset_index(drop=True)


def parse_rir_country(payload: Any, entity: Entity, url: str | None = None) -> pd.DataFrame:
    """A `rir-stats-country` answer for an ASN -> its place (PLACE_COLUMNS; empty if none is given)."""
    shape = PayloadShape(NAME, url)
    status = shape.need(payload, "status", str, "")
    if status != "ok":
        raise shape.error("status", f"is {status!r}: {_messages(payload)}")
    data = shape.need(payload, "data", dict, "")
    for i, located in enumerate(shape.need(data, "located_resources", list, "data")):
        where = f"data.located_resources[{i}]"
        location = shape.need(located, "location", str, where).strip().upper()
        if len(location) != 2 or not location.isalpha():
            raise shape.error(f"{where}.location", f"{location!r} is not an ISO 3166 alpha-2 code")
        return pd.DataFrame([{"entity": str(entity), "country": location, "name": None, "source": NAME}],
                            columns=PLACE_COLUMNS)
    return empty(PLACE_COLUMNS)


def _grid(shape: PayloadShape, where: str, first: pd.Timestamp, last: pd.Timestamp, step: pd.Timedelta,
          start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DatetimeIndex:
    """The bins of one timeline span (ends inclusive, anchored at its start) inside [start, end)."""
    if start is not None and start > first:
        first = first + step * math.ceil((start - first) / step)
    if end is not None and end <= last:
        last = end - pd.Timedelta(seconds=1)
    if last < first:
        return pd.DatetimeIndex([], tz="UTC")
    bins = (last - first) // step + 1
    if bins > MAX_BINS:
        raise shape.error(where, f"spans {bins} bins of {step}, more than {MAX_BINS}")
    return pd.date_range(first, last, freq=step)


def _messages(payload: dict) -> str:
    messages = payload.get("messages") if isinstance(payload, dict) else None
    if not isinstance(messages, list):
        messages = []
    texts = [m[1] for m in messages if isinstance(m, list) and len(m) > 1 and isinstance(m[1], str)]
    return "; ".join(texts)[:200] or "no message"


def _step(resolution: str) -> pd.Timedelta:
    if resolution not in RESOLUTIONS:
        raise InputError(f"{NAME}: resolution {resolution!r} is not one of {', '.join(RESOLUTIONS)}")
    return parse_duration(resolution.replace("m", "min"), what=f"{NAME} resolution")


def fetch(client: HttpClient, base_url: str, entity: Entity, start: pd.Timestamp, end: pd.Timestamp,
          options: Mapping[str, Any]) -> Batch:
    """Routed ASN and prefix counts of a country for [start, end); an ASN's registered country."""
    if entity.type == "asn":
        url = f"{base_url.rstrip('/')}/{PLACE_ENDPOINT}/data.json"
        params = {"resource": f"AS{entity.code}", "sourceapp": SOURCEAPP}
        return Batch(places=parse_rir_country(client.get_json(url, params), entity, url))
    resolution = str(options["resolution"])
    _step(resolution)
    url = f"{base_url.rstrip('/')}/{ENDPOINT}/data.json"
    params = {"resource": entity.code, "starttime": iso(start), "endtime": iso(end),
              "resolution": resolution, "sourceapp": SOURCEAPP}
    return Batch(signals=parse_resource_stats(client.get_json(url, params), str(entity), resolution, url,
                                              start=start, end=end))


SOURCE = Source(
    name=NAME,
    description="RIPEstat country-resource-stats: routed ASNs and IPv4/IPv6 prefixes of a country over time; "
                "for an ASN, the country it is registered to (rir-stats-country)",
    yields=("signals",),
    base_url="https://stat.ripe.net/data",
    interval=pd.Timedelta("1h"),
    max_window=pd.Timedelta(days=7),
    overlap=pd.Timedelta("8h"),
    lookback=pd.Timedelta(days=7),
    licence="RIPEstat data (c) RIPE NCC, under the RIPE NCC terms of use for RIPEstat; attribute RIPE NCC.",
    fetch=fetch,
    entity_types=("country", "asn"),
    options={"resolution": "1h"},
)
