"""A local replay of the IODA and RIPE Atlas APIs over the bundled real data, for offline use.

It serves the real paths and envelopes (docs/sources.md) so collectors run unchanged against it:
  IODA       /v2/signals/raw/{type}/{code}, /v2/outages/events, /v2/outages/alerts
  RIPE Atlas /api/v2/probes/ (paged with `next`), /api/v2/measurements/7000/results/
Values come from data/ioda-iran-2019 (Iran, Nov 2019: ping-slash24 and a BGP window) and
data/ripe-atlas-kenya-2016 (Kenya's connection log, 2016-06-01..07). What is NOT real, and marked:
  * alerts and events are derived here from the real series by a simple median rule (each record
    carries a `replay` note); IODA's own alerts for those days are not bundled;
  * with `synthetic=True`, entities without bundled data get generated series (`"synthetic": true`
    in each series) so benchmarks can backfill many countries;
  * the probe list is rebuilt from the log (id, ASN, prefix, status = last event) and `maxPoints`
    is ignored (native steps only).
Options: `port` (0 = a free port), `latency` seconds added to every request, and `fault`, a hook
that may answer any request with a `Fault` (status, body, delay, dropped connection).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
import pandas as pd
import pycountry

from monitor.entities import Entity
from monitor.errors import InputError
from monitor.sources.ioda import NATIVE_STEPS
from monitor.timeutil import iso, now, to_epoch

log = logging.getLogger("monitor.replay")

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
IODA_COPYRIGHT = "This data is Copyright (c) 2021-2025 Georgia Tech Research Corporation. All Rights Reserved."
MAX_RANGE = 100 * 86400
IODA_SERIES = (  # file, entity, datasource, native step
    ("ioda-iran-2019/20191123-ioda-iran-countrywide-active-probing.csv", "country/IR", "ping-slash24", 600),
    ("ioda-iran-2019/20191123-ioda-iran-countrywide-bgp_window_2019-11-15T17_2019-11-17T20.csv",
     "country/IR", "bgp", 300),
)
ATLAS_LOG, ATLAS_COUNTRY = "ripe-atlas-kenya-2016/ke_msm7000_2016-06-01_07.jsonl", "KE"
SYNTHETIC_DATASOURCES = ("bgp", "ping-slash24", "merit-nt", "gtr")
DERIVED = "derived by the outage-monitor replay from the bundled series (median rule); not IODA's own output"
ALERT_RATIO, ALERT_HISTORY = 0.8, 86400  # critical below 80% of the median of the last day's normal bins
ATLAS_PAGE_SIZE, ATLAS_MAX_PAGE_SIZE = 50, 500


@dataclass(frozen=True)
class ReplayRequest:
    """What a fault hook sees: method, path, decoded query, headers and the request's number (1-based)."""

    method: str
    path: str
    query: dict[str, str]
    number: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """A scripted answer: `status` with `body`, after `delay` seconds; `drop` closes without answering."""

    status: int = 503
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


FaultHook = Callable[[ReplayRequest], "Fault | None"]


class _BadRequest(Exception):
    pass


