"""One daemon per store: the lock, taking over from a dead daemon, waiting for the database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pandas as pd
import pytest

from monitor.daemon import LOCK, DaemonParams, LockHeld, acquire, open_store_waiting
from monitor.errors import StoreError


def test_a_live_holder_keeps_the_lock(store):
    params = DaemonParams()
    acquire(store, "first", params)
    # "1 s ago" when the clock's second ticks over between the two calls
    with pytest.raises(LockHeld, match=r"another daemon \(first\) is running on .*heartbeat [01] s ago"):
        acquire(store, "second", params)
    other = f"{socket.gethostname()}:{os.getppid()}:cafe"  # a process that runs: our parent
    store.release_lock(LOCK, "first")
    assert store.acquire_lock(LOCK, other)
    with pytest.raises(LockHeld):
        acquire(store, "second", params)


def test_the_lock_of_a_dead_daemon_on_this_host_is_taken_over(store):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{socket.gethostname()}:{int(done.stdout)}:beef"
    assert store.acquire_lock(LOCK, dead)
    acquire(store, "me", DaemonParams())
    assert store.read_lock(LOCK)["holder"] == "me"


def test_a_dead_daemon_on_another_host_must_go_stale_first(store):
    assert store.acquire_lock(LOCK, "elsewhere:1:dead")
    with pytest.raises(LockHeld, match="wait 120 s"):
        acquire(store, "me", DaemonParams())


def test_waiting_for_the_database_is_bounded():
    slept = []
    with pytest.raises(StoreError, match="gave up after waiting"):
        open_store_waiting("postgresql+psycopg://monitor@127.0.0.1:9/none", pd.Timedelta("20s"), sleep=slept.append)
    assert slept == [1.0, 2.0, 4.0, 8.0]  # 15 s of the 20 s budget; the next 10 s would exceed it


def test_waiting_for_the_database_returns_when_it_comes_up(tmp_path):
    url = f"sqlite:///{tmp_path}/later/monitor.db"
    (tmp_path / "later").write_text("not a directory yet")
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        (tmp_path / "later").unlink()  # the "database" comes up

    store = open_store_waiting(url, pd.Timedelta("60s"), sleep=sleep)
    store.close()
    assert slept == [1.0]
