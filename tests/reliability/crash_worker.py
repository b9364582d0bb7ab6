"""A collection that runs like the daemon would, as a separate process for the crash test to kill.

    python crash_worker.py --db URL --base-url URL --start ISO --end ISO --step 6h country/IR country/FR ...

The clock advances from --start to --end by --step; at each tick every entity is collected up to
the tick (entities without a cursor from --start, the others resuming from their cursor). After a
restart it carries on from the earliest cursor. It prints `ready` once imports are done, `tick T`
after each tick and `done` at the end, flushing each line so the parent can time its kills.
"""

from __future__ import annotations

import argparse
import sys


from monitor.collect import collect, job_name
from monitor.http import HttpClient
from monitor.store import open_store
from monitor.timeutil import iso, parse_time, parse_duration


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--base-url", required=True)
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--step", default="6h")
    p.add_argument("entities", nargs="+")
    args = p.parse_args(argv)
    start, end, step = parse_time(args.start), parse_time(args.end), parse_duration(args.step)
    store = open_store(args.db)
    client = HttpClient("ioda", timeout=10, retries=2, backoff=0.1)
    print("ready", flush=True)
    cursors = [store.get_cursor(job_name("ioda"), e) for e in args.entities]
    tick = start + step
    if all(c is not None for c in cursors):
        tick = max(tick, min(cursors))
    while tick <= end:
        fresh = [e for e, c in zip(args.entities, cursors) if c is None]
        resuming = [e for e, c in zip(args.entities, cursors) if c is not None and c < tick]
        for group, first in ((resuming, None), (fresh, start)):
            if group:
                summary = collect(store, "ioda", group, start=first, end=tick, base_url=args.base_url,
                                  client=client, options={"reference": False})
                if not summary.ok:
                    print("error", [r.error for r in summary.results if r.error], flush=True)
                    return 1
        cursors = [store.get_cursor(job_name("ioda"), e) for e in args.entities]
        print("tick", iso(tick), flush=True)
        if tick == end:
            break
        tick = min(tick + step, end)
    store.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
