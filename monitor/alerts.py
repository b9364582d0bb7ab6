"""Alerts: tell people when a new coincidence is flagged, by webhook (JSON POST) and by e-mail.

Every (channel, coincidence) pair is one delivery, recorded in the store's `deliveries` table with
its message, so a retry sends the same words, a delivered key is never sent again (not even after
a restart), and `outage-monitor status` can show what failed. Delivery runs in the daemon's own
alerts job, never inside collection. Secrets (the SMTP password, a webhook URL's token) come from
the environment and never reach a log line or the store.
"""

from __future__ import annotations

import base64
import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import quote, quote_plus, urlsplit

import pandas as pd

from monitor.errors import ConfigError, SourceError
from monitor.http import HttpClient
from monitor.text import one_line, remember_secret
from monitor.timeutil import iso, now

log = logging.getLogger("monitor.alerts")

PASSWORD_ENV = "MONITOR_SMTP_PASSWORD"
WEBHOOK_ENV = "MONITOR_WEBHOOK_URL"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
WEBHOOK_FORMATS = ("json", "text")


@dataclass(frozen=True)
class AlertParams:
    """The `[alerts]` section: where to send, and how hard to try.

    webhook_url     JSON POST target (Slack, Matrix hookshot, ...); $MONITOR_WEBHOOK_URL overrides
                    it, so a URL carrying a token can stay out of the config file
    webhook_format  "json": the whole alert object (with a `text` line); "text": {"text": ...} only
    smtp_*          SMTP server; the password comes only from $MONITOR_SMTP_PASSWORD
    attempts        tries per delivery before it is marked failed (and left alone)
    backoff         wait after the first failed try, doubled after each further one
    max_age         coincidences whose outage started longer ago are not alerted (a first run
                    over years of history must not send hundreds of messages)
    """

    webhook_url: str | None = None
    webhook_format: str = "json"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_from: str | None = None
    smtp_to: tuple[str, ...] = ()
    attempts: int = 5
    backoff: pd.Timedelta = pd.Timedelta("1min")
    timeout: float = 20.0
    max_age: pd.Timedelta = pd.Timedelta("3D")

    def __post_init__(self):
        if self.webhook_format not in WEBHOOK_FORMATS:
            raise ConfigError(f"webhook_format {self.webhook_format!r}: use one of {', '.join(WEBHOOK_FORMATS)}")
        if self.attempts < 1:
            raise ConfigError(f"attempts {self.attempts}: must be at least 1")
        if self.smtp_host and (not self.smtp_from or not self.smtp_to):
            raise ConfigError("smtp_host is set: smtp_from and smtp_to are needed too")


