"""Benchmark: render a digest for 30 countries over 3 months (target: under 20 s).

Everything is GENERATED into a temporary SQLite store: per country two signals (bgp every 5 min,
ping-slash24 every 10 min, with a few gaps), 4-12 outages of 10 minutes to 3 days, about 20
events of mixed kinds, and one correlation run with coincidences and a three-method summary per
country and kind. Timed: reading the store (`load_digest`) and rendering the HTML digest with its
two charts (`render_digest`). The baseline, measured in the same run, is the same digest for one
country; the ratio says how the cost grows with the number of countries.

    .venv/bin/python benchmarks/bench_report.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.frames import COINCIDENCE_COLUMNS, EVENT_KINDS  # noqa: E402
from monitor.report import ReportParams, load_digest, render_digest  # noqa: E402
from monitor.store import open_store  # noqa: E402

COUNTRIES = ["IR", "IQ", "SY", "TJ", "KE", "ET", "SD", "MM", "VE", "TG", "BY", "KZ", "GA", "IN", "PK",
             "BD", "EG", "DZ", "UG", "ZW", "CM", "GN", "ML", "TD", "CD", "RU", "TR", "CU", "NI", "LY"]
KINDS = [k for k in EVENT_KINDS if k != "shutdown_report"]
TARGET = 20.0


def signals(rng, country: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    frames = []
    for name, step, level in (("bgp", "5min", 40_000.0), ("ping-slash24", "10min", 12_000.0)):
        times = pd.date_range(start, end, freq=step, inclusive="left")
        hours = times.hour.to_numpy() + times.minute.to_numpy() / 60
        values = level * (1 + 0.05 * np.sin(hours / 24 * 2 * np.pi)) * rng.normal(1, 0.01, len(times))
        values[rng.random(len(times)) < 0.002] = np.nan            # stored gaps
        keep = rng.random(len(times)) > 0.003                          # missing bins
        frames.append(pd.DataFrame({"entity": f"country/{country}", "datasource": name, "time": times[keep],
                                    "value": values[keep]}))
    return pd.concat(frames, ignore_index=True)


def outages(rng, country: str, start: pd.Timestamp, days: int) -> list[dict]:
    rows = []
    for _ in range(rng.integers(4, 13)):
        begin = (start + pd.Timedelta(minutes=int(rng.integers(0, days * 1440)))).floor("5min")
        length = pd.Timedelta(minutes=int(rng.choice([10, 45, 180, 720, 4320])))
        rows.append({"outage_id": f"detected:country/{country}:{begin.value // 10**9}", "source": "detected",
                     "entity": f"country/{country}", "country": country, "start": begin, "end": begin + length,
                     "datasources": ["bgp", "ping-slash24"], "depth": float(rng.uniform(0.2, 1.0)),
                     "score": float(rng.uniform(10, 1e5)), "method": "median-ratio", "detail": {}})
    return rows


def events(rng, country: str, start: pd.Timestamp, days: int) -> list[dict]:
    rows = []
    for i in range(20):
        begin = (start + pd.Timedelta(hours=int(rng.integers(0, days * 24))))
        rows.append({"uid": f"{country}-{i}", "source": "bench", "kind": str(rng.choice(KINDS)), "country": country,
                     "region": None, "start": begin, "end": begin + pd.Timedelta(hours=6), "all_day": False,
                     "title": f"Event {i} in {country} <b>&</b>", "url": f"https://example.org/{country}/{i}",
                     "description": "generated", "raw": "{}"})
    return rows


def correlation(rng, outs: list[dict], evs: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    flags = []
    for o in outs:
        for e in evs:
            if e["country"] == o["country"] and abs((o["start"] - e["start"]).total_seconds()) < 86400:
                flags.append({"outage_id": o["outage_id"], "entity": o["entity"], "outage_start": o["start"],
                              "outage_end": o["end"], "event_source": e["source"], "event_uid": e["uid"],
                              "event_title": e["title"], "event_kind": e["kind"], "event_start": e["start"],
                              "country": e["country"], "relation": "after",
                              "offset_minutes": (o["start"] - e["start"]).total_seconds() / 60})
    summary = [{"country": c, "kind": k, "method": m, "n_outages": 8, "n_events": 3,
                "observed": int(rng.integers(0, 4)), "expected": float(rng.uniform(0.1, 2)), "rate_ratio": 1.0,
                "ci_low": 0.2, "ci_high": 4.0,
                "p_value": float(rng.uniform()), "p_adjusted": float(rng.uniform()), "verdict": "not significant",
                "note": "generated"}
               for c in sorted({e["country"] for e in evs}) for k in KINDS[:4]
               for m in ("eca-precursor", "eca-trigger", "permutation")]
    return pd.DataFrame(flags, columns=COINCIDENCE_COLUMNS), pd.DataFrame(summary)


def fill(store, countries: list[str], start: pd.Timestamp, days: int) -> int:
    rng = np.random.default_rng(7)
    end = start + pd.Timedelta(days=days)
    outs, evs, points = [], [], 0
    for country in countries:
        frame = signals(rng, country, start, end)
        points += store.write_signals(frame)
        outs += outages(rng, country, start, days)
        evs += events(rng, country, start, days)
    store.write_outages(pd.DataFrame(outs))
    store.write_events(pd.DataFrame(evs))
    store.write_correlation({"generated": True}, *correlation(rng, outs, evs))
    return points


def digest(store, countries, start, end, tmp: Path) -> tuple[float, float, int]:
    """Seconds to read, seconds to render, and the size of the HTML written."""
    t0 = time.perf_counter()
    data = load_digest(store, start, end, countries)
    t1 = time.perf_counter()
    rendered = render_digest(data, ReportParams(), "html", "digest")
    t2 = time.perf_counter()
    (tmp / "digest.html").write_text(rendered.text)
    return t1 - t0, t2 - t1, len(rendered.text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 countries over 30 days")
    args = parser.parse_args()
    countries, days = (COUNTRIES[:5], 30) if args.quick else (COUNTRIES, 92)
    start = pd.Timestamp("2024-01-01", tz="UTC")
    end = start + pd.Timedelta(days=days)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        t = time.perf_counter()
        points = fill(store, countries, start, days)
        print(f"generated {len(countries)} countries x {days} days: {points:,} signal points "
              f"in {time.perf_counter() - t:.1f} s (setup, not timed)")
        digest(store, countries[:1], start, end, Path(tmp))          # warm-up: imports, fonts, templates
        base_read, base_render, _ = digest(store, countries[:1], start, end, Path(tmp))
        read, render, size = digest(store, countries, start, end, Path(tmp))
        store.close()
    total, base = read + render, base_read + base_render
    print(f"baseline, 1 country:  {base:6.2f} s (read {base_read:.2f} s, render {base_render:.2f} s)")
    print(f"digest, {len(countries)} countries: {total:6.2f} s (read {read:.2f} s, render {render:.2f} s), "
          f"HTML {size / 1e6:.1f} MB")
    print(f"ratio vs 1 country: {total / base:.1f}x for {len(countries)}x the countries")
    if not args.quick:
        print(f"target < {TARGET:.0f} s: {'met' if total < TARGET else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
