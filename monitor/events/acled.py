"""ACLED protests and riots -> `protest` events (all-day: ACLED dates are local calendar days).

API (see /work/shared/docs/sources.md): an OAuth password grant at `<base>/oauth/token` with the
account's email and password (env ACLED_EMAIL, ACLED_PASSWORD), then `<base>/api/acled/read` with
`Authorization: Bearer <token>`, one query per event type (Protests, Riots), paged with
`limit`/`page`. Countries are queried by ISO 3166 numeric code (`iso`), which avoids ACLED's own
spelling of country names. Fetching and parsing are separate: `parse_acled` is pure.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote, quote_plus

import pycountry

from monitor.errors import ConfigError, InputError, ParseError, SourceError
from monitor.events.countries import country_code, country_timezone
from monitor.events.model import (ParseResult, RowError, collect, events_frame, field_value, local_days,
                                  raw_json)
from monitor.http import HttpClient
from monitor.text import remember_secret

SOURCE = "acled"
BASE_URL = "https://acleddata.com"
TOKEN_PATH = "/oauth/token"
READ_PATH = "/api/acled/read"
EVENT_TYPES = ("Protests", "Riots")


@dataclass(frozen=True)
class AcledQuery:
    """What to fetch: one country, dates inclusive, and how to page."""

    country: str
    first: dt.date
    last: dt.date
    base_url: str = BASE_URL
    page_size: int = 5000
    max_pages: int = 100


@dataclass(frozen=True)
class Credentials:
    """An ACLED account (never logged, never stored)."""

    email: str
    password: str = ""

    def __repr__(self) -> str:
        return f"Credentials(email={self.email!r}, password=***)"


def credentials_from_env(env: Mapping[str, str] | None = None) -> Credentials:
    """ACLED_EMAIL and ACLED_PASSWORD from the environment; ConfigError naming what is missing."""
    env = os.environ if env is None else env
    missing = [name for name in ("ACLED_EMAIL", "ACLED_PASSWORD") if not env.get(name, "").strip()]
    if missing:
        raise ConfigError(f"ACLED needs an account: set {' and '.join(missing)} in the environment "
                          "(register at acleddata.com and ask for API access)")
    remember_secret(env["ACLED_PASSWORD"])  # masked in every message built from now on
    return Credentials(env["ACLED_EMAIL"].strip(), env["ACLED_PASSWORD"])


def fetch_acled(client: HttpClient, query: AcledQuery, credentials: Credentials) -> list[dict]:
    """All protest and riot records of one country in [first, last], as ACLED returns them."""
    base = query.base_url.rstrip("/")
    headers = {"Authorization": f"Bearer {_token(client, base, credentials)}"}
    numeric = pycountry.countries.get(alpha_2=country_code(query.country)).numeric
    records: list[dict] = []
    for event_type in EVENT_TYPES:
        for page in range(1, query.max_pages + 1):
            params = {"_format": "json", "iso": int(numeric), "event_type": event_type,
                      "event_date": f"{query.first.isoformat()}|{query.last.isoformat()}",
                      "event_date_where": "BETWEEN", "limit": query.page_size, "page": page}
            data = _data(client.get_json(base + READ_PATH, params=params, headers=headers), base + READ_PATH)
            records.extend(data)
            if len(data) < query.page_size:
                break
        else:
            raise SourceError(SOURCE, f"more than {query.max_pages} pages of {event_type}; narrow the date range",
                              base + READ_PATH)
    return records


def _token(client: HttpClient, base: str, credentials: Credentials) -> str:
    form = {"username": credentials.email, "password": credentials.password, "grant_type": "password",
            "client_id": "acled", "scope": "authenticated"}
    try:
        answer = client.post_form(base + TOKEN_PATH, form)
    except SourceError as exc:  # a server may echo the login form in its error text
        raise _without_password(exc, credentials.password) from None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise SourceError(SOURCE, "token answer has no access_token", base + TOKEN_PATH)
    return token


def _without_password(exc: SourceError, password: str) -> SourceError:
    """The same error with the password (plain or form-encoded) replaced by ***."""
    text = str(exc)
    for secret in {password, quote_plus(password), quote(password)} - {""}:
        text = text.replace(secret, "***")
    prefix = f"{exc.source}: "
    suffix = (f" HTTP {exc.status}" if exc.status is not None else "") + (f" at {exc.url}" if exc.url else "")
    core = text[len(prefix):] if text.startswith(prefix) else text
    core = core[:-len(suffix)] if suffix and core.endswith(suffix) else core
    return SourceError(exc.source, core, exc.url, exc.status)


def _data(payload: Any, url: str) -> list[dict]:
    """The `data` list of a read answer; SourceError when ACLED reports failure or the shape is wrong."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise SourceError(SOURCE, "answer has no 'data' list", url)
    if payload.get("success") is False:
        message = payload.get("error") or payload.get("message") or "success: false"
        raise SourceError(SOURCE, f"request refused ({' '.join(str(message).split())[:160]})", url,
                          payload.get("status") if isinstance(payload.get("status"), int) else None)
    return payload["data"]


