"""Daemon memory while watching many entities: resident set size of `outage-monitor daemon`.

    .venv/bin/python benchmarks/bench_daemon.py [--entities 50] [--quick]

The daemon runs as a subprocess against a local replay of the IODA API serving GENERATED series
(`ReplayServer(synthetic=True)`: bgp, ping-slash24, merit-nt and gtr for every entity without
bundled data), collecting its default 7-day lookback for each entity, then detecting and
correlating, and writing an incident report per outage (the generated series have a daily swing that
BGP's strict 0.99 rule flags, so there are many: a stress test of the report path). Its VmRSS and
VmHWM (peak) are read from /proc/<pid>/status until the analysis after the first collection has
written every report. Baseline, measured in the same run: the same daemon watching one entity.
Target: peak RSS < 300 MB with 50 entities.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pycountry

from monitor.errors import InputError
from monitor.events.countries import country_timezone
from monitor.replay import ReplayServer
from monitor.store import open_store

TARGET_MB = 300


def entities(n: int) -> list[str]:
    """n country entities. Left out: Iran (the replay has real data for it, only in 2019) and
    territories without a time zone in tzdata's zone.tab (e.g. BV), whose reports cannot be drawn."""
    codes = sorted(c.alpha_2 for c in pycountry.countries if c.alpha_2 != "IR" and _has_zone(c.alpha_2))
    return [f"country/{code}" for code in codes[:n]]


def _has_zone(code: str) -> bool:
    try:
        country_timezone(code)
    except InputError:
        return False
    return True


def write_config(folder: Path, base_url: str, watched: list[str]) -> Path:
    quoted = ", ".join(f'"{e}"' for e in watched)
    path = folder / "monitor.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{folder}/monitor.db"\n[watch]\nentities = [{quoted}]\n'
                    f'[sources.ioda]\nbase_url = "{base_url}"\n'
                    f'[daemon]\nreport_dir = "{folder}/reports"\nheartbeat = "5s"\n')
    return path


def memory_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def cycle_done(store) -> dict | None:
    """The collection and the analyses since, once every detected outage has its report."""
    runs = store.read_runs(job="daemon", limit=1000)
    failed = runs[runs["status"] != "ok"]
    if not failed.empty:
        raise SystemExit(f"daemon job {failed.iloc[0]['key']} failed: {failed.iloc[0]['error']}")
    collected = runs[runs["key"] == "collect:ioda"]
    outages = store.read_outages(sources=["detected"])
    if collected.empty or outages.empty or len(store.read_deliveries(channel="report")) < len(outages):
        return None
    return {"collect": collected.iloc[-1], "reports": len(outages)}


def run(n: int, base_url: str, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder, base_url, entities(n))
        env = {k: v for k, v in os.environ.items() if k != "MONITOR_DB"}
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "-q", "--config", str(config), "daemon"],
                                cwd=folder, env=env, stderr=subprocess.PIPE, text=True)
        samples, done = [], None
        try:
            while time.monotonic() - t0 < timeout and proc.poll() is None:
                samples.append(memory_kb(proc.pid))
                if (folder / "monitor.db").exists():
                    store = open_store(f"sqlite:///{folder}/monitor.db")
                    done = cycle_done(store)
                    store.close()
                    if done:
                        samples.append(memory_kb(proc.pid))
                        break
                time.sleep(0.5)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            err = proc.communicate(timeout=30)[1]
        if done is None:
            raise SystemExit(f"no full cycle within {timeout} s (exit {proc.returncode}): {err[-1500:]}")
        return {"entities": n, "seconds": time.monotonic() - t0,
                "points": int(done["collect"]["detail"]["points"]),
                "collect_s": done["collect"]["detail"]["seconds"], "reports": done["reports"],
                "rss_mb": samples[-1]["VmRSS"] / 1024, "peak_mb": max(s["VmHWM"] for s in samples) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="10 entities")
    args = parser.parse_args()
    n = 10 if args.quick else args.entities
    with ReplayServer(synthetic=True) as replay:
        base_url = replay.base_urls["ioda"]
        baseline = run(1, base_url, 300)
        watched = run(n, base_url, 900)
    for r in (baseline, watched):
        print(f"{r['entities']:>3} entities: {r['points']:>7} points collected in {r['collect_s']:.1f} s, "
              f"{r['reports']} outages reported, whole cycle {r['seconds']:.0f} s; RSS {r['rss_mb']:.0f} MB, "
              f"peak {r['peak_mb']:.0f} MB")
    print(f"peak RSS ratio {n} entities / 1 entity: {watched['peak_mb'] / baseline['peak_mb']:.2f}; "
          f"target peak < {TARGET_MB} MB: {'met' if watched['peak_mb'] < TARGET_MB else 'NOT met'}")


if __name__ == "__main__":
    main()
