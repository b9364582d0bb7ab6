"""Support for the reliability tests: a misbehaving loopback proxy in front of the replay server,
the figures recorder that benchmarks/reliability.py reads, and the hypothesis profiles.

The proxy forwards every request to the real replay (monitor.replay) unless its `plan` answers it
with a `Misbehave`: a connection reset, a stall past the client's timeout, a status (429 with
Retry-After, 5xx), a truncated body, a wrong content type, JSON of the wrong shape, a huge body or
a body that trickles in; or it answers correctly but slowly (`slow`, a loaded upstream). It is bounded: loopback only, bodies at most MAX_BODY bytes, stalls at
most MAX_DELAY seconds. It also keeps the IODA signal points it served (inside each request's
[from, until) window, as the collector keeps them), so a test can check the store holds exactly those.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from hypothesis import HealthCheck, settings

LOOPBACK = "127.0.0.1"
MAX_BODY = 16 * 1024 * 1024
MAX_DELAY = 5.0
KINDS = ("reset", "timeout", "status", "truncate", "truncate_valid", "content_type", "mutate", "huge",
         "huge_declared", "trickle", "echo", "slow")

# -- hypothesis profiles: CI (a few hundred cases per parser) and full (a few thousand) -----------
FUZZ_PROFILE_ENV = "MONITOR_FUZZ_PROFILE"
_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
           HealthCheck.large_base_example]
settings.register_profile("reliability-ci", max_examples=200, deadline=None, derandomize=True,
                          suppress_health_check=_HEALTH, database=None)
settings.register_profile("reliability-full", max_examples=3000, deadline=None,
                          suppress_health_check=_HEALTH)


def fuzz_settings() -> settings:
    """The profile chosen by $MONITOR_FUZZ_PROFILE (`ci`, the default, or `full`), applied per test
    so other test files' hypothesis settings are left alone."""
    name = os.environ.get(FUZZ_PROFILE_ENV, "ci")
    if name not in ("ci", "full"):
        raise ValueError(f"{FUZZ_PROFILE_ENV} must be ci or full, not {name!r}")
    return settings(settings.get_profile(f"reliability-{name}"))


def crash_kills(default: int) -> int:
    """Kills per crash test: $MONITOR_CRASH_KILLS (the full run sets 30+), else the CI default."""
    return int(os.environ.get("MONITOR_CRASH_KILLS", default))


# -- figures ------------------------------------------------------------------------------------
class Figures:
    """Appends one JSON record per measured outcome to $MONITOR_RELIABILITY_REPORT (when set)."""

    def __init__(self, path: str | None):
        self.path = Path(path) if path else None
        self.records: list[dict] = []
        self._lock = threading.Lock()

    def add(self, **record: Any) -> None:
        with self._lock:
            self.records.append(record)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record, default=str) + "\n")


# -- the misbehaving proxy ----------------------------------------------------------------------
@dataclass(frozen=True)
class Misbehave:
    """How to answer one request. `kind` is one of KINDS; the other fields are its parameters."""

    kind: str
    status: int = 503
    retry_after: str | Callable[[], str] | None = None  # a callable is called when answering (an HTTP date)
    delay: float = 0.0
    size: int = 0
    content_type: str = "text/html; charset=utf-8"
    body: bytes | None = None
    mutate: Callable[[Any], Any] | None = None
    hold: float = MAX_DELAY  # trickle: hang up after this many seconds
    headers: tuple[tuple[str, str], ...] = ()  # status: extra headers (e.g. a Location to redirect)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.size > MAX_BODY or self.delay > MAX_DELAY or self.hold > MAX_DELAY:
            raise ValueError(f"fault {self.kind} beyond the proxy's bounds")


@dataclass(frozen=True)
class ProxyRequest:
    """What a plan sees: method, path, decoded query and the request's number (1-based)."""

    method: str
    path: str
    query: dict[str, str]
    number: int


Plan = Callable[[ProxyRequest], "Misbehave | None"]


def first(n: int, fault: Misbehave, prefix: str = "") -> Plan:
    """The first `n` requests whose path starts with `prefix` get `fault`; later ones pass."""
    seen = Counter()
    lock = threading.Lock()

    def plan(req: ProxyRequest) -> Misbehave | None:
        if not req.path.startswith(prefix):
            return None
        with lock:
            seen["n"] += 1
            return fault if seen["n"] <= n else None
    return plan


def always(fault: Misbehave, prefix: str = "") -> Plan:
    """Every request whose path starts with `prefix` gets `fault`."""
    return lambda req: fault if req.path.startswith(prefix) else None


