"""`outage-monitor daemon [--once]`: run collection, detection, correlation, reports and alerts on a
schedule (see monitor.daemon), or every job once and exit (for cron and tests)."""

from __future__ import annotations

import logging
import os
import sys

from monitor.config import build
from monitor.daemon.params import DaemonParams


def register(sub) -> None:
    p = sub.add_parser("daemon", help="watch the configured entities: collect, detect, correlate, report, alert",
                       description="Run every configured collector and calendar on its interval, then "
                                   "detection, correlation, reports and alerts over what changed, until "
                                   "SIGTERM or Ctrl-C. One daemon per store.")
    p.add_argument("--once", action="store_true", help="run every job once and exit (status 1 if any failed)")
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    from monitor.daemon import open_store_waiting
    from monitor.daemon.scheduler import Daemon  # the whole pipeline: only when it runs
    params = build(DaemonParams, ctx.config.daemon, f"{ctx.config.path or 'config'}: [daemon]")
    _log_format(ctx.verbosity)
    store = open_store_waiting(ctx.db_url, params.db_wait)
    try:
        daemon = Daemon(store, ctx.config)
        if args.once:
            return daemon.run_once()
        status = daemon.run_forever()
    finally:
        store.close()
    # Everything is closed and logged. Skip the interpreter's final garbage collection, which took
    # 2-4 s after a few minutes of running (measured) and would eat into a stop deadline.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(status)


def _log_format(verbosity: int) -> None:
    """A daemon's log lines need their time; APScheduler's own chatter only with -v."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.getLogger("apscheduler").setLevel(logging.WARNING if verbosity > 0 else logging.ERROR)
