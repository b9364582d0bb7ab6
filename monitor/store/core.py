"""The store: one code path over SQLite (embedded default) and PostgreSQL (scale-out).

SQLite runs in WAL mode with a busy timeout, so a notebook can read while the daemon writes.
Reads come back as DataFrames with timezone-aware UTC times.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd
import psycopg
from sqlalchemy import create_engine, delete, event, func, insert, or_, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from monitor.errors import StoreError
from monitor.frames import (COINCIDENCE_COLUMNS, EVENT_COLUMNS, OUTAGE_COLUMNS, PLACE_COLUMNS, PROBE_EVENT_COLUMNS,
                            SIGNAL_COLUMNS)
from monitor.store import schema as s
from monitor.store.convert import from_json, optional_epochs, times, to_json
from monitor.store.writes import Writer
from monitor.timeutil import epoch, from_epoch, now

log = logging.getLogger("monitor.store")

BUSY_TIMEOUT_MS = 30_000


def open_store(url: str, create: bool = True) -> "Store":
    """Open (creating or upgrading as needed) the store at `url`.

    `create=False` refuses a SQLite file that does not exist, so a mistyped path is an error rather
    than a new empty store that looks as if the data were gone.
    """
    missing = None if create else missing_sqlite_file(url)
    if missing:
        raise StoreError(f"no store at {missing}: check --db / $MONITOR_DB (collect, events import, "
                         "signals import, demo and daemon create one)")
    return Store(url)


def missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite store that does not exist (opening it would create an empty one)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # opening it gives the clear error
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    try:
        return None if Path(parsed.database).exists() else parsed.database
    except OSError as exc:  # a name over the system's limit (255 bytes), a path through a file...
        raise StoreError(f"cannot use store path {parsed.database[:120]}{'...' if len(parsed.database) > 120 else ''}: "
                         f"{exc.strerror or exc}") from exc


class Store:
    """Signals, events, outages, coincidences, cursors and run records in one database."""

    def __init__(self, url: str):
        self.engine = _engine(url)
        self.url = self.engine.url.render_as_string(hide_password=True)
        try:
            with self._writing() as conn:
                s.upgrade(conn)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open store {self.url}: {_reason(exc)}") from exc

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _writing(self):
        # SQLite: BEGIN IMMEDIATE takes the write lock up front, so concurrent writers wait
        # (busy_timeout) instead of failing on a lock upgrade; readers are never blocked (WAL).
        with self.engine.connect() as conn:
            conn.execution_options(immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        """Several writes that land together or not at all."""
        try:
            with self._writing() as conn:
                yield Writer(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"write to {self.url} failed: {_reason(exc)}") from exc

    # Single-batch writes: each is its own transaction.
    def write_signals(self, df) -> int:
        with self.transaction() as tx:
            return tx.write_signals(df)

    def write_events(self, df) -> int:
        with self.transaction() as tx:
            return tx.write_events(df)

    def delete_events(self, source, uids) -> int:
        with self.transaction() as tx:
            return tx.delete_events(source, uids)

    def write_outages(self, df) -> int:
        with self.transaction() as tx:
            return tx.write_outages(df)

    def replace_outages(self, df, source, entities, start, end) -> int:
        with self.transaction() as tx:
            return tx.replace_outages(df, source, entities, start, end)

    def write_probe_events(self, df) -> int:
        with self.transaction() as tx:
            return tx.write_probe_events(df)

    def write_entity_places(self, df) -> int:
        with self.transaction() as tx:
            return tx.write_entity_places(df)

    def set_cursor(self, job, key, position) -> None:
        with self.transaction() as tx:
            tx.set_cursor(job, key, position)

    def record_run(self, job, key, started, finished, status, items=0, error=None, detail=None) -> None:
        with self.transaction() as tx:
            tx.record_run(job, key, started, finished, status, items, error, detail)

    # -- reads ----------------------------------------------------------------------------
    def _rows(self, stmt) -> list:
        try:
            with self.engine.connect() as conn:
                return conn.execute(stmt).fetchall()
        except SQLAlchemyError as exc:
            raise StoreError(f"read from {self.url} failed: {_reason(exc)}") from exc

    def _fetch(self, stmt) -> list[tuple]:
        """Plain tuples straight from the driver: 5-10x faster than Row objects for big reads."""
        compiled = stmt.compile(dialect=self.engine.dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.params
        if compiled.positiontup is not None:
            params = tuple(params[name] for name in compiled.positiontup)
        try:
            with self.engine.connect() as conn:
                cur = conn.connection.driver_connection.cursor()
                try:
                    cur.execute(str(compiled), params)
                    return cur.fetchall()
                finally:
                    cur.close()
        except SQLAlchemyError as exc:
            raise StoreError(f"read from {self.url} failed: {_reason(exc)}") from exc
        except (sqlite3.Error, psycopg.Error) as exc:  # the raw driver's own errors
            raise StoreError(f"read from {self.url} failed: {str(exc).strip().splitlines()[0]}") from exc

    def read_signals(self, entities=None, datasources=None, start=None, end=None) -> pd.DataFrame:
        """Signal points, ordered by entity, datasource, time; start inclusive, end exclusive."""
        t = s.signals
        stmt = select(t.c.entity, t.c.datasource, t.c.time, t.c.value).where(
            *_in(t.c.entity, entities), *_in(t.c.datasource, datasources), *_range(t.c.time, start, end)
        ).order_by(t.c.entity, t.c.datasource, t.c.time)
        df = pd.DataFrame(self._fetch(stmt), columns=SIGNAL_COLUMNS)
        df["time"] = times(df["time"])
        df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
        df["entity"] = df["entity"].astype(object)
        df["datasource"] = df["datasource"].astype(object)
        return df

    def signal_summary(self) -> pd.DataFrame:
        """Per entity and datasource: first and last time, points, and gaps (NULL values)."""
        t = s.signals
        stmt = select(t.c.entity, t.c.datasource, func.min(t.c.time), func.max(t.c.time), func.count(),
                      func.sum(func.coalesce(t.c.value * 0, 1))).group_by(t.c.entity, t.c.datasource
                                                                          ).order_by(t.c.entity, t.c.datasource)
        df = pd.DataFrame(self._rows(stmt), columns=["entity", "datasource", "first", "last", "points", "gaps"])
        df["first"], df["last"] = times(df["first"]), times(df["last"])
        df["points"], df["gaps"] = df["points"].astype("int64"), df["gaps"].fillna(0).astype("int64")
        return df

    def read_events(self, countries=None, kinds=None, sources=None, start=None, end=None) -> pd.DataFrame:
        """Events overlapping [start, end), ordered by start."""
        t = s.events
        stmt = select(*[t.c[c] for c in EVENT_COLUMNS]).where(
            *_in(t.c.country, countries), *_in(t.c.kind, kinds), *_in(t.c.source, sources),
            *_overlap(t.c.start, t.c.end, start, end)).order_by(t.c.start, t.c.source, t.c.uid)
        df = pd.DataFrame(self._rows(stmt), columns=EVENT_COLUMNS)
        df["start"], df["end"] = times(df["start"]), times(df["end"])
        df["all_day"] = df["all_day"].astype(bool)
        return df

    def read_outages(self, sources=None, entities=None, countries=None, start=None, end=None,
                     ids=None) -> pd.DataFrame:
        """Outages overlapping [start, end), ordered by start; `end` NaT means ongoing."""
        t = s.outages
        stmt = select(*[t.c[c] for c in OUTAGE_COLUMNS]).where(
            *_in(t.c.source, sources), *_in(t.c.entity, entities), *_in(t.c.country, countries),
            *_in(t.c.outage_id, ids),
            *_overlap(t.c.start, t.c.end, start, end)).order_by(t.c.start, t.c.entity, t.c.outage_id)
        df = pd.DataFrame(self._rows(stmt), columns=OUTAGE_COLUMNS)
        df["start"], df["end"] = times(df["start"]), times(df["end"], nullable=True)
        df["datasources"] = [from_json(v) or [] for v in df["datasources"]]
        df["detail"] = [from_json(v) for v in df["detail"]]
        df["depth"] = pd.to_numeric(df["depth"]).astype("float64")
        df["score"] = pd.to_numeric(df["score"]).astype("float64")
        return df

    def read_probe_events(self, entities=None, start=None, end=None) -> pd.DataFrame:
        t = s.probe_events
        stmt = select(*[t.c[c] for c in PROBE_EVENT_COLUMNS]).where(
            *_in(t.c.entity, entities), *_range(t.c.time, start, end)).order_by(t.c.entity, t.c.time, t.c.probe_id)
        df = pd.DataFrame(self._rows(stmt), columns=PROBE_EVENT_COLUMNS)
        df["time"] = times(df["time"])
        df["asn"] = df["asn"].astype("Int64")
        df["probe_id"] = df["probe_id"].astype("int64")
        return df

    # -- correlation results --------------------------------------------------------------
    def write_correlation(self, params: dict, coincidences: pd.DataFrame, summary: pd.DataFrame,
                          started=None) -> int:
        """Store one correlation run (parameters, flags, summaries); returns its run id."""
        finished = now()
        summary_json = to_json(json.loads(summary.to_json(orient="records", date_format="iso")))
        with self.transaction() as tx:
            run_id = tx.conn.execute(insert(s.correlation_runs).values(
                started=epoch(started or finished), finished=epoch(finished), params=to_json(params),
                summary=summary_json).returning(s.correlation_runs.c.run_id)).scalar_one()
            if not coincidences.empty:
                c = coincidences.drop_duplicates(["outage_id", "event_source", "event_uid", "relation"])
                rows = c[COINCIDENCE_COLUMNS].to_dict("records")
                ends = optional_epochs(c["outage_end"])
                starts = optional_epochs(c["outage_start"])
                evs = optional_epochs(c["event_start"])
                for row, a, b, e in zip(rows, starts, ends, evs):
                    row.update(run_id=run_id, outage_start=a, outage_end=b, event_start=e,
                               offset_minutes=float(row["offset_minutes"]))
                tx.conn.execute(insert(s.coincidences), rows)
        return int(run_id)

    def read_correlation_run(self, run_id=None) -> dict | None:
        """One run's id, times, parameters and summary records (latest by default)."""
        t = s.correlation_runs
        stmt = select(t).order_by(t.c.run_id.desc()).limit(1) if run_id is None \
            else select(t).where(t.c.run_id == run_id)
        rows = self._rows(stmt)
        if not rows:
            return None
        r = rows[0]._mapping
        return {"run_id": r["run_id"], "started": from_epoch([r["started"]])[0],
                "finished": from_epoch([r["finished"]])[0], "params": from_json(r["params"]),
                "summary": from_json(r["summary"])}

    def read_correlation_runs(self) -> list[dict]:
        """Every run's id, finish time and parameters (its scope among them), newest first."""
        t = s.correlation_runs
        rows = self._rows(select(t.c.run_id, t.c.finished, t.c.params).order_by(t.c.run_id.desc()))
        return [{"run_id": r.run_id, "finished": from_epoch([r.finished])[0], "params": from_json(r.params)}
                for r in rows]

    def read_correlation_summary(self, run_id=None) -> pd.DataFrame:
        run = self.read_correlation_run(run_id)
        return pd.DataFrame(run["summary"] if run else [])

    def read_coincidences(self, run_id=None) -> pd.DataFrame:
        """The flagged coincidences of one run (latest by default)."""
        run = self.read_correlation_run(run_id)
        if run is None:
            return pd.DataFrame(columns=COINCIDENCE_COLUMNS)
        t = s.coincidences
        rows = self._rows(select(*[t.c[c] for c in COINCIDENCE_COLUMNS]).where(t.c.run_id == run["run_id"])
                          .order_by(t.c.outage_start, t.c.event_start))
        df = pd.DataFrame(rows, columns=COINCIDENCE_COLUMNS)
        for col in ("outage_start", "outage_end", "event_start"):
            df[col] = times(df[col], nullable=True)
        df["offset_minutes"] = pd.to_numeric(df["offset_minutes"]).astype("float64")
        return df

    def read_entity_places(self, entities=None) -> pd.DataFrame:
        """Where entities are (PLACE_COLUMNS), ordered by entity."""
        t = s.entity_places
        stmt = select(t.c.entity, t.c.country, t.c.name, t.c.source).where(*_in(t.c.entity, entities))
        return pd.DataFrame(self._rows(stmt.order_by(t.c.entity)), columns=PLACE_COLUMNS)

    def entity_countries(self, entities=None) -> dict[str, str]:
        """entity -> ISO alpha-2 for the stored places that know their country."""
        places = self.read_entity_places(entities)
        places = places[places["country"].notna()]
        return dict(zip(places["entity"], places["country"]))

    # -- cursors, runs, locks, deliveries ------------------------------------------------
    def get_cursor(self, job: str, key: str = "") -> pd.Timestamp | None:
        t = s.cursors
        rows = self._rows(select(t.c.position).where(t.c.job == job, t.c.key == key))
        return from_epoch([rows[0][0]])[0] if rows else None

    def read_cursors(self) -> pd.DataFrame:
        t = s.cursors
        df = pd.DataFrame(self._rows(select(t.c.job, t.c.key, t.c.position, t.c.updated).order_by(t.c.job, t.c.key)),
                          columns=["job", "key", "position", "updated"])
        df["position"], df["updated"] = times(df["position"]), times(df["updated"])
        return df

    def read_runs(self, job=None, limit: int = 100, key=None, status=None) -> pd.DataFrame:
        """The latest run records, newest first."""
        t = s.runs
        cols = ["job", "key", "started", "finished", "status", "items", "error", "detail"]
        stmt = select(*[t.c[c] for c in cols]).where(*_in(t.c.job, [job] if isinstance(job, str) else job),
                                                     *_in(t.c.key, key), *_in(t.c.status, status))
        df = pd.DataFrame(self._rows(stmt.order_by(t.c.id.desc()).limit(limit)), columns=cols)
        df["started"], df["finished"] = times(df["started"]), times(df["finished"])
        df["detail"] = [from_json(v) for v in df["detail"]]
        return df

    def acquire_lock(self, name: str, holder: str, stale_after: int = 120) -> bool:
        """Take the named lock unless another holder refreshed it within `stale_after` seconds."""
        t, stamp = s.locks, epoch(now())
        with self.transaction() as tx:
            row = tx.conn.execute(select(t.c.holder, t.c.heartbeat).where(t.c.name == name)).first()
            if row is not None and row.holder != holder and stamp - row.heartbeat < stale_after:
                return False
            tx.conn.execute(delete(t).where(t.c.name == name))
            tx.conn.execute(insert(t).values(name=name, holder=holder, acquired=stamp, heartbeat=stamp))
            return True

    def refresh_lock(self, name: str, holder: str) -> bool:
        with self.transaction() as tx:
            res = tx.conn.execute(update(s.locks).where(s.locks.c.name == name, s.locks.c.holder == holder)
                                  .values(heartbeat=epoch(now())))
            return res.rowcount == 1

    def release_lock(self, name: str, holder: str) -> None:
        with self.transaction() as tx:
            tx.conn.execute(delete(s.locks).where(s.locks.c.name == name, s.locks.c.holder == holder))

    def read_lock(self, name: str) -> dict | None:
        rows = self._rows(select(s.locks).where(s.locks.c.name == name))
        return dict(rows[0]._mapping) if rows else None

    def record_delivery(self, channel: str, key: str, status: str, attempts: int,
                        last_error: str | None = None, payload=None) -> None:
        """Record an alert delivery's state (pending / delivered / failed) by channel and key."""
        with self.transaction() as tx:
            tx._upsert(s.deliveries, [{"channel": channel, "key": key, "status": status, "attempts": attempts,
                                       "last_error": last_error, "payload": to_json(payload),
                                       "updated": epoch(now())}], ["channel", "key"])

    def read_deliveries(self, channel=None, status=None) -> pd.DataFrame:
        t = s.deliveries
        cols = ["channel", "key", "status", "attempts", "last_error", "payload", "updated"]
        df = pd.DataFrame(self._rows(select(*[t.c[c] for c in cols]).where(
            *_in(t.c.channel, channel), *_in(t.c.status, status)).order_by(t.c.updated)), columns=cols)
        df["updated"] = times(df["updated"])
        df["payload"] = [from_json(v) for v in df["payload"]]
        return df


