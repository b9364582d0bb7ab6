"""RIPE Atlas: the probe connection log (built-in measurement 7000) of an entity's probes.

Fetch lists the entity's probes (`/probes/?country_code=` or `?asn_v4=`, following `next`), reads
their connect/disconnect records for the window (`/measurements/7000/results/?start=&stop=&probe_ids=`,
ids in chunks), keeps them raw as probe events, and derives two per-entity series per bin:
`atlas-connected` (probes connected at the end of the bin) and `atlas-disconnects` (disconnections
in the bin). A probe's state at the window start comes from its first event in the window, else
from its current status when that has not changed since, else from its first event after the
window (one look-ahead request); a probe still unknown is left out of the count (and logged).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from monitor.entities import Entity
from monitor.errors import InputError
from monitor.frames import PROBE_EVENT_COLUMNS, SIGNAL_COLUMNS, empty
from monitor.http import HttpClient
from monitor.sources.base import MAX_ASN, Batch, PayloadShape, Source, chunked, concat, follow_next
from monitor.timeutil import epoch, from_epoch, parse_duration

log = logging.getLogger("monitor.sources.ripe_atlas")

NAME = "ripe-atlas"
MEASUREMENT = 7000
CONNECTED = "atlas-connected"
DISCONNECTS = "atlas-disconnects"
STATUS_CONNECTED = 1
EVENTS = ("connect", "disconnect")
MAX_PROBE_ID = 2**31 - 1


@dataclass(frozen=True)
class Probe:
    """What the probe list tells about one probe: id, ASN and current status (since when)."""

    id: int
    asn: int | None
    connected: bool | None
    status_since: int | None


def parse_probes(payload: Any, url: str | None = None) -> list[Probe]:
    """One page of `/probes/` -> Probe records."""
    shape = PayloadShape(NAME, url)
    probes = []
    for i, item in enumerate(shape.need(payload, "results", list, "")):
        path = f"results[{i}]"
        status = shape.need(item, "status", dict, path, optional=True)
        status_id = shape.need(status, "id", int, f"{path}.status") if status is not None else None
        asn = shape.need(item, "asn_v4", int, path, optional=True)
        probes.append(Probe(id=shape.bounded(shape.need(item, "id", int, path), 0, MAX_PROBE_ID, f"{path}.id"),
                            asn=None if asn is None else shape.bounded(asn, 0, MAX_ASN, f"{path}.asn_v4"),
                            connected=None if status_id is None else status_id == STATUS_CONNECTED,
                            status_since=shape.epoch(item, "status_since", path, optional=True)))
    return probes


def parse_connection_log(payload: Any, entity: str, asns: Mapping[int, int | None] | None = None,
                         url: str | None = None) -> pd.DataFrame:
    """Measurement-7000 records -> probe events of `entity` (ASN from the record, else the probe's)."""
    shape = PayloadShape(NAME, url)
    shape.check(payload, list, "results")
    asns = asns or {}
    rows = []
    for i, rec in enumerate(payload):
        path = f"results[{i}]"
        probe = shape.bounded(shape.need(rec, "prb_id", int, path), 0, MAX_PROBE_ID, f"{path}.prb_id")
        event = shape.need(rec, "event", str, path)
        if event not in EVENTS:
            raise shape.error(f"{path}.event", f"is {event!r}, expected connect or disconnect")
        asn = shape.need(rec, "asn", (int, str), path, optional=True)
        if isinstance(asn, str):
            if not (asn.strip().isascii() and asn.strip().isdigit()):
                raise shape.error(f"{path}.asn", f"is {asn!r}, expected an AS number")
            asn = int(asn)
        if asn is None:
            asn = asns.get(probe)
            asn = asn if asn is not None and 0 <= asn <= MAX_ASN else None  # the probe list's, if sane
        else:
            shape.bounded(asn, 0, MAX_ASN, f"{path}.asn")
        rows.append((entity, probe, asn, shape.epoch(rec, "timestamp", path), event))
    if not rows:
        return empty(PROBE_EVENT_COLUMNS)
    df = pd.DataFrame(rows, columns=PROBE_EVENT_COLUMNS)
    df["asn"] = df["asn"].astype("Int64")
    df["time"] = from_epoch(df["time"].to_numpy())
    return df.sort_values(["time", "probe_id"], kind="stable", ignore_index=True)


def initial_states(probes: list[Probe], events: pd.DataFrame, start: pd.Timestamp) -> dict[int, bool | None]:
    """Each probe's connectedness just before `start`; None where the log and status cannot tell."""
    first = events.drop_duplicates("probe_id", keep="first").set_index("probe_id")["event"] \
        if not events.empty else pd.Series(dtype=object)
    states: dict[int, bool | None] = {}
    for probe in probes:
        if probe.id in first.index:
            states[probe.id] = first[probe.id] == "disconnect"  # it disconnected, so it was connected
        elif probe.status_since is not None and probe.status_since <= epoch(start):
            states[probe.id] = probe.connected
        else:
            states[probe.id] = None
    return states


def connection_series(events: pd.DataFrame, states: Mapping[int, bool | None], entity: str,
                      start: pd.Timestamp, end: pd.Timestamp, bin_size: pd.Timedelta) -> pd.DataFrame:
    """Per bin of [start, end): probes connected at the bin's end, and disconnections in the bin."""
    edges = pd.date_range(start, end, freq=bin_size, inclusive="left")
    if not states or len(edges) == 0:
        return empty(SIGNAL_COLUMNS)
    events = events.sort_values(["time", "probe_id"], kind="stable")
    bin_ends = np.append(epoch_array(edges[1:]), epoch(end))
    times = epoch_array(events["time"]) if not events.empty else np.array([], dtype="int64")
    deltas = np.zeros(len(times), dtype="int64")
    state = dict(states)
    for k, (probe, event) in enumerate(zip(events["probe_id"], events["event"])):
        before, after = state.get(probe), event == "connect"
        if before is not None:
            deltas[k] = int(after) - int(before)
            state[probe] = after
    upto = np.searchsorted(times, bin_ends, side="left")
    running = np.concatenate([[0], np.cumsum(deltas)])
    connected = sum(1 for s in states.values() if s) + running[upto]
    is_disc = np.concatenate([[0], np.cumsum((events["event"] == "disconnect").to_numpy(dtype="int64"))]) \
        if len(times) else np.zeros(1, dtype="int64")
    starts_idx = np.searchsorted(times, epoch_array(edges), side="left")
    disconnects = is_disc[upto] - is_disc[starts_idx]
    n = len(edges)
    return pd.DataFrame({"entity": [entity] * 2 * n, "datasource": [CONNECTED] * n + [DISCONNECTS] * n,
                         "time": edges.append(edges),
                         "value": np.concatenate([connected, disconnects]).astype("float64")})


def epoch_array(times) -> np.ndarray:
    """UTC times -> int64 unix seconds."""
    return pd.DatetimeIndex(times).as_unit("s").asi8.astype("int64")


def fetch(client: HttpClient, base_url: str, entity: Entity, start: pd.Timestamp, end: pd.Timestamp,
          options: Mapping[str, Any]) -> Batch:
    """Probe events and derived series of [start, end), start widened down to a bin boundary so
    that a resumed window recomputes whole bins."""
    bin_size = _duration(options["bin"], "bin")
    start = start.floor(bin_size)
    base = base_url.rstrip("/")
    probes = list_probes(client, base, entity, int(options["page_size"]))
    if not probes:
        return Batch()
    asns = {p.id: p.asn for p in probes}
    chunk = int(options["probe_chunk"])
    events = connection_log(client, base, str(entity), [p.id for p in probes], start, end, chunk, asns)
    states = initial_states(probes, events, start)
    unknown = [p for p in probes if states[p.id] is None]
    if unknown:
        states.update(_look_ahead(client, base, str(entity), unknown, end,
                                  _duration(options["lookahead"], "lookahead"), chunk, asns))
    left_out = sum(1 for s in states.values() if s is None)
    if left_out:
        log.info("%s %s: %d of %d probes left out of %s (state at %s unknown)", NAME, entity, left_out,
                 len(probes), CONNECTED, start)
    return Batch(signals=connection_series(events, states, str(entity), start, end, bin_size),
                 probe_events=events)


def list_probes(client: HttpClient, base: str, entity: Entity, page_size: int) -> list[Probe]:
    """All probes of a country (`country_code`) or AS (`asn_v4`), every page."""
    key = "country_code" if entity.type == "country" else "asn_v4"
    return follow_next(client, f"{base}/probes/", {key: entity.code, "page_size": page_size},
                       lambda payload, url: parse_probes(payload, url))


def connection_log(client: HttpClient, base: str, entity: str, probe_ids: list[int], start: pd.Timestamp,
                   end: pd.Timestamp, chunk: int, asns: Mapping[int, int | None]) -> pd.DataFrame:
    """Connection records of the probes in [start, end), probe ids sent in chunks."""
    url = f"{base}/measurements/{MEASUREMENT}/results/"
    frames = []
    for ids in chunked(sorted(probe_ids), chunk):
        params = {"start": epoch(start), "stop": epoch(end) - 1, "probe_ids": ",".join(map(str, ids)),
                  "format": "json"}
        frames.append(parse_connection_log(client.get_json(url, params), entity, asns, url))
    df = concat(frames, PROBE_EVENT_COLUMNS)
    df = df[(df["time"] >= start) & (df["time"] < end) & df["probe_id"].isin(probe_ids)]
    return df.sort_values(["time", "probe_id"], kind="stable", ignore_index=True)


def _look_ahead(client: HttpClient, base: str, entity: str, probes: list[Probe], end: pd.Timestamp,
                horizon: pd.Timedelta, chunk: int, asns: Mapping[int, int | None]) -> dict[int, bool]:
    """States before `end` of probes silent in the window, from their first event after it."""
    since = [p.status_since for p in probes if p.status_since is not None]
    stop = end + horizon
    if since and len(since) == len(probes):
        stop = min(stop, from_epoch([max(since) + 1])[0])
    if stop <= end:
        return {}
    later = connection_log(client, base, entity, [p.id for p in probes], end, stop, chunk, asns)
    first = later.drop_duplicates("probe_id", keep="first")
    return {int(p): e == "disconnect" for p, e in zip(first["probe_id"], first["event"])}


def _duration(value: Any, name: str) -> pd.Timedelta:
    td = value if isinstance(value, pd.Timedelta) else parse_duration(str(value), what=f"{NAME} option {name}")
    if td <= pd.Timedelta(0):
        raise InputError(f"{NAME} option {name} must be positive, got {value!r}")
    return td


SOURCE = Source(
    name=NAME,
    description="RIPE Atlas probe connection log (measurement 7000): raw events and connected/disconnect series",
    yields=("signals", "probe_events"),
    base_url="https://atlas.ripe.net/api/v2",
    interval=pd.Timedelta("15min"),
    max_window=pd.Timedelta(days=7),
    overlap=pd.Timedelta("1h"),
    lookback=pd.Timedelta(days=1),
    licence="RIPE Atlas data (c) RIPE NCC, under the RIPE Atlas Terms and Conditions; attribute RIPE NCC / RIPE Atlas.",
    fetch=fetch,
    entity_types=("country", "asn"),
    options={"bin": "5min", "page_size": 500, "probe_chunk": 500, "lookahead": "30D"},
    credential_env="RIPE_ATLAS_KEY",
    auth_scheme="Key",
)
