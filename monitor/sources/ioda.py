"""IODA (Georgia Tech): raw signals per datasource, and IODA's own outage events and alerts.

`/signals/raw/{type}/{code}` gives, per datasource, `values[i]` at `from + i*step`; nulls are gaps
and stay NaN. The server refuses ranges of 100 days or more, so `max_window` is 99 days.
`/outages/events` and `/outages/alerts` become reference outages (sources `ioda-events`,
`ioda-alerts`) so our detector can be compared with IODA's. For an entity that does not name its
country (an ASN, a region, a geoasn), `/entities/query?entityType=..&entityCode=..` gives its name
and attributes; `attrs.country_code` (the key IODA's region entities carry; UNCONFIRMED for the
others) becomes its stored place. IODA's ASN attributes (`org`, `ip_count`) hold no country: the
`ripestat` source gives an ASN's (rir-stats-country).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from monitor.entities import Entity
from monitor.frames import OUTAGE_COLUMNS, PLACE_COLUMNS, SIGNAL_COLUMNS, empty
from monitor.http import HttpClient
from monitor.sources.base import MAX_EPOCH, Batch, PayloadShape, Source, concat, numbered_pages
from monitor.timeutil import epoch, from_epoch

NAME = "ioda"
EVENTS_SOURCE = "ioda-events"
ALERTS_SOURCE = "ioda-alerts"
PAGE_SIZE = 500  # IODA's default `limit` for alerts and events

# Datasource -> native step in seconds (IODA's DatasourceService).
NATIVE_STEPS = {"bgp": 300, "ping-slash24": 600, "ping-slash24-loss": 600, "ping-slash24-latency": 600,
                "merit-nt": 300, "gtr": 1800, "gtr-norm": 1800, "gtr-sarima": 1800, "mozilla": 3600,
                "upstream-delay-penult-asns": 3600, "upstream-delay-penult-e2e-latency": 3600}
DEFAULT_ALERT_STEP = 300
MAX_VALUE = 1e300


def parse_signals(payload: Any, url: str | None = None) -> pd.DataFrame:
    """A `/signals/raw` envelope -> signal frame; every value at `from + i*step`, null -> NaN."""
    shape = PayloadShape(NAME, url)
    data = _envelope_data(shape, payload)
    frames = []
    for i, entity_series in enumerate(data):
        shape.check(entity_series, list, f"data[{i}]")
        for j, series in enumerate(entity_series):
            frames.append(_series_frame(shape, series, f"data[{i}][{j}]"))
    return concat(frames, SIGNAL_COLUMNS)


def _series_frame(shape: PayloadShape, series: Any, path: str) -> pd.DataFrame:
    etype = shape.need(series, "entityType", str, path)
    code = shape.need(series, "entityCode", str, path)
    datasource = shape.need(series, "datasource", str, path)
    start = shape.epoch(series, "from", path)
    until = shape.epoch(series, "until", path)
    step = shape.bounded(shape.need(series, "step", int, path), 1, MAX_EPOCH, f"{path}.step")
    values = shape.need(series, "values", list, path)
    if until < start or (until - start) % step:
        raise shape.error(f"{path}.until", f"({until}) is not from ({start}) plus a whole number of steps ({step})")
    expected = (until - start) // step
    if len(values) != expected:
        raise shape.error(f"{path}.values", f"has {len(values)} values, expected {expected} "
                                            f"for from={start} until={until} step={step}")
    subtype = shape.need(series, "subtype", str, path, optional=True)
    name = f"{datasource}.{subtype.lower()}" if subtype else datasource
    arr = _values(shape, values, f"{path}.values")
    return pd.DataFrame({"entity": shape.entity(f"{etype}/{code}", f"{path}.entityCode"),
                         "datasource": name,
                         "time": from_epoch(start + step * np.arange(expected, dtype="int64")),
                         "value": arr})


def _values(shape: PayloadShape, values: list, path: str) -> np.ndarray:
    """Values as floats, null -> NaN; each must be a finite number (or null)."""
    for k, v in enumerate(values):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise shape.error(f"{path}[{k}]", f"is {v!r}, expected a number or null")
        if abs(v) > MAX_VALUE:  # exact for ints too, so 10**400 is refused here, not overflowed later
            raise shape.error(f"{path}[{k}]", f"is {v!r}, not a finite number of a sane size")
    return np.array([np.nan if v is None else v for v in values], dtype="float64")


def parse_events(payload: Any, until: pd.Timestamp | None = None, url: str | None = None) -> pd.DataFrame:
    """An `/outages/events` envelope (codf format) -> reference outages.

    An event reaching `until` (the query's end) is still ongoing as far as IODA knew: end = None.
    """
    shape = PayloadShape(NAME, url)
    rows = []
    for i, record in enumerate(_envelope_data(shape, payload)):
        path = f"data[{i}]"
        entity = shape.entity(shape.need(record, "location", str, path), f"{path}.location")
        start = shape.epoch(record, "start", path)
        duration = shape.bounded(shape.need(record, "duration", int, path), 0, MAX_EPOCH, f"{path}.duration")
        datasource = shape.need(record, "datasource", str, path)
        method = shape.need(record, "method", str, path)
        score = shape.need(record, "score", (int, float), path, optional=True)
        stop = start + duration
        ongoing = until is not None and stop >= epoch(until)
        rows.append(_outage(EVENTS_SOURCE, f"{EVENTS_SOURCE}:{entity}:{datasource}:{method}:{start}", entity,
                            start, None if ongoing else stop, datasource, np.nan, score, record))
    return _outage_frame(rows)


def parse_alerts(payload: Any, url: str | None = None) -> pd.DataFrame:
    """An `/outages/alerts` envelope -> one reference outage per non-normal alert.

    An alert marks one bin, so its outage spans one native step of its datasource; recoveries
    (`level: normal`) close IODA's events and are not outages themselves.
    """
    shape = PayloadShape(NAME, url)
    rows = []
    for i, record in enumerate(_envelope_data(shape, payload)):
        path = f"data[{i}]"
        level = shape.need(record, "level", str, path)
        ent = shape.need(record, "entity", dict, path)
        entity = shape.entity(f"{shape.need(ent, 'type', str, path + '.entity')}/"
                              f"{shape.need(ent, 'code', str, path + '.entity')}", f"{path}.entity")
        datasource = shape.need(record, "datasource", str, path)
        time = shape.epoch(record, "time", path)
        method = shape.need(record, "method", str, path)
        value = shape.need(record, "value", (int, float), path, optional=True)
        history = shape.need(record, "historyValue", (int, float), path, optional=True)
        if level == "normal":
            continue
        depth = np.nan
        if value is not None and history:
            depth = float(min(1.0, max(0.0, 1 - value / history)))
        stop = time + NATIVE_STEPS.get(datasource, DEFAULT_ALERT_STEP)
        rows.append(_outage(ALERTS_SOURCE, f"{ALERTS_SOURCE}:{entity}:{datasource}:{method}:{time}", entity,
                            time, stop, datasource, depth, np.nan, record))
    return _outage_frame(rows)


def _envelope_data(shape: PayloadShape, payload: Any) -> list:
    """IODA's envelope `data` list; an `error` in the envelope is a failure even under HTTP 200."""
    error = shape.need(payload, "error", str, "", optional=True)
    if error:
        raise shape.error("error", f"reports {error!r}")
    return shape.need(payload, "data", list, "")


def _outage(source: str, outage_id: str, entity: str, start: int, stop: int | None, datasource: str,
            depth: float, score: float | None, record: dict) -> dict:
    return {"outage_id": outage_id, "source": source, "entity": entity, "country": Entity.parse(entity).country,
            "start": start, "end": stop, "datasources": [datasource], "depth": depth,
            "score": np.nan if score is None else float(score), "method": "ioda", "detail": record}


def _outage_frame(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return empty(OUTAGE_COLUMNS)
    df = pd.DataFrame(rows, columns=OUTAGE_COLUMNS)
    df["start"] = from_epoch(df["start"].astype("int64").to_numpy())
    ends = pd.Series(pd.NaT, index=df.index, dtype="datetime64[s, UTC]")
    known = df["end"].notna().to_numpy()
    if known.any():
        ends[known] = from_epoch(df.loc[known, "end"].astype("int64").to_numpy())
    df["end"] = ends
    return df


def fetch(client: HttpClient, base_url: str, entity: Entity, start: pd.Timestamp, end: pd.Timestamp,
          options: Mapping[str, Any]) -> Batch:
    """Signals of [start, end) (one request per chosen datasource, or one for all) and, unless
    `reference` is off, IODA's events and alerts for the same window."""
    base = base_url.rstrip("/")
    window = {"from": epoch(start), "until": epoch(end)}
    url = f"{base}/signals/raw/{entity.type}/{entity.code}"
    datasources = options.get("datasources") or [None]
    frames = []
    for ds in datasources:
        params = {**window, **({"datasource": ds} if ds else {})}
        df = parse_signals(client.get_json(url, params), url)
        frames.append(df[(df["entity"] == str(entity)) & (df["time"] >= start) & (df["time"] < end)])
    signals = concat(frames, SIGNAL_COLUMNS)
    places = _place(client, base, entity) if entity.country is None and entity.type != "continent" \
        else empty(PLACE_COLUMNS)
    if not options.get("reference", True):
        return Batch(signals=signals, places=places)
    query = {"entityType": entity.type, "entityCode": entity.code, **window}
    events = numbered_pages(client, f"{base}/outages/events", query, _items, page_param="page",
                            size_param="limit", size=PAGE_SIZE)
    alerts = numbered_pages(client, f"{base}/outages/alerts", query, _items, page_param="page",
                            size_param="limit", size=PAGE_SIZE)
    outages = concat([parse_events({"data": events}, until=end, url=f"{base}/outages/events"),
                      parse_alerts({"data": alerts}, url=f"{base}/outages/alerts")], OUTAGE_COLUMNS)
    return Batch(signals=signals, outages=outages, places=places)


def parse_place(payload: Any, entity: Entity, url: str | None = None) -> pd.DataFrame:
    """PLACE_COLUMNS for `entity` from an `/entities/query` answer (empty when it is not listed)."""
    shape = PayloadShape(NAME, url)
    for i, item in enumerate(_envelope_data(shape, payload)):
        shape.check(item, dict, f"data[{i}]")
        if str(item.get("type")) != entity.type or str(item.get("code")) != entity.code:
            continue
        attrs = shape.need(item, "attrs", dict, f"data[{i}]", optional=True) or {}
        country = attrs.get("country_code")
        country = country.upper() if isinstance(country, str) and len(country) == 2 and country.isalpha() else None
        name = item.get("name") if isinstance(item.get("name"), str) else None
        return pd.DataFrame([{"entity": str(entity), "country": country, "name": name, "source": NAME}],
                            columns=PLACE_COLUMNS)
    return empty(PLACE_COLUMNS)


def _place(client: HttpClient, base: str, entity: Entity) -> pd.DataFrame:
    url = f"{base}/entities/query"
    return parse_place(client.get_json(url, {"entityType": entity.type, "entityCode": entity.code}), entity, url)


def _items(payload: Any, url: str) -> list:
    """The `data` list of one page of alerts or events (checked, not yet parsed)."""
    return _envelope_data(PayloadShape(NAME, url), payload)


SOURCE = Source(
    name=NAME,
    description="IODA raw signals (bgp, ping-slash24, merit-nt, gtr, ...) and IODA's outage events and alerts",
    yields=("signals", "outages"),
    base_url="https://api.ioda.inetintel.cc.gatech.edu/v2",
    interval=pd.Timedelta("15min"),
    max_window=pd.Timedelta(days=99),
    overlap=pd.Timedelta("2h"),
    lookback=pd.Timedelta(days=7),
    licence="IODA data: Copyright (c) 2021-2025 Georgia Tech Research Corporation, all rights reserved; "
            "cite IODA (Internet Outage Detection and Analysis, Georgia Tech Internet Intelligence Lab).",
    fetch=fetch,
    entity_types=("continent", "country", "region", "asn", "geoasn"),
    options={"datasources": None, "reference": True},
)
