"""The store: signals, events, outages, coincidences, cursors and run records (see core.Store)."""

from monitor.store.core import Store, open_store
from monitor.store.writes import Writer

__all__ = ["Store", "Writer", "open_store"]
