"""outage-monitor: find internet outages in public connectivity data and test whether they
coincide with political events.

The public facade for notebooks: open a store, load its frames, find outages, correlate, plot.
Everything here is a plain function over pandas DataFrames (see monitor.frames for the columns).
Heavy modules are imported on first use, so `import monitor` stays quick.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> "module:attribute"; resolved lazily by __getattr__.
_FACADE = {
    "open_store": "monitor.store:open_store",
    "find_outages": "monitor.detect:detect_outages",
    "run_detection": "monitor.detect:run_detection",
    "DetectParams": "monitor.detect:DetectParams",
    "run_correlation": "monitor.correlate:run_correlation",
    "CorrelateParams": "monitor.correlate:CorrelateParams",
    "plot_timeline": "monitor.plot:plot_timeline",
    "plot_overview": "monitor.plot:plot_overview",
    "plot_coincidence_summary": "monitor.plot:plot_coincidence_summary",
    "import_events": "monitor.events.importer:import_events",
    "run_demo": "monitor.demo:run_demo",
}

__all__ = ["__version__", "correlate", "load_events", "load_outages", "load_signals", *_FACADE]

# Bound eagerly: importing the subpackage monitor.correlate would otherwise make `monitor.correlate`
# the module, not the function, for whoever imports the facade afterwards.
from monitor.correlate import correlate  # noqa: E402


def __getattr__(name: str):
    if name in _FACADE:
        module, _, attr = _FACADE[name].partition(":")
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'monitor' has no attribute {name!r}")


def _store(store):
    """Accept an open Store or a URL string."""
    from monitor.store import open_store
    return open_store(store) if isinstance(store, str) else store


def _times(start, end):
    from monitor.timeutil import parse_time
    return (None if start is None else parse_time(start), None if end is None else parse_time(end))


def load_signals(store, entity=None, datasource=None, start=None, end=None):
    """Signals as a DataFrame (entity, datasource, time UTC, value; NaN = no data)."""
    from monitor.entities import parse_entity
    entities = None if entity is None else [parse_entity(e) for e in ([entity] if isinstance(entity, str) else entity)]
    datasources = None if datasource is None else ([datasource] if isinstance(datasource, str) else list(datasource))
    return _store(store).read_signals(entities, datasources, *_times(start, end))


def load_events(store, country=None, kind=None, source=None, start=None, end=None):
    """Calendar events overlapping [start, end) as a DataFrame (see monitor.frames.EVENT_COLUMNS)."""
    return _store(store).read_events(country, kind, source, *_times(start, end))


def load_outages(store, source=None, entity=None, country=None, start=None, end=None):
    """Stored outages (detected ones: source="detected") as a DataFrame."""
    return _store(store).read_outages(source, entity, country, *_times(start, end))