def records_from_payload(payload: Any, where: str) -> list[dict]:
    """Records from a saved answer: one read answer, a list of answers (pages), or a bare record list."""
    answers = payload if isinstance(payload, list) and payload and all(
        isinstance(p, dict) and "data" in p for p in payload) else [payload]
    if isinstance(payload, list) and answers is not payload:
        return payload
    try:
        return [record for answer in answers for record in _data(answer, where)]
    except SourceError as exc:
        raise ParseError("not an ACLED answer: no 'data' list, or success is false", where) from exc


def parse_acled(records: list[dict], *, where: str, source: str = SOURCE, strict: bool = False) -> ParseResult:
    """One all-day `protest` event per ACLED record, on its local date in its country."""
    numbered = (((record.get("event_id_cnty") if isinstance(record, dict) else None) or n, record)
                for n, record in enumerate(records, start=1))
    events, skipped, count = collect(numbered, lambda r: [_event(r, source)], where, strict, unit="record")
    return ParseResult(events_frame(events), count, skipped)


def _event(rec: dict, source: str) -> dict:
    if not isinstance(rec, dict):
        raise RowError("*", rec, "not a record (JSON object)")
    uid = str(rec.get("event_id_cnty") or "").strip()
    if not uid:
        raise RowError("event_id_cnty", "", "missing")
    iso = str(rec.get("iso") or "").strip()
    cc = field_value("iso" if iso else "country", iso or str(rec.get("country") or ""), country_code)
    day = field_value("event_date", str(rec.get("event_date") or ""), _date)
    start, end = local_days(day, day, country_timezone(cc))
    what = rec.get("sub_event_type") or rec.get("event_type") or "Protest"
    place = ", ".join(str(p) for p in (rec.get("location"), rec.get("admin1")) if p)
    region = str(rec["admin1"]).strip() if rec.get("admin1") not in (None, "") else None
    return {"uid": uid, "source": source, "kind": "protest", "country": cc, "region": region,
            "start": start, "end": end, "all_day": True, "title": f"{what}: {place}" if place else str(what),
            "url": None, "description": _description(rec), "raw": raw_json(rec)}


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InputError("not a date (YYYY-MM-DD)") from exc


def _description(rec: dict) -> str:
    actors = " vs ".join(str(a) for a in (rec.get("actor1"), rec.get("actor2")) if a)
    parts = [f"ACLED {rec.get('event_type', '')}: {rec.get('sub_event_type', '')}".rstrip(": ")]
    if actors:
        parts.append(f"actors: {actors}")
    if str(rec.get("fatalities", "")).strip() not in ("", "0"):
        parts.append(f"fatalities: {rec['fatalities']}")
    if rec.get("notes"):
        parts.append(str(rec["notes"]))
    if rec.get("source"):
        parts.append(f"sources: {rec['source']}")
    return "; ".join(parts)
