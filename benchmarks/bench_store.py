"""Store ingest throughput: first write and re-write of N points, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_store.py [--points 1000000] [--pg URL] [--quick]

Baseline, measured in the same run: a plain sqlite3 executemany INSERT of the same rows into a
table without upsert (the floor any upsert path is compared against). Target: >= 200,000 points/s
into SQLite on a 2-core machine; a re-write adds 0 rows.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

from monitor.store import open_store
from monitor.timeutil import to_epoch


def make_points(n: int) -> pd.DataFrame:
    """n points: 10 countries x 3 datasources, 5-minute bins, diurnal values with gaps."""
    rng = np.random.default_rng(1)
    series = [(f"country/{cc}", ds) for cc in ["IR", "TJ", "BY", "MM", "SD", "ET", "IQ", "SY", "VE", "KE"]
              for ds in ["bgp", "ping-slash24", "merit-nt"]]
    per = -(-n // len(series))
    times = pd.date_range("2024-01-01", periods=per, freq="5min", tz="UTC")
    frames = []
    for entity, ds in series:
        values = 1000 + 300 * np.sin(np.arange(per) * 2 * np.pi / 288) + rng.normal(0, 10, per)
        values[rng.random(per) < 0.001] = np.nan
        frames.append(pd.DataFrame({"entity": entity, "datasource": ds, "time": times, "value": values}))
    return pd.concat(frames, ignore_index=True).iloc[:n]


def count_rows(store) -> int:
    return int(store.signal_summary()["points"].sum())


def bench(url: str, df: pd.DataFrame) -> dict:
    store = open_store(url)
    t0 = time.perf_counter()
    written = store.write_signals(df)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    rewritten = store.write_signals(df)
    second = time.perf_counter() - t0
    rows = count_rows(store)
    store.close()
    return {"first_s": first, "rewrite_s": second, "written": written, "rewritten": rewritten, "rows": rows}


def baseline_sqlite(df: pd.DataFrame, path: Path) -> float:
    """Plain INSERT (no upsert, no validation) through sqlite3: the floor."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE s (entity text, datasource text, time integer, value real, "
                "PRIMARY KEY (entity, datasource, time)) WITHOUT ROWID")
    values = df["value"].astype(object).where(df["value"].notna(), None)
    rows = list(zip(df["entity"], df["datasource"], to_epoch(df["time"]).tolist(), values))
    t0 = time.perf_counter()
    with con:
        con.executemany("INSERT INTO s VALUES (?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test", help="PostgreSQL conninfo")
    ap.add_argument("--quick", action="store_true", help="100,000 points")
    args = ap.parse_args()
    n = 100_000 if args.quick else args.points
    df = make_points(n)
    print(f"{n:,} points, 30 series")
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline_sqlite(df, Path(tmp) / "baseline.db")
        print(f"baseline  sqlite3 plain INSERT         {base:6.2f} s  {n / base:>12,.0f} points/s")
        results = {"sqlite": bench(f"sqlite:///{tmp}/bench.db", df)}
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
            try:
                url = args.pg.replace("postgresql://", "postgresql+psycopg://") + f"?options=-csearch_path%3D{schema}"
                results["postgresql"] = bench(url, df)
            finally:
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    except psycopg.OperationalError as exc:
        print(f"postgresql: not reachable ({str(exc).splitlines()[0]})")
    for name, r in results.items():
        print(f"{name:10s} first write {r['first_s']:6.2f} s  {n / r['first_s']:>12,.0f} points/s  "
              f"(x{base / r['first_s']:.2f} of baseline speed)")
        print(f"{name:10s} re-write    {r['rewrite_s']:6.2f} s  {n / r['rewrite_s']:>12,.0f} points/s  "
              f"rows changed by re-write: {r['rewritten']}, rows in store: {r['rows']:,}")
    ok = results["sqlite"]["first_s"] <= n / 200_000 and all(r["rewritten"] == 0 and r["rows"] == n
                                                             for r in results.values())
    print("target (>= 200,000 points/s into SQLite, re-write adds 0 rows):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
