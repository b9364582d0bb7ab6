"""`outage-monitor health`: exit 0 when the store opens and the daemon's heartbeat is fresh, else 1,
with one line either way. Docker's health check runs it."""

from __future__ import annotations

from monitor.config import build
from monitor.daemon.lock import LOCK
from monitor.daemon.params import DaemonParams
from monitor.store.core import missing_sqlite_file
from monitor.timeutil import epoch, now


def register(sub) -> None:
    p = sub.add_parser("health", help="check that the store opens and the daemon is alive (exit 0 = healthy)")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    params = build(DaemonParams, ctx.config.daemon, f"{ctx.config.path or 'config'}: [daemon]")
    missing = missing_sqlite_file(ctx.db_url)
    if missing:
        print(f"unhealthy: the store {missing} does not exist yet")
        return 1
    store = ctx.store
    lock = store.read_lock(LOCK)
    if lock is None:
        print(f"unhealthy: no daemon holds {store.url}")
        return 1
    age = epoch(now()) - int(lock["heartbeat"])
    if age > params.lock_stale.total_seconds():
        print(f"unhealthy: the daemon {lock['holder']} last refreshed its lock {age} s ago")
        return 1
    print(f"healthy: daemon {lock['holder']} on {store.url}, heartbeat {age} s ago")
    return 0

