"""The store's tables. Times are integer unix seconds (UTC); lists and dicts are JSON text.

The schema carries a version in `meta`; `upgrade()` brings an older store up to date and refuses
a newer one, so an old binary never half-understands a new store.
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, Float, Index, Integer, MetaData,
                        PrimaryKeyConstraint, Table, Text, select)
from sqlalchemy.engine import Connection

from monitor.errors import StoreError

SCHEMA_VERSION = 2

metadata = MetaData()

meta = Table("meta", metadata, Column("key", Text, primary_key=True), Column("value", Text, nullable=False))

signals = Table(
    "signals", metadata,
    Column("entity", Text, nullable=False),
    Column("datasource", Text, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("value", Float, nullable=True),  # NULL = no data for that bin, never zero
    PrimaryKeyConstraint("entity", "datasource", "time"),
    sqlite_with_rowid=False,
)

events = Table(
    "events", metadata,
    Column("source", Text, nullable=False),
    Column("uid", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("country", Text),
    Column("region", Text),
    Column("start", BigInteger, nullable=False),
    Column("end", BigInteger, nullable=False),
    Column("all_day", Boolean, nullable=False, default=False),
    Column("title", Text, nullable=False),
    Column("url", Text),
    Column("description", Text),
    Column("raw", Text),
    Column("updated", BigInteger, nullable=False),
    PrimaryKeyConstraint("source", "uid"),
    Index("events_country_start", "country", "start"),
)

outages = Table(
    "outages", metadata,
    Column("outage_id", Text, primary_key=True),
    Column("source", Text, nullable=False),
    Column("entity", Text, nullable=False),
    Column("country", Text),
    Column("start", BigInteger, nullable=False),
    Column("end", BigInteger),  # NULL = ongoing
    Column("datasources", Text, nullable=False),
    Column("depth", Float),
    Column("score", Float),
    Column("method", Text),
    Column("detail", Text),
    Column("updated", BigInteger, nullable=False),
    Index("outages_source_entity_start", "source", "entity", "start"),
)

probe_events = Table(
    "probe_events", metadata,
    Column("entity", Text, nullable=False),
    Column("probe_id", BigInteger, nullable=False),
    Column("asn", BigInteger),
    Column("time", BigInteger, nullable=False),
    Column("event", Text, nullable=False),
    PrimaryKeyConstraint("entity", "probe_id", "time", "event"),
)

correlation_runs = Table(
    "correlation_runs", metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("started", BigInteger, nullable=False),
    Column("finished", BigInteger, nullable=False),
    Column("params", Text, nullable=False),
    Column("summary", Text, nullable=False),
)

coincidences = Table(
    "coincidences", metadata,
    Column("run_id", Integer, nullable=False),
    Column("outage_id", Text, nullable=False),
    Column("entity", Text, nullable=False),
    Column("outage_start", BigInteger, nullable=False),
    Column("outage_end", BigInteger),
    Column("event_source", Text, nullable=False),
    Column("event_uid", Text, nullable=False),
    Column("event_title", Text),
    Column("event_kind", Text),
    Column("event_start", BigInteger),
    Column("country", Text),
    Column("relation", Text, nullable=False),
    Column("offset_minutes", Float),
    PrimaryKeyConstraint("run_id", "outage_id", "event_source", "event_uid", "relation"),
)

cursors = Table(
    "cursors", metadata,
    Column("job", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
    PrimaryKeyConstraint("job", "key"),
)

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("started", BigInteger, nullable=False),
    Column("finished", BigInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("items", BigInteger, nullable=False, default=0),
    Column("error", Text),
    Column("detail", Text),
    Index("runs_job_key_started", "job", "key", "started"),
)

locks = Table(
    "locks", metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("acquired", BigInteger, nullable=False),
    Column("heartbeat", BigInteger, nullable=False),
)

deliveries = Table(
    "deliveries", metadata,
    Column("channel", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("payload", Text),
    Column("updated", BigInteger, nullable=False),
    PrimaryKeyConstraint("channel", "key"),
)

# Where an entity is: its country (ISO alpha-2) and name as the sources' own metadata give them
# (IODA entity attributes, RIPEstat rir-stats-country for an ASN, `signals import --country`).
entity_places = Table(
    "entity_places", metadata,
    Column("entity", Text, primary_key=True),
    Column("country", Text),
    Column("name", Text),
    Column("source", Text, nullable=False),
    Column("updated", BigInteger, nullable=False),
)


def _add_entity_places(conn: Connection) -> None:
    entity_places.create(conn, checkfirst=True)


# version -> function upgrading a store from that version to the next one.
MIGRATIONS: dict[int, callable] = {1: _add_entity_places}


def upgrade(conn: Connection) -> int:
    """Create missing tables and bring the schema to SCHEMA_VERSION; returns the version found."""
    metadata.create_all(conn, checkfirst=True)
    row = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
    found = int(row[0]) if row else None
    if found is None:
        conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        return SCHEMA_VERSION
    if found > SCHEMA_VERSION:
        raise StoreError(f"the store's schema version {found} is newer than this outage-monitor "
                         f"understands ({SCHEMA_VERSION}); upgrade outage-monitor")
    for version in range(found, SCHEMA_VERSION):
        if version not in MIGRATIONS:
            raise StoreError(f"no migration from schema version {version}; recreate the store")
        MIGRATIONS[version](conn)
    if found < SCHEMA_VERSION:
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))
    return found
