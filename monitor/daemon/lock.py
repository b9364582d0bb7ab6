"""One daemon per store, and a patient start: the lock row, its holder, and waiting for the database.

The lock lives in the store (table `locks`), so it works the same on SQLite and PostgreSQL and
across hosts. Its holder refreshes a heartbeat; a lock whose heartbeat is older than `lock_stale`
may be taken over, and so may one left by a daemon on this host that no longer runs (a restart
after a crash need not wait).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid

import pandas as pd

from monitor.daemon.params import DaemonParams
from monitor.errors import MonitorError, StoreError
from monitor.store import open_store
from monitor.timeutil import epoch, now

log = logging.getLogger("monitor.daemon")

LOCK = "daemon"


class LockHeld(MonitorError):
    """Another daemon holds the store's lock."""


def holder_id() -> str:
    """This process as a lock holder: host, pid and a random part (pids repeat across restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def dead_here(holder: str) -> bool:
    """True when `holder` is an earlier daemon on this host that no longer runs (or had our pid)."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # we hold nothing yet, so this is a previous process (e.g. a container restart)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


def acquire(store, holder: str, params: DaemonParams) -> None:
    """Take the daemon lock, or raise LockHeld naming the holder and what to do."""
    stale = int(params.lock_stale.total_seconds())
    if store.acquire_lock(LOCK, holder, stale_after=stale):
        return
    current = store.read_lock(LOCK)
    if current is not None and dead_here(current["holder"]):
        log.warning("taking over the lock of %s, which no longer runs", current["holder"])
        if store.acquire_lock(LOCK, holder, stale_after=0):
            return
    who = current["holder"] if current else "?"
    age = epoch(now()) - int(current["heartbeat"]) if current else 0
    raise LockHeld(f"another daemon ({who}) is running on {store.url} (heartbeat {age} s ago); "
                   f"stop it first, or wait {stale} s if it died")


def open_store_waiting(url: str, wait: pd.Timedelta, sleep=time.sleep):
    """open_store, retried with backoff while the database is not up yet, sleeping `wait` in all."""
    budget, delay = wait.total_seconds(), 1.0
    while True:
        try:
            return open_store(url)
        except StoreError as exc:
            if delay > budget:
                raise StoreError(f"{exc} (gave up after waiting {wait})") from exc
            log.warning("store not ready, retrying in %.0f s: %s", delay, exc)
            sleep(delay)
            budget -= delay
            delay = min(delay * 2, 10.0)