def _in(column, values):
    if values is None:
        return []
    values = [values] if isinstance(values, str) else list(values)
    return [column.in_(values)]


def _range(column, start, end):
    cond = []
    if start is not None:
        cond.append(column >= epoch(start))
    if end is not None:
        cond.append(column < epoch(end))
    return cond


def _overlap(start_col, end_col, start, end):
    """Intervals overlapping [start, end); a NULL end is open (ongoing); instants count at their start."""
    cond = []
    if start is not None:
        a = epoch(start)
        cond.append(or_(end_col.is_(None), end_col > a, start_col >= a))
    if end is not None:
        cond.append(start_col < epoch(end))
    return cond


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"bad store URL {url!r}: expected sqlite:///PATH or postgresql+psycopg://...") from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported store URL {parsed.render_as_string(hide_password=True)!r}: "
                         "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                Path(parsed.database).exists()  # a name the system refuses (over 255 bytes) raises OSError here
            engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"no driver for store URL {parsed.render_as_string(hide_password=True)!r}: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"cannot create store {parsed.render_as_string(hide_password=True)[:120]!r}: "
                         f"{exc.strerror or exc}") from exc


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself so transactions are real (pysqlite quirk).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process kills
    cur.close()


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("immediate") else "BEGIN")


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__
