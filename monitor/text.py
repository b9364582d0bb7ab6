"""Text safety at the program's edges: what may reach a terminal, a spreadsheet, the store or a log.

Outside data (feed titles, server error bodies, calendar fields, library warnings) is hostile: it
may carry terminal escape sequences, bidi overrides, NUL bytes, spreadsheet formulas, or a secret a
server echoed back. Every function here is pure and general (str in, str out), so the command line,
the logs, the store's write path and the reports can all use the same rules:

- `printable` / `one_line`: text for a terminal (or any human-facing line).
- `json_text`: JSON whose invisible and control characters are escaped (same data, inert on a terminal).
- `storable`: text for the store: NUL, other control characters and lone surrogates replaced.
- `csv_cell`: a CSV cell a spreadsheet will not evaluate (OWASP CSV injection).
- `mask_secrets` / `remember_secret`: secrets, their encoded forms and any 8-character run of them
  replaced by `***`, before any shortening (`shorten`).
- `load_json` / `json_depth`: JSON with a nesting limit, so a `[[[[...` body is a clear error.
- `LogSanitiser`: a logging filter applying `one_line` and `mask_secrets` to every record.

This module imports nothing from the package, so every layer may use it.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import threading
import unicodedata
from typing import Any, Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET_RUN = 8       # the shortest run of a secret's characters that is masked wherever it appears
MAX_JSON_DEPTH = 64      # every API and file this tool reads nests < 10 levels; 64 leaves wide room
# Joiners are format characters (Cf) that Persian, Arabic, Indic scripts and emoji need; they cannot
# move the cursor, change colours or reorder text, so they are kept.
_KEPT_FORMAT = frozenset("\u200c\u200d")
_LINE_BREAKS = "\n\r\t\v\f\x85\u2028\u2029"
_FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")  # OWASP, plus full-width forms
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


def _unsafe(ch: str) -> bool:
    """A control (Cc) or format (Cf: bidi overrides, zero-width marks) character, or a surrogate."""
    cat = unicodedata.category(ch)
    return cat in ("Cc", "Cs") or (cat == "Cf" and ch not in _KEPT_FORMAT)


def printable(text: Any, keep_lines: bool = False) -> str:
    """Text safe to print on a terminal: control and format characters (escape sequences, bidi
    overrides, NUL) as U+FFFD; line breaks and tabs as spaces, or with `keep_lines` tabs kept and
    every line break as \\n (a bare carriage return would let text overwrite the line before it)."""
    text = str(text)
    if keep_lines:
        text = text.replace("\r\n", "\n")
    out = []
    for ch in text:
        if ch in _LINE_BREAKS:
            out.append(" " if not keep_lines else "\t" if ch == "\t" else "\n")
        elif ch.isascii() and ch.isprintable():
            out.append(ch)
        else:
            out.append("\ufffd" if _unsafe(ch) else ch)
    return "".join(out)


def one_line(text: Any, limit: int | None = None) -> str:
    """`printable` text on one line, runs of whitespace collapsed, shortened to `limit` characters."""
    line = " ".join(printable(text).split())
    return shorten(line, limit) if limit is not None else line


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in '...' when cut. Mask secrets first."""
    return text if len(text) <= limit else text[:max(0, limit - 3)] + "..."


def json_text(doc: Any, indent: int | None = 1) -> str:
    """`doc` as JSON (non-ASCII kept readable) with control and format characters written as
    \\uXXXX escapes: the same data for a program, nothing a terminal would act on."""
    text = json.dumps(doc, indent=indent, ensure_ascii=False, default=str)
    return "".join(f"\\u{ord(ch):04x}" if not ch.isascii() and _unsafe(ch) else ch for ch in text)


