"""The project's error types: every failure a user can cause or meet is one of these.

Each carries a one-line message that names what was wrong and where; the CLI prints it
on stderr and exits non-zero, the daemon logs and records it. Anything else escaping is a bug.
"""

from __future__ import annotations

from monitor.text import mask_secrets


class MonitorError(Exception):
    """Base of every error outage-monitor raises on purpose.

    The message is built with every credential this process holds masked (`text.remember_secret`),
    so no log line, CLI error or stored run record made from it can carry one.
    """

    def __init__(self, *args):
        super().__init__(*(mask_secrets(a) if isinstance(a, str) else a for a in args))


class ConfigError(MonitorError):
    """A configuration file, key or value is wrong."""


class InputError(MonitorError):
    """A user-supplied value or file is malformed (entity, time, CSV row, option)."""


class ParseError(InputError):
    """Outside data (a file, a feed, a payload) could not be parsed.

    `where` names the file/URL and row/field, so the message can point at it.
    """

    def __init__(self, message: str, where: str | None = None):
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class SourceError(MonitorError):
    """A data source failed: network, HTTP status, or a payload of the wrong shape."""

    def __init__(self, source: str, message: str, url: str | None = None, status: int | None = None):
        self.source, self.url, self.status = source, url, status
        parts = [f"{source}: {message}"]
        if status is not None:
            parts.append(f"HTTP {status}")
        if url:
            parts.append(f"at {url}")
        super().__init__(" ".join(parts))


class StoreError(MonitorError):
    """The store cannot be opened, read or written."""
