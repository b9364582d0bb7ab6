"""The store on SQLite and PostgreSQL: idempotent upserts, round trips, atomic transactions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.errors import InputError, StoreError
from monitor.frames import EVENT_COLUMNS, OUTAGE_COLUMNS, PLACE_COLUMNS
from monitor.store import open_store
from monitor.store import schema


def _signals(n=1000, entity="country/IR", datasource="bgp", start="2019-11-14T00:00Z", seed=0):
    rng = np.random.default_rng(seed)
    values = rng.normal(46000, 50, n)
    values[[i for i in (3, 17) if i < n]] = np.nan
    return pd.DataFrame({"entity": entity, "datasource": datasource,
                         "time": pd.date_range(start, periods=n, freq="5min"), "value": values})


def _event(uid="e1", title="Kabiri speaks", source="starter", **kw):
    row = {"uid": uid, "source": source, "kind": "opposition_event", "country": "TJ", "region": None,
           "start": pd.Timestamp("2020-09-16T14:30Z"), "end": pd.Timestamp("2020-09-16T16:00Z"),
           "all_day": False, "title": title, "url": "https://example.org", "description": None,
           "raw": '{"a": 1}'}
    row.update(kw)
    return pd.DataFrame([row], columns=EVENT_COLUMNS)


def test_signals_round_trip_and_idempotent_rewrite(store):
    df = _signals()
    assert store.write_signals(df) == len(df)
    assert store.write_signals(df) == 0  # the same points again: nothing new or changed
    back = store.read_signals(entities=["country/IR"])
    assert len(back) == len(df)
    assert str(back["time"].dtype) == "datetime64[s, UTC]"
    np.testing.assert_array_equal(back["value"].to_numpy(), df["value"].to_numpy())  # NaN gaps kept
    assert back["time"].iloc[0] == pd.Timestamp("2019-11-14T00:00Z")


def test_changed_value_replaces_old_one(store):
    df = _signals(10)
    store.write_signals(df)
    changed = df.iloc[[2]].assign(value=1.5)
    assert store.write_signals(changed) == 1
    back = store.read_signals()
    assert len(back) == 10 and back["value"].iloc[2] == 1.5


def test_read_filters_by_time_half_open(store):
    store.write_signals(_signals(100))
    store.write_signals(_signals(100, datasource="ping-slash24"))
    start, end = pd.Timestamp("2019-11-14T01:00Z"), pd.Timestamp("2019-11-14T02:00Z")
    got = store.read_signals(datasources=["bgp"], start=start, end=end)
    assert len(got) == 12 and got["time"].min() == start and got["time"].max() < end
    summary = store.signal_summary()
    assert list(summary["datasource"]) == ["bgp", "ping-slash24"]
    assert list(summary["points"]) == [100, 100] and list(summary["gaps"]) == [2, 2]


def test_bad_signal_frames_are_refused_whole(store):
    bad = _signals(5)
    bad.loc[4, "entity"] = "country/ir"  # not canonical
    with pytest.raises(InputError, match="canonical"):
        store.write_signals(bad)
    with pytest.raises(InputError, match="lacks column"):
        store.write_signals(bad.drop(columns="value"))
    assert store.read_signals().empty


def test_transaction_is_all_or_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.write_signals(_signals(50))
            tx.set_cursor("collect:ioda", "country/IR", pd.Timestamp("2019-11-15T00:00Z"))
            raise RuntimeError("collector died mid-window")
    assert store.read_signals().empty
    assert store.get_cursor("collect:ioda", "country/IR") is None
    with store.transaction() as tx:
        tx.write_signals(_signals(50))
        tx.set_cursor("collect:ioda", "country/IR", pd.Timestamp("2019-11-15T00:00Z"))
    assert len(store.read_signals()) == 50
    assert store.get_cursor("collect:ioda", "country/IR") == pd.Timestamp("2019-11-15T00:00Z")


def test_events_upsert_delete_and_overlap_reads(store):
    assert store.write_events(_event()) == 1
    store.write_events(_event(title="Kabiri speaks (updated)"))
    store.write_events(_event(uid="e2", start=pd.Timestamp("2020-10-11T00:00Z"),
                              end=pd.Timestamp("2020-10-11T19:00Z"), kind="election", all_day=True))
    got = store.read_events(countries=["TJ"])
    assert list(got["uid"]) == ["e1", "e2"]
    assert got["title"].iloc[0] == "Kabiri speaks (updated)"
    assert bool(got["all_day"].iloc[1]) is True
    during = store.read_events(start=pd.Timestamp("2020-09-16T15:00Z"), end=pd.Timestamp("2020-09-16T15:10Z"))
    assert list(during["uid"]) == ["e1"]
    assert store.delete_events("starter", ["e1"]) == 1
    assert list(store.read_events()["uid"]) == ["e2"]
    with pytest.raises(InputError, match="unknown event kind"):
        store.write_events(_event(uid="e3", kind="party"))


def _outage(oid, start, end, source="detected", entity="country/IR"):
    return {"outage_id": oid, "source": source, "entity": entity, "country": "IR",
            "start": pd.Timestamp(start), "end": pd.Timestamp(end) if end else pd.NaT,
            "datasources": ["ping-slash24", "bgp"], "depth": 0.9, "score": 1e6, "method": "median-ratio",
            "detail": {"ping-slash24": {"depth": 0.95}}}


def test_outages_replace_window_and_json_round_trip(store):
    first = pd.DataFrame([_outage("a", "2019-11-16T16:20Z", "2019-11-21T09:30Z"),
                          _outage("b", "2019-11-25T00:00Z", None)], columns=OUTAGE_COLUMNS)
    store.write_outages(first)
    rerun = pd.DataFrame([_outage("c", "2019-11-16T16:30Z", "2019-11-21T09:30Z")], columns=OUTAGE_COLUMNS)
    store.replace_outages(rerun, "detected", ["country/IR"], pd.Timestamp("2019-11-14T00:00Z"), pd.Timestamp("2019-11-24T00:00Z"))
    got = store.read_outages()
    assert list(got["outage_id"]) == ["c", "b"]  # a replaced, b outside the window kept
    assert got["datasources"].iloc[0] == ["ping-slash24", "bgp"]
    assert got["detail"].iloc[0] == {"ping-slash24": {"depth": 0.95}}
    assert pd.isna(got["end"].iloc[1])  # ongoing
    ongoing = store.read_outages(start=pd.Timestamp("2020-01-01T00:00Z"))
    assert list(ongoing["outage_id"]) == ["b"]
    assert list(store.read_outages(ids=["b", "zz"])["outage_id"]) == ["b"]


def test_correlation_run_round_trip(store):
    coinc = pd.DataFrame([{"outage_id": "a", "entity": "country/TJ", "outage_start": pd.Timestamp("2020-09-16T14:40Z"),
                           "outage_end": pd.Timestamp("2020-09-16T15:40Z"), "event_source": "starter",
                           "event_uid": "e1", "event_title": "Kabiri", "event_kind": "opposition_event",
                           "event_start": pd.Timestamp("2020-09-16T14:30Z"), "country": "TJ",
                           "relation": "after", "offset_minutes": 10.0}])
    summary = pd.DataFrame([{"country": "TJ", "kind": "opposition_event", "observed": 1, "expected": 0.02,
                             "p_value": 0.02}])
    run_id = store.write_correlation({"window_after": "2h"}, coinc, summary)
    run = store.read_correlation_run()
    assert run["run_id"] == run_id and run["params"] == {"window_after": "2h"}
    got = store.read_coincidences()
    assert got["offset_minutes"].iloc[0] == 10.0 and got["outage_start"].iloc[0] == pd.Timestamp("2020-09-16T14:40Z")
    assert store.read_correlation_summary()["p_value"].iloc[0] == 0.02


def test_runs_cursors_and_lock(store):
    t0, t1 = pd.Timestamp("2020-01-01T00:00Z"), pd.Timestamp("2020-01-01T00:01Z")
    store.record_run("collect:ioda", "country/IR", t0, t1, "error", 0, error="HTTP 500")
    store.record_run("collect:ioda", "country/IR", t0, t1, "ok", 12)
    runs = store.read_runs()
    assert list(runs["status"]) == ["ok", "error"]
    assert store.acquire_lock("daemon", "host:1")
    assert not store.acquire_lock("daemon", "host:2")
    store.release_lock("daemon", "host:1")
    assert store.acquire_lock("daemon", "host:2")


def test_schema_newer_than_code_is_refused(store_url):
    st = open_store(store_url)
    with st.engine.begin() as conn:
        conn.execute(schema.meta.update().values(value=str(schema.SCHEMA_VERSION + 1)))
    st.close()
    with pytest.raises(StoreError, match="newer than this outage-monitor"):
        open_store(store_url)


def test_sqlite_is_in_wal_mode(sqlite_store):
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@pytest.mark.parametrize("url,message", [
    ("mysql://x@localhost/db", "unsupported store URL"),
    ("not a url", "bad store URL"),
    ("postgresql+psycopg://nobody@127.0.0.1:1/x", "cannot open store"),
])
def test_unusable_store_urls_fail_in_one_line(url, message):
    with pytest.raises(StoreError, match=message) as info:
        open_store(url)
    assert "\n" not in str(info.value)


def test_entity_places_round_trip_and_keep_a_known_country(store):
    places = pd.DataFrame({"entity": ["asn/44244", "region/IR-07", "asn/AS3320"], "country": ["ir", "IR", None],
                           "name": ["Irancell", "Tehran", None], "source": ["ripestat", "ioda", "ioda"]})
    assert store.write_entity_places(places) == 3
    got = store.read_entity_places()
    assert list(got.columns) == PLACE_COLUMNS
    assert got["entity"].tolist() == ["asn/3320", "asn/44244", "region/IR-07"]
    assert store.entity_countries() == {"asn/44244": "IR", "region/IR-07": "IR"}
    later = pd.DataFrame({"entity": ["asn/44244"], "country": [None], "name": ["MTN Irancell"], "source": ["ioda"]})
    store.write_entity_places(later)  # a record without a country does not erase the known one
    row = store.read_entity_places(["asn/44244"]).iloc[0]
    assert (row["country"], row["name"], row["source"]) == ("IR", "MTN Irancell", "ioda")


def test_an_entity_place_with_a_bad_country_is_refused_naming_it(store):
    bad = pd.DataFrame({"entity": ["asn/1"], "country": ["Iran"], "name": [None], "source": ["import"]})
    with pytest.raises(InputError, match="country 'Iran' is not an ISO 3166 alpha-2 code"):
        store.write_entity_places(bad)
    assert store.read_entity_places().empty


def test_a_version_1_store_gains_the_entity_places_table(store_url):
    st = open_store(store_url)
    with st.engine.begin() as conn:
        schema.entity_places.drop(conn)
        conn.execute(schema.meta.update().values(value="1"))
    st.close()
    st = open_store(store_url)
    assert st.read_entity_places().empty
    with st.engine.connect() as conn:
        assert conn.execute(schema.select(schema.meta.c.value)).scalar() == str(schema.SCHEMA_VERSION)
