"""The interface every connectivity source implements, and the one place for windows and pages.

A source is a `Source` spec (name, what it yields, default base URL, cadence, native window limit,
licence) plus a `fetch(client, base_url, entity, start, end, options) -> Batch` that returns frames
and never touches the store. Parsers are pure functions payload -> frame that raise `SourceError`
naming the field when a payload has the wrong shape; `PayloadShape` gives them one vocabulary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence

import pandas as pd

from monitor.entities import Entity, parse_entity
from monitor.errors import InputError, SourceError
from monitor.frames import OUTAGE_COLUMNS, PLACE_COLUMNS, PROBE_EVENT_COLUMNS, SIGNAL_COLUMNS, empty
from monitor.http import HttpClient
from monitor.text import remember_secret
from monitor.timeutil import parse_time

MAX_PAGES = 10_000  # a guard against a server whose `next` never ends
MAX_EPOCH = 2**36   # unix seconds beyond the year 4000 are not times but garbage
MAX_ASN = 2**32 - 1
_EPOCH_0 = pd.Timestamp(0, unit="s", tz="UTC")
_EPOCH_MAX = pd.Timestamp(MAX_EPOCH, unit="s", tz="UTC")


def _frame(columns: list[str]) -> Callable[[], pd.DataFrame]:
    return lambda: empty(columns)


@dataclass(frozen=True)
class Batch:
    """What one fetch yields: signal points, reference outages, raw probe events and where the
    entities are (the source's own metadata: country and name)."""

    signals: pd.DataFrame = field(default_factory=_frame(SIGNAL_COLUMNS))
    outages: pd.DataFrame = field(default_factory=_frame(OUTAGE_COLUMNS))
    probe_events: pd.DataFrame = field(default_factory=_frame(PROBE_EVENT_COLUMNS))
    places: pd.DataFrame = field(default_factory=_frame(PLACE_COLUMNS))

    @property
    def counts(self) -> dict[str, int]:
        return {"points": len(self.signals), "outages": len(self.outages),
                "probe_events": len(self.probe_events)}


def concat(frames: Sequence[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Row-wise concatenation that skips empty frames (and gives the contract's empty frame)."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty(columns)
    return frames[0].reset_index(drop=True) if len(frames) == 1 else pd.concat(frames, ignore_index=True)


FetchFn = Callable[[HttpClient, str, Entity, pd.Timestamp, pd.Timestamp, Mapping[str, Any]], Batch]


@dataclass(frozen=True)
class Source:
    """A connectivity source's spec; the registry lists one per module."""

    name: str
    description: str
    yields: tuple[str, ...]          # Batch frames it fills: "signals", "outages", "probe_events"
    base_url: str
    interval: pd.Timedelta           # how often the daemon should collect it
    max_window: pd.Timedelta         # one fetch never spans more (IODA refuses 100 days or more)
    overlap: pd.Timedelta            # re-fetched on resume: upstream still fills in recent bins
    lookback: pd.Timedelta           # where a first run without --from starts, back from now
    licence: str
    fetch: FetchFn
    entity_types: tuple[str, ...]
    options: Mapping[str, Any] = field(default_factory=dict)  # accepted options and defaults
    credential_env: str | None = None   # environment variable holding an API key or token
    credential_required: bool = False
    auth_scheme: str = ""               # Authorization: <scheme> <credential>
    min_interval: float = 0.0           # seconds between requests to one host

    def supports(self, entity: Entity) -> bool:
        return entity.type in self.entity_types

    def check_options(self, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with `options`; an unknown key is an InputError naming it."""
        options = dict(options or {})
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise InputError(f"{self.name}: unknown option {unknown[0]!r} (known: {known})")
        return {**self.options, **options}

    def credential(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The API key or token from the environment, or None."""
        if not self.credential_env:
            return None
        value = (os.environ if environ is None else environ).get(self.credential_env, "").strip()
        remember_secret(value)  # masked in every message built from now on
        return value or None

    def client(self, environ: Mapping[str, str] | None = None, **kwargs) -> HttpClient:
        """An HttpClient for this source, with its credential (if any) as a default header."""
        secret = self.credential(environ)
        if secret is None and self.credential_required:
            raise SourceError(self.name, f"{self.credential_env} is not set")
        headers = {"Authorization": f"{self.auth_scheme} {secret}"} if secret else {}
        kwargs.setdefault("min_interval", self.min_interval)
        return HttpClient(self.name, headers=headers, **kwargs)


# -- windows and pages -----------------------------------------------------------------------
def windows(start: pd.Timestamp, end: pd.Timestamp, size: pd.Timedelta) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """[start, end) cut into consecutive half-open windows of at most `size`."""
    if size <= pd.Timedelta(0):
        raise InputError(f"window size must be positive, got {size}")
    out, cursor = [], start
    while cursor < end:
        stop = min(cursor + size, end)
        out.append((cursor, stop))
        cursor = stop
    return out


def follow_next(client: HttpClient, url: str, params: Mapping | None,
                items: Callable[[Any, str], list]) -> list:
    """Every item of a `{"next": url, "results": [...]}` listing, following `next` to its end."""
    out: list = []
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        payload = client.get_json(url, params)
        out.extend(items(payload, url))
        nxt = payload.get("next") if isinstance(payload, dict) else None
        if nxt is None:
            return out
        if not isinstance(nxt, str) or nxt in seen:
            raise SourceError(client.source, f"malformed payload: bad or repeated 'next' link {nxt!r}", url)
        seen.add(nxt)
        url, params = nxt, None  # the next link carries the query
    raise SourceError(client.source, f"more than {MAX_PAGES} pages", url)


def numbered_pages(client: HttpClient, url: str, params: Mapping, items: Callable[[Any, str], list], *,
                   page_param: str, size_param: str, size: int, by_offset: bool = False) -> list:
    """Every item of a listing paged by number (`page=0,1,..`) or offset (`offset=0,size,..`).

    Stops at the first page shorter than `size`.
    """
    out: list = []
    for page in range(MAX_PAGES):
        query = {**params, size_param: size, page_param: page * size if by_offset else page}
        batch = items(client.get_json(url, query), url)
        out.extend(batch)
        if len(batch) < size:
            return out
    raise SourceError(client.source, f"more than {MAX_PAGES} pages", url)


def chunked(values: Sequence, size: int) -> Iterator[Sequence]:
    """Consecutive slices of at most `size` (long id filters split over several requests)."""
    for i in range(0, len(values), size):
        yield values[i:i + size]


# -- payload checks --------------------------------------------------------------------------
class PayloadShape:
    """Field checks on a decoded payload; failures are SourceErrors naming the field path."""

    def __init__(self, source: str, url: str | None = None):
        self.source, self.url = source, url

    def error(self, path: str, problem: str) -> SourceError:
        return SourceError(self.source, f"malformed payload: {path} {problem}", self.url)

    def need(self, obj: Any, key: str, kinds: type | tuple[type, ...], path: str, *, optional: bool = False):
        """obj[key], checked to be of `kinds` (bool never counts as a number); None if optional and absent."""
        if not isinstance(obj, dict):
            raise self.error(path or "payload", f"is {type(obj).__name__}, expected an object")
        where = f"{path}.{key}" if path else key
        if key not in obj or obj[key] is None:
            if optional:
                return None
            raise self.error(where, "is missing")
        return self.check(obj[key], kinds, where)

    def check(self, value: Any, kinds: type | tuple[type, ...], where: str):
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.error(where, f"is {value!r}, expected {_names(kinds)}")
        if not isinstance(value, kinds):
            raise self.error(where, f"is {type(value).__name__} {_short(value)}, expected {_names(kinds)}")
        return value

    def bounded(self, value: int | float, low: int | float, high: int | float, where: str):
        """`value`, refused unless low <= value <= high (epochs, AS numbers, ids)."""
        if not low <= value <= high:
            raise self.error(where, f"is {_short(value)}, outside {low}..{high}")
        return value

    def epoch(self, obj: Any, key: str, path: str, *, optional: bool = False) -> int | None:
        """obj[key] as unix seconds between 1970 and MAX_EPOCH."""
        value = self.need(obj, key, int, path, optional=optional)
        return None if value is None else self.bounded(value, 0, MAX_EPOCH, f"{path}.{key}")

    def time(self, value: Any, where: str) -> pd.Timestamp:
        """An ISO 8601 (UTC when no offset) or unix-seconds value as a UTC Timestamp, 1970..MAX_EPOCH."""
        try:
            ts = parse_time(self.check(value, (str, int), where), what=where)
        except (InputError, ValueError, OverflowError) as exc:
            raise self.error(where, f"is not a time ({_short(value)})") from exc
        if not _EPOCH_0 <= ts <= _EPOCH_MAX:
            raise self.error(where, f"is {_short(value)}, outside 1970..{_EPOCH_MAX.year}")
        return ts.as_unit("s")

    def entity(self, text: str, where: str) -> str:
        try:
            return parse_entity(text)
        except InputError as exc:
            raise self.error(where, f"is not an entity ({_short(text)})") from exc


def _names(kinds: tuple[type, ...]) -> str:
    words = {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object",
             bool: "true/false"}
    return " or ".join(dict.fromkeys(words.get(k, k.__name__) for k in kinds))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
