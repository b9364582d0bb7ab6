"""Writes: idempotent upserts, each batch inside the caller's transaction.

`Writer` holds one open SQLAlchemy connection inside a transaction; `Store.transaction()` hands one
out so a collector can write a window's points and move its cursor atomically.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from monitor.entities import parse_datasource, parse_entity
from monitor.errors import InputError
from monitor.frames import (EVENT_COLUMNS, EVENT_KINDS, OUTAGE_COLUMNS, PLACE_COLUMNS, PROBE_EVENT_COLUMNS,
                            SIGNAL_COLUMNS)
from monitor.store import schema as s
from monitor.store.convert import epochs, none_if_nan, optional_epochs, require_columns, to_json
from monitor.timeutil import epoch, now


class Writer:
    """Upserts into an open transaction (`conn`)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.dialect = conn.dialect.name

    # -- signals: the hot path, 10^6 points per batch must be fast -------------------------
    def write_signals(self, df: pd.DataFrame) -> int:
        """Upsert signal points; returns how many were new or changed (re-writes count 0)."""
        require_columns(df, SIGNAL_COLUMNS, "signal")
        if df.empty:
            return 0
        frame = _clean_signals(df)
        if self.dialect == "postgresql":
            return self._copy_signals_pg(frame)
        rows = list(zip(frame["entity"].tolist(), frame["datasource"].tolist(),
                        frame["time"].tolist(), frame["value"].tolist()))
        cur = self.conn.exec_driver_sql(
            "INSERT INTO signals (entity, datasource, time, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (entity, datasource, time) DO UPDATE SET value = excluded.value "
            "WHERE signals.value IS NOT excluded.value", rows)
        return max(cur.rowcount, 0)

    def _copy_signals_pg(self, frame: pd.DataFrame) -> int:
        buf = io.StringIO()
        frame.to_csv(buf, index=False, header=False, na_rep="")
        raw = self.conn.connection.driver_connection
        with raw.cursor() as cur:
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS signals_in "
                        "(entity text, datasource text, time bigint, value double precision) "
                        "ON COMMIT DELETE ROWS")
            cur.execute("TRUNCATE signals_in")
            with cur.copy("COPY signals_in FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buf.getvalue())
            cur.execute("INSERT INTO signals SELECT * FROM signals_in "
                        "ON CONFLICT (entity, datasource, time) DO UPDATE SET value = excluded.value "
                        "WHERE signals.value IS DISTINCT FROM excluded.value")
            return max(cur.rowcount, 0)

    # -- the other tables: small batches, generic dialect upsert -----------------------------
    def _upsert(self, table, rows: list[dict], keys: list[str]) -> int:
        if not rows:
            return 0
        ins = (pg_insert if self.dialect == "postgresql" else sqlite_insert)(table)
        update = {c.name: ins.excluded[c.name] for c in table.columns if c.name not in keys}
        stmt = ins.on_conflict_do_update(index_elements=keys, set_=update) if update \
            else ins.on_conflict_do_nothing(index_elements=keys)
        self.conn.execute(stmt, rows)
        return len(rows)

    def write_events(self, df: pd.DataFrame) -> int:
        """Upsert events on (source, uid)."""
        require_columns(df, EVENT_COLUMNS, "event")
        if df.empty:
            return 0
        bad = sorted(set(df["kind"]) - set(EVENT_KINDS))
        if bad:
            raise InputError(f"unknown event kind(s) {', '.join(map(str, bad))}")
        frame = df.drop_duplicates(["source", "uid"], keep="last")
        starts, ends = epochs(frame["start"], "event start"), epochs(frame["end"], "event end")
        stamp = epoch(now())
        rows = [{"source": str(r.source), "uid": str(r.uid), "kind": r.kind,
                 "country": none_if_nan(r.country), "region": none_if_nan(r.region),
                 "start": int(a), "end": int(b), "all_day": bool(r.all_day), "title": str(r.title),
                 "url": none_if_nan(r.url), "description": none_if_nan(r.description),
                 "raw": none_if_nan(r.raw) if isinstance(r.raw, str) or r.raw is None else to_json(r.raw),
                 "updated": stamp}
                for r, a, b in zip(frame.itertuples(index=False), starts, ends)]
        return self._upsert(s.events, rows, ["source", "uid"])

    def delete_events(self, source: str, uids) -> int:
        """Remove events of one source by uid (cancelled or withdrawn entries)."""
        uids = list(uids)
        if not uids:
            return 0
        total = 0
        for i in range(0, len(uids), 500):
            res = self.conn.execute(delete(s.events).where(
                and_(s.events.c.source == source, s.events.c.uid.in_(uids[i:i + 500]))))
            total += res.rowcount
        return total

    def _outage_rows(self, df: pd.DataFrame) -> list[dict]:
        require_columns(df, OUTAGE_COLUMNS, "outage")
        frame = df.drop_duplicates("outage_id", keep="last")
        starts, ends = epochs(frame["start"], "outage start"), optional_epochs(frame["end"])
        stamp = epoch(now())
        return [{"outage_id": str(r.outage_id), "source": str(r.source), "entity": parse_entity(r.entity),
                 "country": none_if_nan(r.country), "start": int(a), "end": b,
                 "datasources": to_json(list(r.datasources) if r.datasources is not None else []),
                 "depth": none_if_nan(r.depth), "score": none_if_nan(r.score),
                 "method": none_if_nan(r.method), "detail": to_json(r.detail), "updated": stamp}
                for r, a, b in zip(frame.itertuples(index=False), starts, ends)]

    def write_outages(self, df: pd.DataFrame) -> int:
        """Upsert outages on outage_id (reference outages from IODA, Cloudflare, ...)."""
        return self._upsert(s.outages, self._outage_rows(df), ["outage_id"]) if not df.empty else 0

    def replace_outages(self, df: pd.DataFrame, source: str, entities, start, end) -> int:
        """Delete `source`'s outages of `entities` starting in [start, end), then insert `df`."""
        cond = [s.outages.c.source == source, s.outages.c.start >= epoch(start), s.outages.c.start < epoch(end)]
        entities = list(entities) if entities is not None else None
        if entities is not None:
            cond.append(s.outages.c.entity.in_(entities))
        self.conn.execute(delete(s.outages).where(and_(*cond)))
        return self.write_outages(df)

    def write_probe_events(self, df: pd.DataFrame) -> int:
        """Upsert RIPE Atlas connect/disconnect records."""
        require_columns(df, PROBE_EVENT_COLUMNS, "probe event")
        if df.empty:
            return 0
        frame = df.drop_duplicates(["entity", "probe_id", "time", "event"], keep="last")
        secs = epochs(frame["time"], "probe event time")
        rows = [{"entity": parse_entity(r.entity), "probe_id": int(r.probe_id),
                 "asn": None if none_if_nan(r.asn) is None else int(r.asn),
                 "time": int(t), "event": str(r.event)} for r, t in zip(frame.itertuples(index=False), secs)]
        return self._upsert(s.probe_events, rows, ["entity", "probe_id", "time", "event"])

    def write_entity_places(self, df: pd.DataFrame) -> int:
        """Upsert where entities are (PLACE_COLUMNS) on entity; a known country is never erased
        by a later record without one."""
        require_columns(df, PLACE_COLUMNS, "entity place")
        if df.empty:
            return 0
        frame = df.drop_duplicates("entity", keep="last")
        rows = [{"entity": parse_entity(r.entity), "country": _country(r.country), "name": none_if_nan(r.name),
                 "source": str(r.source), "updated": epoch(now())} for r in frame.itertuples(index=False)]
        known = dict(self.conn.execute(select(s.entity_places.c.entity, s.entity_places.c.country).where(
            s.entity_places.c.entity.in_([r["entity"] for r in rows]))).fetchall())
        for row in rows:
            row["country"] = row["country"] or known.get(row["entity"])
        return self._upsert(s.entity_places, rows, ["entity"])

    def set_cursor(self, job: str, key: str, position) -> None:
        """Record how far `job` has got for `key` (e.g. the end of the last stored window)."""
        self._upsert(s.cursors, [{"job": job, "key": key, "position": epoch(position),
                                  "updated": epoch(now())}], ["job", "key"])

    def record_run(self, job: str, key: str, started, finished, status: str, items: int = 0,
                   error: str | None = None, detail=None) -> None:
        """Append one run record (collector window, calendar import, daemon job)."""
        self.conn.execute(insert(s.runs).values(
            job=job, key=key, started=epoch(started), finished=epoch(finished), status=status,
            items=int(items), error=error, detail=to_json(detail)))


def _country(value) -> str | None:
    """An ISO alpha-2 code upper-cased, None when absent; InputError for anything else."""
    value = none_if_nan(value)
    if value is None or str(value).strip() == "":
        return None
    code = str(value).strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise InputError(f"entity place: country {value!r} is not an ISO 3166 alpha-2 code")
    return code


def _clean_signals(df: pd.DataFrame) -> pd.DataFrame:
    """Validate names once per distinct value, convert times to seconds, drop in-batch repeats."""
    for entity in df["entity"].unique():
        if parse_entity(entity) != entity:
            raise InputError(f"entity {entity!r} is not in canonical form (expected {parse_entity(entity)!r})")
    for name in df["datasource"].unique():
        parse_datasource(name)
    values = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    if (np.isinf(values)).any():
        raise InputError("signal values must be finite numbers or NaN for no data")
    frame = pd.DataFrame({"entity": df["entity"].astype(str).to_numpy(),
                          "datasource": df["datasource"].astype(str).to_numpy(),
                          "time": epochs(df["time"], "signal time"),
                          "value": values.to_numpy()})
    frame = frame.drop_duplicates(["entity", "datasource", "time"], keep="last")
    frame["value"] = frame["value"].astype(object).where(frame["value"].notna(), None)
    return frame
