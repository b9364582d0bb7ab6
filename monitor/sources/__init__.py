"""Connectivity sources: one module per service behind one interface (see base.Source)."""

from monitor.sources.base import Batch, Source
from monitor.sources.registry import SOURCES, get_source

__all__ = ["Batch", "SOURCES", "Source", "get_source"]
