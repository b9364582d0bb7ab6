"""The `outage-monitor` command line.

Every module in this package that defines `register(subparsers)` adds one subcommand; the
subcommand's handler is `run(args, ctx) -> int`. Handlers stay thin: parse, call the library, print.
Global options (`--db`, `--config`, `-v`, `-q`) come before the subcommand.

Everything that reaches the terminal goes through `monitor.text`: errors are one masked,
printable line; log records (ours and libraries', warnings included) are sanitised by a filter on
every handler; tables, CSV and JSON are made safe in `_output`; and when stdout is a terminal,
whatever a command prints still has its control characters replaced.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from monitor import __version__
from monitor.errors import MonitorError
from monitor.text import LogSanitiser, mask_secrets, one_line, printable

log = logging.getLogger("monitor")


class Context:
    """What every handler needs: the configuration and the store, opened on first use."""

    def __init__(self, db_url: str | None, config_path: str | None, verbosity: int):
        self.db_url_option = db_url
        self.config_path = config_path
        self.verbosity = verbosity
        self._config = None
        self._store = None

    @property
    def config(self):
        if self._config is None:
            from monitor.config import load_config
            self._config = load_config(self.config_path)
        return self._config

    @property
    def db_url(self) -> str:
        from monitor.config import resolve_db_url
        return resolve_db_url(self.db_url_option, self.config)

    @property
    def store(self):
        """The existing store (a SQLite path that does not exist is an error: likely a typo)."""
        return self._open(create=False)

    @property
    def new_store(self):
        """The store, created if it does not exist yet (for the commands that bring data in)."""
        return self._open(create=True)

    def _open(self, create: bool):
        if self._store is None:
            from monitor.store import open_store
            self._store = open_store(self.db_url, create=create)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def _command_modules():
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            if hasattr(module, "register"):
                yield module


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors (which quote the offending value) printed as one safe line."""

    def error(self, message):
        super().error(one_line(mask_secrets(message)))


class _Terminal:
    """stdout as seen by a person: control and format characters from any data replaced."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text, keep_lines=True))
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def build_parser() -> argparse.ArgumentParser:
    """The full parser: global options, then one subparser per command module."""
    parser = _Parser(
        prog="outage-monitor",
        description="Find internet outages in public connectivity data and test whether they "
                    "coincide with political events.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--db", metavar="URL", help="store URL (sqlite:///path.db or "
                        "postgresql+psycopg://...); default: $MONITOR_DB, the config file, "
                        "else sqlite:///data/monitor.db")
    parser.add_argument("--config", metavar="PATH", help="TOML config file (default: ./monitor.toml if present)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="count", default=0, help="less output: warnings and errors only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _command_modules():
        module.register(sub)
    return parser


def _setup_logging(verbosity: int) -> None:
    level = {-1: logging.WARNING, 0: logging.INFO, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    if verbosity < -1:
        level = logging.ERROR
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s" if verbosity > 0
                        else "%(message)s")
    logging.captureWarnings(True)  # library warnings (matplotlib's missing glyphs) go through the filter
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, LogSanitiser) for f in handler.filters):
            handler.addFilter(LogSanitiser())


def os_error_line(exc: OSError) -> str:
    """An OSError on a path as one line: what the system said and the path (shortened)."""
    what = exc.strerror or exc.__class__.__name__
    path = exc.filename if exc.filename is not None else None
    return one_line(f"{what}: {path}", 200) if path is not None else one_line(str(exc) or what, 200)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `outage-monitor` and `python -m monitor`; returns the exit status."""
    parser = build_parser()
    ctx = None
    real_stdout = sys.stdout
    if real_stdout is not None and real_stdout.isatty():
        sys.stdout = _Terminal(real_stdout)
    try:
        # Inside the try: option types such as parse_entity raise InputError with a clear message.
        args = parser.parse_args(argv)
        verbosity = args.verbose - args.quiet
        _setup_logging(verbosity)
        ctx = Context(args.db, args.config, verbosity)
        return int(args.func(args, ctx) or 0)
    except MonitorError as exc:
        print(f"outage-monitor: error: {one_line(mask_secrets(str(exc)))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("outage-monitor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a path the system refuses: too long, a directory, no permission, disk full
        print(f"outage-monitor: error: {os_error_line(exc)}", file=sys.stderr)
        return 2
    finally:
        sys.stdout = real_stdout
        if ctx is not None:
            ctx.close()