def nth(numbers: set[int], fault: Misbehave, prefix: str = "") -> Plan:
    """Only the matching requests numbered (among those matching `prefix`) in `numbers` get `fault`."""
    seen = Counter()
    lock = threading.Lock()

    def plan(req: ProxyRequest) -> Misbehave | None:
        if not req.path.startswith(prefix):
            return None
        with lock:
            seen["n"] += 1
            return fault if seen["n"] in numbers else None
    return plan


class FaultProxy:
    """A loopback HTTP proxy to `upstream` that misbehaves as `plan` says."""

    def __init__(self, upstream: str, plan: Plan | None = None):
        parts = urlsplit(upstream)
        if parts.hostname != LOOPBACK:
            raise ValueError("the fault proxy only forwards to loopback")
        self.upstream = (parts.hostname, parts.port)
        self.plan = plan
        self.log: list[tuple[int, str, str]] = []   # (number, path, fault kind or "pass")
        self.served: dict[tuple[str, str, int], float | None] = {}
        self._count = 0
        self._lock = threading.Lock()
        self.httpd = _Server((LOOPBACK, 0), _ProxyHandler)
        self.httpd.daemon_threads = True
        self.httpd.proxy = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.httpd.server_address[1]}"

    @property
    def base_urls(self) -> dict[str, str]:
        return {"ioda": f"{self.url}/v2", "ripe-atlas": f"{self.url}/api/v2"}

    def start(self) -> "FaultProxy":
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
        self.httpd.server_close()

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def faults(self) -> Counter:
        """How many requests got each fault kind (and "pass")."""
        with self._lock:
            return Counter(kind for _, _, kind in self.log)

    def _next(self, handler: BaseHTTPRequestHandler) -> ProxyRequest:
        parts = urlsplit(handler.path)
        with self._lock:
            self._count += 1
            return ProxyRequest(handler.command, parts.path, dict(parse_qsl(parts.query)), self._count)

    def _note(self, req: ProxyRequest, kind: str) -> None:
        with self._lock:
            self.log.append((req.number, req.path, kind))

    def _forward(self, handler: BaseHTTPRequestHandler) -> tuple[int, str, bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            conn.request(handler.command, handler.path, headers={"Host": handler.headers.get("Host", "")})
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type", "application/json"), resp.read(MAX_BODY)
        finally:
            conn.close()

    def _account(self, req: ProxyRequest, status: int, body: bytes) -> None:
        """Remember the IODA signal points a clean 200 answer served, inside its [from, until)."""
        if status != 200 or not req.path.startswith("/v2/signals/raw/"):
            return
        payload = json.loads(body)
        frm, until = int(req.query["from"]), int(req.query["until"])
        points = {}
        for per_entity in payload["data"]:
            for s in per_entity:
                name = f"{s['datasource']}.{s['subtype'].lower()}" if s.get("subtype") else s["datasource"]
                entity = f"{s['entityType']}/{s['entityCode']}"
                for i, v in enumerate(s["values"]):
                    t = s["from"] + i * s["step"]
                    if frm <= t < until:
                        points[(entity, name, t)] = None if v is None else float(v)
        with self._lock:
            self.served.update(points)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (a killed collector) is expected here; anything else is not."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        proxy: FaultProxy = self.server.proxy  # type: ignore[attr-defined]
        req = proxy._next(self)
        fault = proxy.plan(req) if proxy.plan else None
        proxy._note(req, fault.kind if fault else "pass")
        try:
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
                fault = None
            if fault is None:
                status, ctype, body = proxy._forward(self)
                self._send(status, body, ctype)
                proxy._account(req, status, body)
            else:
                getattr(self, f"_{fault.kind}")(fault, proxy)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True  # the client gave up first: fine

    do_POST = do_GET

    def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None,
              length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    # -- one method per fault kind -----------------------------------------------------------
    def _reset(self, fault: Misbehave, proxy: FaultProxy) -> None:
        """Close with RST (SO_LINGER 0) before answering."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _timeout(self, fault: Misbehave, proxy: FaultProxy) -> None:
        """Say nothing for `delay` seconds (past the client's timeout), then hang up."""
        time.sleep(fault.delay)
        self.close_connection = True

    def _status(self, fault: Misbehave, proxy: FaultProxy) -> None:
        retry_after = fault.retry_after() if callable(fault.retry_after) else fault.retry_after
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        headers.update(dict(fault.headers))
        body = fault.body if fault.body is not None else json.dumps(
            {"error": f"injected {fault.status}"}).encode()
        self._send(fault.status, body, "application/json", headers)

    def _truncate(self, fault: Misbehave, proxy: FaultProxy) -> None:
        """Declare the full length, send half of the body, hang up."""
        status, ctype, body = proxy._forward(self)
        self._send(status, body[: len(body) // 2], ctype, length=len(body))
        self.close_connection = True

    def _truncate_valid(self, fault: Misbehave, proxy: FaultProxy) -> None:
        """Half of the body with a matching Content-Length: the HTTP is fine, the JSON is cut."""
        status, ctype, body = proxy._forward(self)
        self._send(status, body[: len(body) // 2], ctype)

    def _content_type(self, fault: Misbehave, proxy: FaultProxy) -> None:
        """An HTML page (a captive portal, a CDN error page) under HTTP 200, or `body` as given."""
        body = fault.body if fault.body is not None else \
            b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>checking</body></html>"
        self._send(200, body, fault.content_type)

    def _mutate(self, fault: Misbehave, proxy: FaultProxy) -> None:
        """Valid JSON, changed by `fault.mutate` (wrong shape, values of the wrong length...)."""
        status, ctype, body = proxy._forward(self)
        self._send(status, json.dumps(fault.mutate(json.loads(body))).encode(), ctype)

    def _huge(self, fault: Misbehave, proxy: FaultProxy) -> None:
        """`size` bytes of a JSON array, chunked (no Content-Length), until the client hangs up."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"1," * 32768
        sent = 0
        while sent < fault.size:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def _huge_declared(self, fault: Misbehave, proxy: FaultProxy) -> None:
        """Declare `size` bytes; send only the first 64 KiB (a client should refuse from the header)."""
        self._send(200, b" " * 65536, "application/json", length=fault.size)
        self.close_connection = True

    def _trickle(self, fault: Misbehave, proxy: FaultProxy) -> None:
        """The real body one byte every `delay` seconds, for at most `hold` seconds, then hang up."""
        status, ctype, body = proxy._forward(self)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        deadline = time.monotonic() + fault.hold
        for i in range(len(body)):
            if time.monotonic() > deadline:
                break
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()
            time.sleep(fault.delay)
        self.close_connection = True

    def _echo(self, fault: Misbehave, proxy: FaultProxy) -> None:
        """Refuse with `status`, echoing the request (headers and body) in the error, as some
        misconfigured or debugging servers do: whatever the client sent comes back as error text."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY)).decode("utf-8", "replace") if length else ""
        auth = self.headers.get("Authorization", "")
        sent = " ".join(f"{k}: {v}" for k, v in self.headers.items())
        answer = {"error": {"detail": f"invalid credentials {auth} {body}".strip()},
                  "errors": [{"message": f"invalid credentials {auth} {body}".strip()}],
                  "request": {"method": self.command, "path": self.path, "headers": sent, "body": body}}
        self._send(fault.status, json.dumps(answer).encode(), "application/json")

    def log_message(self, fmt: str, *args) -> None:
        pass


class FakeSMTP:
    """A loopback SMTP server that refuses every login, echoing what it was sent (`echo=True`), or
    accepts everything. Enough of ESMTP for smtplib: EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, QUIT."""

    def __init__(self, echo: bool = True):
        self.echo = echo
        self.received: list[str] = []
        self.server = socketserver.ThreadingTCPServer((LOOPBACK, 0), _SMTPHandler)
        self.server.daemon_threads = True
        self.server.smtp = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def __enter__(self) -> "FakeSMTP":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _SMTPHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def line(self) -> str:
        text = self.rfile.readline(65536).decode("utf-8", "replace").rstrip("\r\n")
        self.server.smtp.received.append(text)  # type: ignore[attr-defined]
        return text

    def refuse(self, sent: str) -> None:
        echo = f": {sent}" if self.server.smtp.echo else ""  # type: ignore[attr-defined]
        self.reply(f"535 5.7.8 Authentication credentials invalid{echo}")

    def handle(self) -> None:
        self.reply("220 localhost ESMTP fake")
        while True:
            command = self.line()
            verb = command.split(" ", 1)[0].upper()
            if not command or verb == "QUIT":
                self.reply("221 bye")
                return
            if verb in ("EHLO", "HELO"):
                self.reply("250-localhost")
                self.reply("250 AUTH PLAIN LOGIN")
            elif verb == "AUTH" and command.upper().startswith("AUTH LOGIN"):
                self.reply("334 UGFzc3dvcmQ6")
                self.refuse(f"{command} {self.line()}")
            elif verb == "AUTH":
                self.refuse(command)
            elif verb == "DATA":
                self.reply("354 go on")
                while self.line() not in (".", ""):
                    pass
                self.reply("250 queued")
            else:
                self.reply("250 OK")
