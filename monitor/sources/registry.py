"""The registry of connectivity sources: adding a source is one module plus one line here."""

from __future__ import annotations

from monitor.errors import InputError
from monitor.sources import cloudflare_radar, ioda, ripe_atlas, ripestat
from monitor.sources.base import Source

SOURCES: dict[str, Source] = {s.name: s for s in (ioda.SOURCE, ripe_atlas.SOURCE, ripestat.SOURCE,
                                                   cloudflare_radar.SOURCE)}


def get_source(name: str) -> Source:
    """The spec of source `name`; an unknown name is an InputError listing the known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        raise InputError(f"unknown source {name!r} (known: {', '.join(SOURCES)})") from None
