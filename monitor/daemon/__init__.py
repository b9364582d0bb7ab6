"""The daemon: collectors and calendars on their intervals, then detection, correlation, reports,
alerts and a periodic digest, in one APScheduler 3.x BackgroundScheduler.

- `params`    the `[daemon]` section (DaemonParams)
- `lock`      one daemon per store (a lock row with a heartbeat), and waiting for the database
- `work`      what each job does, with no scheduling in it (also what `--once` and the demo run)
- `scheduler` the scheduler (Daemon): intervals, backoff, one log line and one run record per job,
              signals and the heartbeat

Only the light parts are imported here, so `outage-monitor health` starts fast; import `Daemon`
from `monitor.daemon.scheduler` and `Work` from `monitor.daemon.work`.
"""

from monitor.daemon.lock import LOCK, LockHeld, acquire, holder_id, open_store_waiting
from monitor.daemon.params import DaemonParams

__all__ = ["LOCK", "DaemonParams", "LockHeld", "acquire", "holder_id", "open_store_waiting"]
