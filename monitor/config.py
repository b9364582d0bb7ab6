"""Configuration: one TOML file -> a frozen Config. Secrets never live here, only in the environment.

Precedence for the store URL: --db, then $MONITOR_DB, then [store].url in the config file, then
sqlite:///data/monitor.db. The config file is --config, else ./monitor.toml if present, else defaults.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from monitor.entities import parse_entity
from monitor.errors import ConfigError, InputError
from monitor.events.importer import FORMATS, is_url
from monitor.timeutil import parse_duration

DEFAULT_DB_URL = "sqlite:///data/monitor.db"
DEFAULT_CONFIG_NAME = "monitor.toml"

# Sections validated by a parameter dataclass of an analysis module: section -> "module:Class".
PARAMETER_SECTIONS: dict[str, str] = {
    "detect": "monitor.detect.params:DetectParams",
    "correlate": "monitor.correlate.params:CorrelateParams",
    "report": "monitor.report.params:ReportParams",
    "daemon": "monitor.daemon.params:DaemonParams",
    "alerts": "monitor.alerts:AlertParams",
    "events": "monitor.events.ical:IcsLimits",
}


@dataclass(frozen=True)
class SourceConfig:
    """One connectivity source: [sources.<name>]."""

    enabled: bool = True
    base_url: str | None = None
    interval: pd.Timedelta | None = None
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CalendarConfig:
    """One event calendar fetched on a schedule: [calendars.<name>]."""

    url: str
    format: str | None = None
    interval: pd.Timedelta = pd.Timedelta("6h")
    country: str | None = None
    kind: str | None = None
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    """The whole configuration; sections without a dataclass of their own stay plain dicts."""

    path: Path | None = None
    store_url: str | None = None
    entities: tuple[str, ...] = ()
    sources: dict = field(default_factory=dict)
    calendars: dict = field(default_factory=dict)
    detect: dict = field(default_factory=dict)
    correlate: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    alerts: dict = field(default_factory=dict)
    daemon: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)


_TOP_KEYS = {"store", "watch", "sources", "calendars", "detect", "correlate", "report", "alerts", "daemon",
             "events"}


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read and validate the config file (or return defaults when there is none)."""
    if path is None:
        candidate = Path(DEFAULT_CONFIG_NAME)
        if not candidate.is_file():
            return Config()
        path = candidate
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_config(data, path)


def parse_config(data: dict, path: Path | None = None) -> Config:
    """Validate a decoded TOML document; every error names the key and the file."""
    where = str(path) if path else "config"
    _no_unknown(data, _TOP_KEYS, where, "")
    store = _table(data, "store", where)
    _no_unknown(store, {"url"}, where, "store.")
    watch = _table(data, "watch", where)
    _no_unknown(watch, {"entities"}, where, "watch.")
    entities = []
    for i, text in enumerate(_typed(watch.get("entities", []), list, where, "watch.entities")):
        try:
            entities.append(parse_entity(text))
        except InputError as exc:
            raise ConfigError(f"{where}: watch.entities[{i}]: {exc}") from exc
    sources = {name: _source(name, table, where) for name, table in _table(data, "sources", where).items()}
    calendars = {name: _calendar(name, table, where) for name, table in _table(data, "calendars", where).items()}
    sections = {name: _table(data, name, where) for name in ("detect", "correlate", "report", "alerts", "daemon",
                                                             "events")}
    for name, table in sections.items():
        if name in PARAMETER_SECTIONS:
            build(_resolve(PARAMETER_SECTIONS[name]), table, f"{where}: [{name}]")
    return Config(path=path, store_url=_typed(store.get("url"), str, where, "store.url"),
                  entities=tuple(entities), sources=sources, calendars=calendars, **sections)


def resolve_db_url(option: str | None, config: Config) -> str:
    """--db, else $MONITOR_DB, else the config file's [store].url, else the embedded default."""
    return option or os.environ.get("MONITOR_DB") or config.store_url or DEFAULT_DB_URL


def build(cls, mapping: dict, where: str):
    """A frozen dataclass from a dict; unknown keys and wrong types are ConfigErrors naming them."""
    if not isinstance(mapping, dict):
        raise ConfigError(f"{where}: expected a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(fields))})")
    hints = typing.get_type_hints(cls)
    values = {name: _coerce(value, hints[name], f"{where}.{name}") for name, value in mapping.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError, InputError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _coerce(value, hint, where: str):
    """Check a TOML value against a type hint; durations may be written as strings like '2h'."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in typing.get_args(hint):
            if option is type(None):
                if value is None:
                    return None
                continue
            try:
                return _coerce(value, option, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: wrong type")
    if hint is pd.Timedelta:
        if isinstance(value, str):
            try:
                return parse_duration(value, what=where)
            except InputError as exc:
                raise ConfigError(str(exc)) from exc
        raise ConfigError(f"{where}: expected a duration such as '2h', got {value!r}")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
        args = typing.get_args(hint)
        item = args[0] if args else typing.Any
        return tuple(_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)) if origin is tuple \
            else [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table")
        return value
    if hint is typing.Any:
        return value
    if dataclasses.is_dataclass(hint):
        return build(hint, value, where)
    if isinstance(hint, type) and (not isinstance(value, hint) or (hint is int and isinstance(value, bool))):
        raise ConfigError(f"{where}: expected {hint.__name__}, got {type(value).__name__} {value!r}")
    return value


def _source(name: str, table, where: str) -> SourceConfig:
    table = dict(_typed(table, dict, where, f"sources.{name}"))
    known = {"enabled", "base_url", "interval"}
    options = {k: table.pop(k) for k in list(table) if k not in known}
    return build(SourceConfig, {**table, "options": options}, f"{where}: [sources.{name}]")


def _calendar(name: str, table, where: str) -> CalendarConfig:
    table = dict(_typed(table, dict, where, f"calendars.{name}"))
    if "url" not in table:
        raise ConfigError(f"{where}: [calendars.{name}] needs a url")
    calendar = build(CalendarConfig, table, f"{where}: [calendars.{name}]")
    try:
        is_url(calendar.url)  # refuses file:, ftp:, data:... now rather than at the first fetch
    except InputError as exc:
        raise ConfigError(f"{where}: [calendars.{name}] url: {exc}") from None
    if calendar.format is not None and calendar.format not in FORMATS:
        raise ConfigError(f"{where}: [calendars.{name}] format {calendar.format!r} is not one of "
                          f"{', '.join(FORMATS)}")
    return calendar


def _table(data: dict, key: str, where: str) -> dict:
    return _typed(data.get(key, {}), dict, where, key)


def _typed(value, kind, where: str, key: str):
    if value is not None and not isinstance(value, kind):
        raise ConfigError(f"{where}: {key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _no_unknown(data: dict, known: set, where: str, prefix: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key {prefix}{unknown[0]!r} (known: {', '.join(sorted(known))})")


def _resolve(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)