@dataclass(frozen=True)
class Series:
    """One regular series: values[i] at start + i*step (NaN = no data)."""

    entity: str
    datasource: str
    start: int
    step: int
    values: np.ndarray
    synthetic: bool = False

    def window(self, frm: int, until: int) -> "Series | None":
        """The bins in [floor(frm), until) that the series has, as IODA's server returns them."""
        first = max(frm // self.step * self.step, self.start)
        lo = (first - self.start) // self.step
        hi = min(len(self.values), -(-(until - self.start) // self.step))
        if hi <= lo:
            return None
        return Series(self.entity, self.datasource, self.start + lo * self.step, self.step,
                      self.values[lo:hi], self.synthetic)


class ReplayData:
    """The bundled real data, loaded once, in the shapes the replay serves."""

    def __init__(self, data_dir: str | Path | None = None):
        self.dir = Path(data_dir) if data_dir else DATA_DIR
        self.series = {(e, ds): _load_series(self.dir / f, e, ds, step) for f, e, ds, step in IODA_SERIES}
        self.alerts = [a for s in self.series.values() for a in derive_alerts(s)]
        self.atlas = _load_log(self.dir / ATLAS_LOG)
        self.atlas_span = _log_span(self.atlas)
        self.probes = _probes_from_log(self.atlas, ATLAS_COUNTRY)

    def real_entities(self) -> set[str]:
        return {entity for entity, _ in self.series}


def _load_series(path: Path, entity: str, datasource: str, step: int) -> Series:
    try:
        df = pd.read_csv(path)
    except OSError as exc:
        raise InputError(f"replay data {path} cannot be read ({exc.strerror}); pass data_dir") from exc
    secs = to_epoch(pd.to_datetime(df["timestamp"], utc=True))
    start = int(secs.min())
    values = np.full((int(secs.max()) - start) // step + 1, np.nan)
    values[(secs - start) // step] = pd.to_numeric(df["value"], errors="coerce").to_numpy()
    return Series(entity, datasource, start, step, values)


def _load_log(path: Path) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"replay data {path} cannot be read ({exc.strerror}); pass data_dir") from exc
    return sorted((json.loads(line) for line in lines if line.strip()), key=lambda r: r["timestamp"])


def _log_span(records: list[dict]) -> tuple[int, int]:
    """[first day, day after the last) of a connection log, in unix seconds: the period it holds.

    Outside it an empty answer would mean "no probe changed state", which a collector reads as every
    probe connected; so the replay answers "no data" there instead."""
    if not records:
        return 0, 0
    day = 86400
    return records[0]["timestamp"] // day * day, (records[-1]["timestamp"] // day + 1) * day


def _probes_from_log(records: list[dict], country: str) -> list[dict]:
    """Probe objects (Atlas's field names) rebuilt from each probe's last connection record."""
    last: dict[int, dict] = {}
    for rec in records:
        last[rec["prb_id"]] = rec
    out = []
    for pid, rec in sorted(last.items()):
        up = rec["event"] == "connect"
        out.append({"id": pid, "asn_v4": int(rec["asn"]), "country_code": country, "prefix_v4": rec.get("prefix"),
                    "status": {"id": 1 if up else 2, "name": "Connected" if up else "Disconnected",
                               "since": iso(pd.Timestamp(rec["timestamp"], unit="s", tz="UTC"))},
                    "status_since": rec["timestamp"], "type": "Probe"})
    return out


def derive_alerts(series: Series) -> list[dict]:
    """IODA-shaped alerts at each change of level: critical below ALERT_RATIO x the median of the
    last day's normal bins (frozen while critical, so a long outage does not become the baseline)."""
    size = ALERT_HISTORY // series.step
    history: deque = deque(maxlen=size)
    level, out = "normal", []
    for i, value in enumerate(series.values):
        if np.isnan(value):
            continue
        if len(history) < size // 2:
            history.append(value)
            continue
        base = float(np.median(history))
        new = "critical" if value < ALERT_RATIO * base else "normal"
        if new != level:
            etype, code = series.entity.split("/")
            out.append({"datasource": series.datasource,
                        "entity": {"code": code, "name": _entity_name(series.entity), "type": etype, "attrs": {}},
                        "time": series.start + i * series.step, "level": new,
                        "condition": f"< {ALERT_RATIO}" if new == "critical" else f">= {ALERT_RATIO}",
                        "value": int(value), "historyValue": int(base), "method": "median", "replay": DERIVED})
            level = new
        if new == "normal":
            history.append(value)
    return out


def build_events(alerts: list[dict], frm: int, until: int) -> list[dict]:
    """IODA's events builder (OutagesEventsService::buildEvents) over time-sorted alerts, codf format."""
    open_: dict[tuple, dict] = {}
    done = []
    for a in sorted(alerts, key=lambda a: a["time"]):
        key = (a["entity"]["type"], a["entity"]["code"], a["datasource"])
        drop = abs(a["historyValue"] - a["value"]) / max(a["historyValue"], a["value"], 1) * 100
        ev = open_.get(key)
        if ev:
            ev["score"] += ev["drop"] * (a["time"] - ev["prev"]) / 60
            ev["prev"], ev["drop"] = a["time"], drop
            if a["level"] == "normal":
                if a["time"] >= frm:
                    done.append({**ev, "until": a["time"]})
                del open_[key]
        elif a["level"] != "normal" and a["time"] <= until:
            open_[key] = {"alert": a, "from": a["time"], "prev": a["time"], "drop": drop, "score": 0.0,
                          "overlaps": a["time"] < frm}
    for ev in open_.values():
        ev["score"] += ev["drop"] * (until - ev["prev"]) / 60
        done.append({**ev, "until": until, "overlaps": True})
    return [{"location": f"{e['alert']['entity']['type']}/{e['alert']['entity']['code']}", "start": e["from"],
             "duration": e["until"] - e["from"], "uncertainty": None, "method": e["alert"]["method"],
             "datasource": e["alert"]["datasource"], "status": 0, "fraction": None, "score": e["score"],
             "location_name": e["alert"]["entity"]["name"], "overlaps_window": e["overlaps"], "replay": DERIVED}
            for e in sorted(done, key=lambda e: e["from"])]


def synthetic_series(entity: str, datasource: str, start: int, until: int) -> Series:
    """Generated values (a level per entity and datasource, a daily cycle): for benchmarks only."""
    step = NATIVE_STEPS[datasource]
    first = start // step * step
    t = np.arange(first, until, step, dtype="int64")
    seed = zlib.crc32(f"{entity}|{datasource}".encode())
    level = 1000 + seed % 50_000
    phase = (seed % 86400) / 86400 * 2 * np.pi
    values = np.round(level * (1 + 0.1 * np.sin(2 * np.pi * t / 86400 + phase)))
    return Series(entity, datasource, first, step, values, synthetic=True)


def _entity_name(entity: str) -> str:
    etype, code = entity.split("/")
    if etype == "country":
        country = pycountry.countries.get(alpha_2=code)
        if country is not None:
            return getattr(country, "common_name", None) or country.name
    return f"AS{code}" if etype == "asn" else code


class ReplayServer:
    """The replay over HTTP: `start()` in a thread (or `with`), or `serve_forever()` in the foreground."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", latency: float = 0.0, synthetic: bool = False,
                 fault: FaultHook | None = None, data_dir: str | Path | None = None):
        self.data = ReplayData(data_dir)
        self.latency, self.synthetic, self.fault = float(latency), synthetic, fault
        self.requests: deque[ReplayRequest] = deque(maxlen=100_000)
        self._count = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.replay = self  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_urls(self) -> dict[str, str]:
        """Base URLs to pass as --base-url, by source name."""
        return {"ioda": f"{self.url}/v2", "ripe-atlas": f"{self.url}/api/v2"}

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.05)

    def start(self) -> "ReplayServer":
        self._thread = threading.Thread(target=self.serve_forever, name="replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()

    def __enter__(self) -> "ReplayServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def count(self, path_prefix: str = "") -> int:
        """Requests received so far whose path starts with `path_prefix`."""
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(path_prefix))

    def _answer(self, handler: "_Handler") -> None:
        parts = urlsplit(handler.path)
        with self._lock:
            self._count += 1
            req = ReplayRequest(handler.command, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                                self._count, dict(handler.headers.items()))
            self.requests.append(req)
        if self.latency:
            time.sleep(self.latency)
        fault = self.fault(req) if self.fault else None
        if fault is not None:
            time.sleep(fault.delay)
            if fault.drop:
                handler.close_connection = True
                return
            handler.send(fault.status, fault.body, "application/json", fault.headers)
            return
        status, body = self._route(req, handler.headers.get("Host", ""))
        text = body if isinstance(body, str) else json.dumps(body)
        handler.send(status, text, "text/plain" if isinstance(body, str) else "application/json")

    def _route(self, req: ReplayRequest, host: str) -> tuple[int, Any]:
        segments = [s for s in req.path.split("/") if s]
        try:
            if segments[:3] == ["v2", "signals", "raw"] and len(segments) == 5:
                return 200, self.ioda_signals(segments[3], segments[4], req.query)
            if segments[:2] == ["v2", "outages"] and len(segments) == 3 and segments[2] in ("events", "alerts"):
                return 200, self.ioda_outages(segments[2], req.query)
            if segments == ["v2", "entities", "query"]:
                return 200, self.ioda_entity(req.query)
            if segments[:3] == ["api", "v2", "probes"] and len(segments) == 3:
                return self.atlas_probes(req, host)
            if segments[:3] == ["api", "v2", "measurements"] and segments[4:] == ["results"]:
                return self.atlas_results(segments[3], req.query)
        except _BadRequest as exc:
            if segments[:1] == ["v2"]:
                kind = "signals" if segments[1:2] == ["signals"] else ".".join(segments[1:3])
                return 400, _ioda_envelope(kind, req.query, error=str(exc))
            return 400, {"error": {"status": 400, "title": "Bad Request", "detail": str(exc)}}
        return 404, {"error": {"status": 404, "title": "Not Found", "detail": f"no replay for {req.path}"}}

    # -- IODA ------------------------------------------------------------------------------
    def ioda_entity(self, query: dict) -> dict:
        """`/entities/query?entityType=..&entityCode=..`: the entity with its name, no attributes."""
        etype, code = query.get("entityType", ""), query.get("entityCode", "")
        data = [{"code": code, "name": _entity_name(f"{etype}/{code}"), "type": etype, "attrs": {}}] \
            if etype and code else []
        return _ioda_envelope("entities", query, data=data)

    def ioda_signals(self, etype: str, codes: str, query: dict) -> dict:
        frm, until = _time_range(query)
        if until - frm >= MAX_RANGE:
            raise _BadRequest("Time range for a single query must be less than 100 days")
        datasource = query.get("datasource") or None
        if datasource and datasource not in NATIVE_STEPS:
            raise _BadRequest(f"invalid datasource {datasource} (must be one of the following "
                              f"[{', '.join(NATIVE_STEPS)}])")
        data = []
        for code in codes.split(","):
            entity = _entity(etype, code)
            pieces = (self._series(entity, ds, frm, until) for ds in ([datasource] if datasource else NATIVE_STEPS))
            data.append([_series_json(p) for p in pieces if p is not None])
        return _ioda_envelope("signals", query, data=data)

    def _series(self, entity: str, datasource: str, frm: int, until: int) -> Series | None:
        real = self.data.series.get((entity, datasource))
        if real is not None:
            return real.window(frm, until)
        if self.synthetic and datasource in SYNTHETIC_DATASOURCES and entity not in self.data.real_entities():
            return synthetic_series(entity, datasource, frm, until)
        return None

    def ioda_outages(self, kind: str, query: dict) -> dict:
        frm, until = _time_range(query)
        extend = _int(query, "extendWindow", 1209600 if kind == "events" else 0)
        limit, page = _int(query, "limit", 500), _int(query, "page", 0)
        if query.get("format", "codf") != "codf":
            raise _BadRequest("the replay serves only format=codf")
        alerts = [a for a in self.data.alerts if frm - extend <= a["time"] <= until and _matches(a, query)]
        items = build_events(alerts, frm, until) if kind == "events" else alerts
        return _ioda_envelope(f"outages.{kind}", query, data=items[limit * page: limit * (page + 1)])

    # -- RIPE Atlas ------------------------------------------------------------------------
    def atlas_probes(self, req: ReplayRequest, host: str) -> tuple[int, dict]:
        q = req.query
        probes = [p for p in self.data.probes
                  if ("country_code" not in q or p["country_code"] == q["country_code"].upper())
                  and ("asn_v4" not in q or str(p["asn_v4"]) == q["asn_v4"])
                  and ("asn" not in q or str(p["asn_v4"]) == q["asn"])]
        size = min(_int(q, "page_size", ATLAS_PAGE_SIZE), ATLAS_MAX_PAGE_SIZE)
        page = _int(q, "page", 1)
        pages = max(1, -(-len(probes) // max(size, 1)))
        if size < 1 or page < 1 or page > pages:
            return 404, {"detail": "Invalid page."}

        def link(n: int) -> str | None:
            return f"http://{host}{req.path}?{urlencode({**q, 'page': n})}" if 1 <= n <= pages else None
        return 200, {"count": len(probes), "next": link(page + 1), "previous": link(page - 1),
                     "results": probes[size * (page - 1): size * page]}

    def atlas_results(self, msm: str, q: dict) -> tuple[int, Any]:
        if msm != "7000":
            return 404, {"error": {"status": 404, "title": "Not Found", "detail": "Not found."}}
        start, stop = _int(q, "start", 0), _int(q, "stop", 2**31 - 1)
        lo, hi = self.data.atlas_span
        if start < lo or stop > hi:
            return 404, {"error": {"status": 404, "title": "No data",
                                   "detail": f"no data: the replay holds RIPE Atlas connection records from "
                                             f"{_iso_s(lo)} to {_iso_s(hi)} only"}}
        ids = {int(i) for i in q["probe_ids"].split(",") if i.strip()} if q.get("probe_ids") else None
        records = [r for r in self.data.atlas
                   if start <= r["timestamp"] <= stop and (ids is None or r["prb_id"] in ids)]
        if q.get("format") == "txt":
            return 200, "".join(json.dumps(r) + "\n" for r in records)
        return 200, records


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "outage-monitor-replay"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.replay._answer(self)  # type: ignore[attr-defined]

    def send(self, status: int, text: str, content_type: str, headers: dict | None = None) -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args) -> None:
        log.debug("%s " + fmt, self.address_string(), *args)


@contextmanager
def running(**kwargs) -> Iterator[ReplayServer]:
    """A replay server in a background thread for the duration of a `with` block."""
    server = ReplayServer(**kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _iso_s(seconds: int) -> str:
    return iso(pd.Timestamp(seconds, unit="s", tz="UTC"))


def _int(query: dict, name: str, default: int | None = None) -> int:
    text = query.get(name)
    if text is None or text == "":
        if default is None:
            raise _BadRequest(f"Missing required request parameter '{name}'")
        return default
    try:
        return int(text)
    except ValueError:
        raise _BadRequest(f"Invalid value for request parameter '{name}': {text!r} is not an integer") from None


def _time_range(query: dict) -> tuple[int, int]:
    frm, until = _int(query, "from"), _int(query, "until")
    if frm > until:
        raise _BadRequest(f"from ({frm}) must be earlier than until ({until})")
    return frm, until


def _entity(etype: str, code: str) -> str:
    try:
        entity = Entity.parse(f"{etype}/{code}")
    except InputError:
        raise _BadRequest("cannot find corresponding metadata entity 0") from None
    if entity.type == "country" and pycountry.countries.get(alpha_2=entity.code) is None:
        raise _BadRequest("cannot find corresponding metadata entity 0")
    return str(entity)


def _matches(alert: dict, query: dict) -> bool:
    ent = alert["entity"]
    return (query.get("entityType") in (None, "", ent["type"]) and query.get("entityCode") in (None, "", ent["code"])
            and query.get("datasource") in (None, "", alert["datasource"]))


def _series_json(s: Series) -> dict:
    etype, code = s.entity.split("/")
    values = [None if np.isnan(v) else (int(v) if float(v).is_integer() else float(v)) for v in s.values.tolist()]
    out = {"entityType": etype, "entityCode": code, "entityName": _entity_name(s.entity),
           "entityFqid": f"geo.provider.{code}" if etype == "country" else f"{etype}.{code}",
           "datasource": s.datasource, "subtype": "", "from": s.start, "until": s.start + len(values) * s.step,
           "step": s.step, "nativeStep": NATIVE_STEPS.get(s.datasource, s.step), "values": values}
    if s.synthetic:
        out["synthetic"] = True
    return out


def _ioda_envelope(kind: str, query: dict, data: Any = None, error: str | None = None) -> dict:
    stamp = now().isoformat()
    return {"type": kind, "metadata": {"requestTime": stamp, "responseTime": stamp},
            "requestParameters": query, "error": error, "perf": None, "data": data, "copyright": IODA_COPYRIGHT}