def storable(text: Any) -> Any:
    """Text fit for any store: NUL and other control characters (tabs and line breaks excepted)
    and lone surrogates as U+FFFD. PostgreSQL refuses NUL and invalid UTF-8 outright; SQLite would
    keep them and hand them to every reader. Non-strings are returned as they are."""
    if not isinstance(text, str):
        return text
    if text.isascii() and text.isprintable():
        return text
    text = _SURROGATE_RE.sub("\ufffd", text)
    return "".join("\ufffd" if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" else ch for ch in text)


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text (OWASP, "CSV Injection"): a string whose first
    non-blank character is = + - @, a tab or a carriage return (or their full-width forms) gets a
    leading single quote. Numbers and other values are returned as they are; quoting of embedded
    quotes and separators is left to the CSV writer."""
    if isinstance(value, str) and value.lstrip(" ")[:1] in _FORMULA_START:
        return "'" + value
    return value


# -- secrets -------------------------------------------------------------------------------------
_remembered: set[str] = set()
_remembered_lock = threading.Lock()


def remember_secret(value: str | None) -> None:
    """Note a credential this process holds, so `mask_secrets` hides it wherever text is built
    (error messages, log lines) even when the caller did not pass it. Values under 6 characters
    are ignored (too short to tell from ordinary text)."""
    if value and len(value.strip()) >= 6:
        with _remembered_lock:
            _remembered.add(value.strip())


def remembered_secrets() -> frozenset[str]:
    with _remembered_lock:
        return frozenset(_remembered)


def secret_forms(secret: str) -> set[str]:
    """How a secret can come back from a server: as sent, URL-encoded (form and path style),
    JSON- and HTML-escaped, base64 (Basic auth, SMTP AUTH); each form also of what follows an
    auth scheme and of each whitespace-separated part ("Bearer abc..." -> "abc...")."""
    forms: set[str] = set()
    values = {secret} | {part for part in secret.split() if len(part) >= 6}
    values |= {rest for rest in secret.split(None, 1)[1:] if len(rest) >= 6}  # "Key <token with spaces>"
    for value in values:
        forms |= {value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1], html.escape(value)}
        try:
            forms.add(base64.b64encode(value.encode("utf-8")).decode("ascii").rstrip("="))
        except UnicodeEncodeError:
            pass
    return {f for f in forms if f}


def mask_secrets(text: str, secrets: Iterable[str] = (), *, remembered: bool = True) -> str:
    """`text` with every secret (and remembered secret) masked: each whole occurrence of any of
    its forms (`secret_forms`), and any run of MIN_SECRET_RUN or more consecutive characters of a
    form, wherever it starts or ends. So a secret cut by a length limit, or echoed from any
    offset, leaves nothing of MIN_SECRET_RUN characters behind. Call before shortening."""
    if not isinstance(text, str) or not text:
        return text
    pool = set(secrets) | (remembered_secrets() if remembered else set())
    forms = {f for s in pool if s for f in secret_forms(str(s))}
    if not forms:
        return text
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    grams = {f[i:i + MIN_SECRET_RUN] for f in forms if len(f) >= MIN_SECRET_RUN
             for i in range(len(f) - MIN_SECRET_RUN + 1)}
    if not grams:
        return text
    hit = bytearray(len(text))
    found = False
    for i in range(len(text) - MIN_SECRET_RUN + 1):
        if text[i:i + MIN_SECRET_RUN] in grams:
            hit[i:i + MIN_SECRET_RUN] = b"\x01" * MIN_SECRET_RUN
            found = True
    if not found:
        return text
    out, i = [], 0
    while i < len(text):
        if hit[i]:
            while i < len(text) and hit[i]:
                i += 1
            out.append(MASK)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


class LogSanitiser(logging.Filter):
    """A handler filter that makes every record safe to print: the message on one printable line
    with secrets masked, a traceback with its control characters replaced. It works on records
    from any library (matplotlib's font warnings carry whatever a title held)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg, record.args = one_line(mask_secrets(record.getMessage())), None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = printable(mask_secrets(record.exc_text), keep_lines=True)
            if record.stack_info:
                record.stack_info = printable(record.stack_info, keep_lines=True)
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is logging's to report
            pass
        return True


# -- nesting -------------------------------------------------------------------------------------
class NestingError(ValueError):
    """A document nests deeper than the limit (a `[[[[...` bomb): refused before anything walks it."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"nested more than {limit} levels deep")


def json_depth(doc: Any, limit: int | None = None) -> int:
    """How deeply lists and dicts nest in `doc` (a scalar is 0), without recursion; stops with
    NestingError as soon as `limit` is passed."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if limit is not None and depth > limit:
            raise NestingError(limit)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def load_json(data: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads` that refuses documents nested more than `max_depth` deep (NestingError, a
    ValueError) instead of ending in RecursionError, here or in whatever walks the result later."""
    try:
        doc = json.loads(data)
    except RecursionError:
        raise NestingError(max_depth) from None
    json_depth(doc, max_depth)
    return doc
