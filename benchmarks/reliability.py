"""The whole reliability suite in one command, then its figures in one table.

    .venv/bin/python benchmarks/reliability.py            # full: fuzz profile `full`, 30 kills per crash test
    .venv/bin/python benchmarks/reliability.py --quick    # the CI version (what plain `pytest` runs)

It runs `pytest -m reliability tests/reliability` with the environment that selects the version
(MONITOR_FUZZ_PROFILE, MONITOR_FUZZ_SURVEY, MONITOR_CRASH_KILLS, MONITOR_CONCURRENCY_SECONDS) and
MONITOR_RELIABILITY_REPORT pointing at a file where the tests write what they measured; every
figure printed comes from that file or from pytest's JUnit report, none is typed in here.
Exit status: 0 when every test passed and every must-be-zero figure is zero, else 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FULL = {"MONITOR_FUZZ_PROFILE": "full", "MONITOR_FUZZ_SURVEY": "1", "MONITOR_CRASH_KILLS": "30",
        "MONITOR_CONCURRENCY_SECONDS": "60"}
QUICK = {"MONITOR_FUZZ_PROFILE": "ci", "MONITOR_FUZZ_SURVEY": "1"}


def run_suite(env: dict, workdir: Path, extra: list[str]) -> tuple[list[dict], dict, float]:
    """Run the suite; returns (figures, JUnit summary, seconds)."""
    report, junit, log = workdir / "figures.jsonl", workdir / "junit.xml", workdir / "pytest.log"
    cmd = [sys.executable, "-m", "pytest", "-m", "reliability", "tests/reliability", "-q", "-p", "no:cacheprovider",
           "-o", "addopts=", f"--junitxml={junit}", *extra]
    began = time.monotonic()
    with log.open("w") as out:
        subprocess.run(cmd, cwd=REPO, env={**os.environ, **env, "MONITOR_RELIABILITY_REPORT": str(report)},
                       stdout=out, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - began
    figures = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    return figures, junit_summary(junit), seconds


def junit_summary(path: Path) -> dict:
    if not path.exists():
        return {"tests": 0, "failed": ["pytest did not run (no JUnit report)"], "skipped": 0}
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    failed = [f"{case.get('classname')}::{case.get('name')}" for case in suite.iter("testcase")
              if case.find("failure") is not None or case.find("error") is not None]
    return {"tests": int(suite.get("tests", 0)), "failed": failed, "skipped": int(suite.get("skipped", 0))}


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def short(text: str, n: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def faults_table(figures: list[dict]) -> str:
    rows = [[f["fault"], f["version"], f["injected"], f["outcome"], short(f.get("detail", ""))]
            for f in figures if f["kind"] == "fault"]
    return table(["fault injected", "version", "injected", "how it ended", "detail"], rows)


def crash_table(figures: list[dict]) -> str:
    rows = [[f["runner"], f["backend"], f["kills"], f.get("while_collecting", f["kills"]), f["served"], f["stored"],
             f["lost"], f["duplicates"], f["extra"] + f["changed"], f["integrity"]]
            for f in figures if f["kind"] == "crash"]
    return table(["runner", "backend", "kills survived", "kills mid-collection", "points served", "points stored",
                  "lost", "duplicates", "extra/changed", "integrity"], rows)


def fuzz_table(figures: list[dict]) -> str:
    rows = [[f["parser"], f["cases"], f["unexpected"], short(f.get("detail", ""), 110)]
            for f in figures if f["kind"] == "fuzz"]
    total = sum(f["cases"] for f in figures if f["kind"] == "fuzz")
    rows.append(["all parsers", total, sum(f["unexpected"] for f in figures if f["kind"] == "fuzz"), ""])
    return table(["parser", "cases", "unexpected exceptions", "what they were"], rows)


def concurrency_table(figures: list[dict]) -> str:
    rows = [[f["seconds"], f["reads"], f["windows_written"], f["errors"], f["locked"], f["partial"], f["slowest_read"]]
            for f in figures if f["kind"] == "concurrency"]
    return table(["seconds", "reads", "windows written", "errors", "'database is locked'", "partial batches seen",
                  "slowest read (s)"], rows)


def hostile_input_table(figures: list[dict]) -> str:
    rows = [[f["calendar"], f"{f['bytes']:,}", f["cpu"], f["seconds"], f["maxrss_mb"], f["exit"],
             short(f.get("detail", ""), 60)] for f in figures if f["kind"] == "bomb"]
    return table(["calendar (events import, default limits)", "bytes", "CPU s", "wall s", "peak MB", "exit",
                  "how it ended"], rows)


def secrets_table(figures: list[dict]) -> str:
    rows = [[f["check"], f["cases"], f["leaked"]] for f in figures if f["kind"] == "secret"]
    return table(["secret echoed by a server", "cases", "cases showing 8+ characters of it"], rows)


def must_be_zero(figures: list[dict]) -> dict[str, int]:
    crash = [f for f in figures if f["kind"] == "crash"]
    return {"points lost": sum(f["lost"] for f in crash), "duplicates": sum(f["duplicates"] for f in crash),
            "points extra or changed": sum(f["extra"] + f["changed"] for f in crash),
            "unexpected exceptions (fuzz)": sum(f["unexpected"] for f in figures if f["kind"] == "fuzz"),
            "database is locked": sum(f["locked"] for f in figures if f["kind"] == "concurrency"),
            "partial batches seen": sum(f["partial"] for f in figures if f["kind"] == "concurrency"),
            "secrets shown (8+ characters)": sum(f["leaked"] for f in figures if f["kind"] == "secret"),
            "calendars over 10 s of CPU or 500 MB": sum(f["cpu"] > 10 or f["maxrss_mb"] >= 500
                                                 for f in figures if f["kind"] == "bomb")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the CI version: fewer fuzz cases and kills")
    ap.add_argument("--keep", metavar="DIR", help="keep the figures, JUnit report and pytest log in DIR")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments (e.g. -k crash)")
    args = ap.parse_args()
    env = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        figures, junit, seconds = run_suite(env, workdir, args.pytest_args)
        log_tail = (workdir / "pytest.log").read_text(errors="replace").splitlines()[-3:]
    version = "quick (CI)" if args.quick else "full"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    print(f"# Reliability suite, {version} version: {time.strftime('%Y-%m-%d')}, commit {commit.strip() or '?'}, "
          f"{seconds / 60:.1f} min, {os.cpu_count()} cores\n")
    print(f"settings: {' '.join(f'{k}={v}' for k, v in env.items())}\n")
    print("## Faults injected, and how each ended\n")
    print(faults_table(figures), "\n")
    print("## Crash consistency (SIGKILL at random moments, seeded, restart each time)\n")
    print(crash_table(figures), "\n")
    print("## Fuzzing (hypothesis): cases per parser\n")
    print(fuzz_table(figures), "\n")
    print("## Calendar bombs (issue 19's, each in its own process)\n")
    print(hostile_input_table(figures), "\n")
    print("## Secrets echoed around the 200-character cut\n")
    print(secrets_table(figures), "\n")
    print("## A notebook reading while the collector writes (SQLite)\n")
    print(concurrency_table(figures), "\n")
    zeros = must_be_zero(figures)
    print("## Must be zero\n")
    print(table(["figure", "value"], [[k, v] for k, v in zeros.items()]), "\n")
    by_file = defaultdict(list)
    for test in junit["failed"]:
        by_file[test.split("::")[0].rsplit(".", 1)[-1]].append(test.split("::", 1)[1])
    print(f"## Tests: {junit['tests']} run, {len(junit['failed'])} failed, {junit['skipped']} skipped\n")
    for module, tests in sorted(by_file.items()):
        print(f"- {module}: " + ", ".join(tests))
    print("\n" + "\n".join(log_tail))
    return 0 if not junit["failed"] and not any(zeros.values()) and figures else 1


if __name__ == "__main__":
    sys.exit(main())
