"""The one HTTP client every source and calendar uses.

It owns what each caller would otherwise get wrong: a timeout on every call, retries with
exponential backoff and jitter on connection errors, timeouts, 429 and 5xx (honouring
`Retry-After`, capped), a minimum interval between requests to the same host, a User-Agent
naming the tool, and a cap on response size. Every failure is a `SourceError` naming the
source, the URL (secrets in the query redacted) and the HTTP status.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import urllib3

from monitor import __version__
from monitor.errors import SourceError
from monitor.text import NestingError, load_json, mask_secrets, one_line, remember_secret

log = logging.getLogger("monitor.http")

USER_AGENT = f"outage-monitor/{__version__} (internet outage research tool; python-requests)"

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_SECRET_PARAMS = ("key", "token", "password", "secret", "auth", "email")
_SECRET_HEADERS = ("authorization", "x-api-key", "x-auth-token", "cookie", "proxy-authorization")
_ERROR_CHARS = 200  # characters of a server's error text kept in a message (after masking secrets)
_CHUNK = 64 * 1024
_ERRNO_RE = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
_INCOMPLETE_RE = re.compile(r"IncompleteRead\((\d+) bytes read, (\d+) more expected")


@dataclass(frozen=True)
class _Body:
    url: str
    status: int
    content: bytes
    charset: str | None


class HttpClient:
    """A polite, bounded `requests.Session` for one source (`source` names it in errors and logs).

    `backoff` is the first retry delay in seconds (doubled each attempt, with jitter); `max_wait`
    caps both that and any `Retry-After`. `headers` are sent on every request (e.g. an API key).
    `sleep` is injectable so tests can run retry paths without waiting.
    """

    def __init__(self, source: str, min_interval: float = 0.0, timeout: float = 30.0, retries: int = 4,
                 max_bytes: int = 50_000_000, *, backoff: float = 1.0, max_wait: float = 60.0,
                 headers: Mapping[str, str] | None = None, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.source = source
        self.min_interval = float(min_interval)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.max_bytes = int(max_bytes)
        self.backoff = float(backoff)
        self.max_wait = float(max_wait)
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})
        for key, value in self.session.headers.items():
            if key.lower() in _SECRET_HEADERS:
                remember_secret(str(value))
        self.requests = 0  # HTTP attempts made, retries included (for reports and benchmarks)
        self._sleep = sleep
        self._last_request: dict[str, float] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    # -- public verbs ------------------------------------------------------------------------
    def get_json(self, url: str, params: Mapping | None = None, headers: Mapping | None = None) -> Any:
        """GET and decode JSON; a body that is not JSON is a SourceError naming the URL."""
        return self._decode_json(self._request("GET", url, params=params, headers=headers))

    def get_text(self, url: str, params: Mapping | None = None, headers: Mapping | None = None) -> str:
        """GET and decode text (charset from Content-Type, else UTF-8 with an optional BOM)."""
        body = self._request("GET", url, params=params, headers=headers)
        charset = body.charset or "utf-8-sig"
        try:
            return body.content.decode(charset)
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceError(self.source, f"response is not valid {charset} text ({exc.__class__.__name__})",
                              redact(body.url), body.status) from exc

    def post_form(self, url: str, data: Mapping, headers: Mapping | None = None) -> Any:
        """POST form-encoded `data` and decode the JSON answer."""
        return self._decode_json(self._request("POST", url, data=data, headers=headers))

    def post_json(self, url: str, payload: Any, headers: Mapping | None = None) -> bytes:
        """POST `payload` as JSON and return the answer's raw body (webhooks answer "ok" or nothing)."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        return self._request("POST", url, data=json.dumps(payload).encode("utf-8"), headers=sent).content

    # -- internals ---------------------------------------------------------------------------
    def _decode_json(self, body: _Body) -> Any:
        try:
            return load_json(body.content)
        except (ValueError, UnicodeDecodeError) as exc:
            detail = f"{exc.msg} at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) \
                else str(exc) if isinstance(exc, NestingError) else exc.__class__.__name__
            raise SourceError(self.source, f"malformed JSON ({detail})", redact(body.url), body.status) from exc

    def _request(self, method: str, url: str, *, params=None, data=None, headers=None) -> _Body:
        full_url = _full_url(method, url, params)
        attempts = self.retries + 1
        for attempt in range(attempts):
            self._throttle(full_url)
            self.requests += 1
            try:
                with self.session.request(method, url, params=params, data=data, headers=headers,
                                          timeout=self.timeout, stream=True) as resp:
                    if resp.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                        delay = self._retry_delay(attempt, resp.headers.get("Retry-After"))
                        self._note_retry(f"HTTP {resp.status_code}", full_url, delay, attempt, attempts)
                        continue
                    if resp.status_code >= 400:
                        message = _error_message(resp, self.max_bytes, self._secrets(headers, params, data))
                        raise SourceError(self.source, message, redact(resp.url), resp.status_code)
                    return _Body(resp.url, resp.status_code, self._read(resp), _charset(resp))
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                if attempt + 1 >= attempts:
                    raise SourceError(self.source, f"{_reason(exc)} (gave up after {attempts} attempts)",
                                      redact(full_url)) from exc
                delay = self._retry_delay(attempt, None)
                self._note_retry(_reason(exc), full_url, delay, attempt, attempts)
            except requests.RequestException as exc:
                raise SourceError(self.source, _reason(exc, self._secrets(headers, params, data)),
                                  redact(full_url)) from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _secrets(self, headers, params, data=None) -> list[str]:
        """What this request sent that must never be echoed: credential headers, secret query
        params and secret form fields (ACLED's password). Each is also remembered process-wide
        (`text.remember_secret`), so any message built later masks it too."""
        sent = {**self.session.headers, **(headers or {})}
        values = [str(v) for k, v in sent.items() if k.lower() in _SECRET_HEADERS]
        for fields in (params, data):
            if isinstance(fields, Mapping):
                values += [str(v) for k, v in fields.items() if any(p in str(k).lower() for p in _SECRET_PARAMS)]
        for value in values:
            remember_secret(value)
        return sorted({v for v in values if v}, key=len, reverse=True)

    def _note_retry(self, why: str, url: str, delay: float, attempt: int, attempts: int) -> None:
        log.warning("%s: %s from %s; retry %d/%d in %.1f s", self.source, why, redact(url),
                    attempt + 1, attempts - 1, delay)
        self._sleep(delay)

    def _retry_delay(self, attempt: int, retry_after: str | None) -> float:
        """Retry-After when the server gives one, else backoff * 2^attempt with jitter; both capped."""
        wait = _parse_retry_after(retry_after)
        if wait is None or wait < 0:  # absent, unreadable, or a date already past (clock skew): back off
            base = self.backoff * (2 ** attempt)
            wait = base / 2 + random.uniform(0, base / 2)
        return max(0.0, min(wait, self.max_wait))

    def _throttle(self, url: str) -> None:
        """Sleep so that requests to one host are at least `min_interval` seconds apart."""
        if self.min_interval <= 0:
            return
        host = urlsplit(url).netloc
        with self._lock:
            now = time.monotonic()
            ready = self._last_request.get(host, float("-inf")) + self.min_interval
            self._last_request[host] = max(now, ready)
        if ready > now:
            self._sleep(ready - now)

    def _read(self, resp: requests.Response) -> bytes:
        """The body, refusing more than `max_bytes` and bodies that trickle in past the timeout.

        `read1` returns whatever has arrived, so the deadline is checked even when a server sends
        one byte at a time (each of which would reset a plain per-read socket timeout).
        """
        declared = resp.headers.get("Content-Length")
        if declared and declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
            raise SourceError(self.source, f"response of {int(declared)} bytes exceeds the {self.max_bytes}-byte cap",
                              redact(resp.url), resp.status_code)
        deadline = time.monotonic() + self.timeout
        chunks, size = [], 0
        try:
            while chunk := resp.raw.read1(_CHUNK, decode_content=True):
                size += len(chunk)
                if size > self.max_bytes:
                    raise SourceError(self.source, f"response exceeds the {self.max_bytes}-byte cap",
                                      redact(resp.url), resp.status_code)
                if time.monotonic() > deadline:
                    raise requests.Timeout(f"body not received within {self.timeout:g} s")
                chunks.append(chunk)
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.Timeout(str(exc)) from exc
        except urllib3.exceptions.ProtocolError as exc:  # cut short, reset mid-body
            raise requests.exceptions.ChunkedEncodingError(str(exc)) from exc
        except urllib3.exceptions.DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(str(exc)) from exc
        return b"".join(chunks)