class _Redactor(logging.Filter):
    """Blanks registered secrets in the HTTP stack's own log records: urllib3 logs every request's
    path at DEBUG, and a webhook's path is its token."""

    def __init__(self):
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, *secrets: str) -> None:
        self.secrets.update(s for s in secrets if len(s) > 1)

    def scrub(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(secret in text for secret in self.secrets):
            record.msg, record.args = self.scrub(text), ()
        return True


_REDACTOR = _Redactor()
logging.getLogger("urllib3.connectionpool").addFilter(_REDACTOR)


class Channel(Protocol):
    """One way of telling people; `send` raises a MonitorError when the message did not go out."""

    name: str

    def send(self, message: dict) -> None: ...


class WebhookChannel:
    """A JSON POST to one URL; any 2xx answer counts as delivered."""

    name = "webhook"

    def __init__(self, url: str, fmt: str = "json", timeout: float = 20.0):
        self.url, self.fmt = url, fmt
        parts = urlsplit(url)
        _REDACTOR.add(parts.path, quote(parts.path), parts.query, quote_plus(parts.query))
        # One try per delivery attempt: the retries are ours, recorded, spread over minutes.
        self.client = HttpClient("webhook", timeout=timeout, retries=0)

    def __repr__(self) -> str:
        return f"WebhookChannel({safe_target(self.url)})"

    def send(self, message: dict) -> None:
        body = message if self.fmt == "json" else {"text": message["text"]}
        try:
            self.client.post_json(self.url, body)
        except SourceError as exc:
            message = _REDACTOR.scrub(_without_url(exc))
            raise SourceError("webhook", message, safe_target(self.url), exc.status) from None


class EmailChannel:
    """A plain-text e-mail through an SMTP server (STARTTLS unless switched off)."""

    name = "email"

    def __init__(self, params: AlertParams, password: str | None):
        self.params, self._password = params, password

    def __repr__(self) -> str:
        return f"EmailChannel({self.params.smtp_host}:{self.params.smtp_port})"

    def send(self, message: dict) -> None:
        p = self.params
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = message["subject"], p.smtp_from, ", ".join(p.smtp_to)
        mail.set_content(message["body"])
        where = f"{p.smtp_host}:{p.smtp_port}"
        try:
            with smtplib.SMTP(p.smtp_host, p.smtp_port, timeout=p.timeout) as smtp:
                if p.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if p.smtp_user:
                    smtp.login(p.smtp_user, self._password or "")
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            # The server's text may echo what was sent, i.e. the encoded password: only the code.
            raise SourceError("email", f"SMTP login refused for {p.smtp_user} (code {exc.smtp_code})",
                              where) from None
        except smtplib.SMTPException as exc:
            # Masked before shortened: an echo straddling the cut must not leave part of the password.
            raise SourceError("email", f"SMTP refused: {one_line(self._scrub(_smtp_reason(exc)), 200)}",
                              where) from None
        except OSError as exc:
            raise SourceError("email", f"cannot reach the SMTP server ({exc.strerror or exc.__class__.__name__})",
                              where) from None


    def _scrub(self, text: str) -> str:
        """The text without the password in any form it travels in (plain, URL-quoted, SMTP base64)."""
        if not self._password:
            return text
        user, raw = (self.params.smtp_user or "").encode(), self._password.encode()
        forms = [self._password, quote_plus(self._password), base64.b64encode(raw).decode(),
                 base64.b64encode(b"\0" + user + b"\0" + raw).decode(),
                 base64.b64encode(user + b"\0" + user + b"\0" + raw).decode()]
        for form in forms:
            text = text.replace(form, "***")
        return text


def channels(params: AlertParams, environ=None) -> list[Channel]:
    """The channels the `[alerts]` section (and the environment) configure; none is fine."""
    env = os.environ if environ is None else environ
    out: list[Channel] = []
    url = env.get(WEBHOOK_ENV) or params.webhook_url
    if url:
        out.append(WebhookChannel(url, params.webhook_format, params.timeout))
    if params.smtp_host:
        password = env.get(PASSWORD_ENV)
        remember_secret(password)  # masked in every message built from now on
        if params.smtp_user and not password:
            raise ConfigError(f"[alerts] smtp_user is set but ${PASSWORD_ENV} is not")
        out.append(EmailChannel(params, password))
    return out


def alert_key(row: dict) -> str:
    """The identity of one coincidence across correlation runs."""
    return f"{row['outage_id']}|{row['event_source']}|{row['event_uid']}|{row['relation']}"


def compose(row: dict) -> dict:
    """The alert for one coincidence: the facts, a one-line `text`, and an e-mail subject and body."""
    minutes = row.get("offset_minutes")
    offset = "" if minutes is None or pd.isna(minutes) else f" ({minutes / 60:+.1f} h from the event's start)"
    end = iso(row["outage_end"]) if row.get("outage_end") is not None and not pd.isna(row["outage_end"]) \
        else "ongoing"
    text = (f"Outage of {row['entity']} from {iso(row['outage_start'])} to {end} {row['relation']} "
            f"{row.get('event_kind') or 'event'} \"{row.get('event_title') or row['event_uid']}\"{offset}")
    facts = {"type": "coincidence", "key": alert_key(row), "outage_id": row["outage_id"],
             "entity": row["entity"], "country": row.get("country"),
             "outage_start": iso(row["outage_start"]), "outage_end": None if end == "ongoing" else end,
             "event_source": row["event_source"], "event_uid": row["event_uid"],
             "event_title": row.get("event_title"), "event_kind": row.get("event_kind"),
             "event_start": iso(row["event_start"]) if not pd.isna(row.get("event_start")) else None,
             "relation": row["relation"],
             "offset_minutes": None if minutes is None or pd.isna(minutes) else float(minutes)}
    body = "\n".join([text, "", *(f"{k}: {v}" for k, v in facts.items() if v is not None), "",
                      "A coincidence in time is not evidence of cause; read the report's significance "
                      "section before quoting it.", "-- outage-monitor"])
    return {**facts, "text": text, "subject": f"[outage-monitor] {row['entity']}: outage {row['relation']} "
            f"{row.get('event_title') or row['event_uid']}", "body": body}


def enqueue(store, coincidences: pd.DataFrame, chans: list[Channel], max_age: pd.Timedelta,
            at: pd.Timestamp | None = None) -> int:
    """Record a pending delivery for every recent coincidence not yet known on each channel."""
    if coincidences.empty or not chans:
        return 0
    at = at or now()
    known = store.read_deliveries(channel=[c.name for c in chans])
    seen = set(zip(known["channel"], known["key"]))
    recent = coincidences[coincidences["outage_start"] >= at - max_age]
    added = 0
    for row in recent.to_dict("records"):
        key = alert_key(row)
        for chan in chans:
            if (chan.name, key) not in seen:
                store.record_delivery(chan.name, key, PENDING, 0, payload=compose(row))
                added += 1
    return added


def deliver(store, chans: list[Channel], params: AlertParams, at: pd.Timestamp | None = None) -> dict:
    """Try every pending delivery whose backoff has passed and record each outcome.

    Returns counts by outcome (delivered, pending = failed but to be retried, failed = gave up,
    waiting = backoff not over) and `errors`, one line per failed attempt.
    """
    at = at or now()
    by_name = {c.name: c for c in chans}
    result: dict = {DELIVERED: 0, PENDING: 0, FAILED: 0, "waiting": 0, "errors": []}
    if not by_name:
        return result
    pending = store.read_deliveries(channel=list(by_name), status=PENDING)
    for row in pending.to_dict("records"):
        if row["attempts"] and at < row["updated"] + params.backoff * 2 ** (row["attempts"] - 1):
            result["waiting"] += 1
            continue
        status, error = _attempt(store, by_name[row["channel"]], row, params)
        result[status] += 1
        if error:
            result["errors"].append(f"{row['channel']} {row['key']}: {error}")
    return result


def _attempt(store, chan: Channel, row: dict, params: AlertParams) -> tuple[str, str | None]:
    attempts = int(row["attempts"]) + 1
    try:
        chan.send(row["payload"])
    except SourceError as exc:
        status = FAILED if attempts >= params.attempts else PENDING
        store.record_delivery(chan.name, row["key"], status, attempts, last_error=str(exc), payload=row["payload"])
        log.warning("alert %s via %s: attempt %d/%d failed: %s", row["key"], chan.name, attempts,
                    params.attempts, exc)
        return status, str(exc)
    store.record_delivery(chan.name, row["key"], DELIVERED, attempts, payload=row["payload"])
    log.info("alert %s delivered via %s (attempt %d)", row["key"], chan.name, attempts)
    return DELIVERED, None


def safe_target(url: str) -> str:
    """scheme://host of a URL: webhook paths often hold the token, so that is all a log may show."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/..."


def _without_url(exc: SourceError) -> str:
    """The error's message minus the source prefix and the URL (which may carry a token)."""
    text = str(exc)
    if exc.url:
        text = text.replace(f" at {exc.url}", "")
    if exc.status is not None:
        text = text.replace(f" HTTP {exc.status}", "")
    return text.removeprefix(f"{exc.source}: ")


def _smtp_reason(exc: smtplib.SMTPException) -> str:
    code = getattr(exc, "smtp_code", None)
    detail = getattr(exc, "smtp_error", b"")
    detail = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    return " ".join(f"{code or ''} {detail}".split()) or exc.__class__.__name__
