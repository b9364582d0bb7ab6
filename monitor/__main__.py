"""`python -m monitor` runs the same CLI as `outage-monitor`."""

from monitor.cli import main

raise SystemExit(main())