def redact(url: str) -> str:
    """The URL with the values of secret-looking query parameters replaced by ***."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, "***" if any(s in k.lower() for s in _SECRET_PARAMS) else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe=",/:")))


def _full_url(method: str, url: str, params) -> str:
    try:
        return requests.Request(method, url, params=params).prepare().url or url
    except requests.RequestException:
        return url


def _parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time() if when is not None and when.tzinfo else None


def _charset(resp: requests.Response) -> str | None:
    content_type = resp.headers.get("Content-Type", "")
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return None


def _error_message(resp: requests.Response, max_bytes: int, secrets: list[str]) -> str:
    """One line from an error body: IODA's `error`, Atlas's `error.detail`, Cloudflare's `errors`.

    Secrets the request sent are masked in the whole text BEFORE it is shortened, so an echo
    straddling the cut cannot leave a prefix of one behind; control characters are replaced.
    """
    try:
        raw = resp.raw.read(min(max_bytes, 64 * 1024), decode_content=True) or b""
    except (requests.RequestException, OSError, ValueError):
        raw = b""
    text = raw.decode("utf-8", "replace")
    message = None
    try:
        payload = load_json(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        error = payload.get("error") or payload.get("errors") or payload.get("detail") or payload.get("message")
        if isinstance(error, list) and error:
            error = error[0]
        if isinstance(error, dict):
            error = error.get("detail") or error.get("message") or error.get("title")
        if isinstance(error, str):
            message = error
    message = one_line(mask_secrets(message or text, secrets), _ERROR_CHARS)
    return f"request failed: {message}" if message else "request failed"


def _reason(exc: requests.RequestException, secrets: list[str] = ()) -> str:
    """A short, one-line reason for a transport failure."""
    if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        read = _INCOMPLETE_RE.search(str(exc))
        return f"body cut short ({read.group(1)} bytes read, {read.group(2)} more expected)" if read \
            else "body cut short"
    if isinstance(exc, requests.ConnectionError):
        cause = _ERRNO_RE.search(str(exc))
        return f"connection failed ({cause.group(1)})" if cause else "connection failed"
    text = one_line(mask_secrets(str(exc), secrets), 160)
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__
