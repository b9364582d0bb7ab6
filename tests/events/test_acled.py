"""ACLED over a real local HTTP server: the OAuth password grant, paging, parsing, and failures."""

import datetime as dt
import json
from pathlib import Path
from urllib.parse import parse_qs

import pandas as pd
import pytest

from monitor.errors import ConfigError, ParseError, SourceError
from monitor.events.acled import (AcledQuery, Credentials, credentials_from_env, fetch_acled, parse_acled,
                                  records_from_payload)
from monitor.http import HttpClient

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
CREDS = Credentials("researcher@example.org", "s3cret")
T = pd.Timestamp


def _load(name):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def client():
    with HttpClient(source="acled", retries=0, timeout=5) as c:
        yield c


def _serve(httpserver, page_size=2):
    """Token endpoint, two pages of protests, one page of riots: the shape of ACLED's answers."""
    httpserver.expect_ordered_request("/oauth/token", method="POST").respond_with_json(_load("acled_token.json"))
    common = {"_format": "json", "iso": "762", "event_date": "2020-09-01|2020-10-31",
              "event_date_where": "BETWEEN", "limit": str(page_size)}
    auth = {"Authorization": "Bearer synthetic-access-token"}
    for event_type, page, fixture in (("Protests", 1, "acled_protests_page1.json"),
                                      ("Protests", 2, "acled_protests_page2.json"),
                                      ("Riots", 1, "acled_riots_page1.json")):
        httpserver.expect_ordered_request(
            "/api/acled/read", method="GET", headers=auth,
            query_string={**common, "event_type": event_type, "page": str(page)}).respond_with_json(_load(fixture))


def test_fetch_pages_through_protests_and_riots(httpserver, client):
    _serve(httpserver)
    query = AcledQuery("TJ", dt.date(2020, 9, 1), dt.date(2020, 10, 31), base_url=httpserver.url_for("/"),
                       page_size=2)
    records = fetch_acled(client, query, CREDS)
    httpserver.check_assertions()
    assert [r["event_id_cnty"] for r in records] == ["TJK9001", "TJK9002", "TJK9003", "TJK9004"]
    token_request = httpserver.log[0][0]
    form = parse_qs(token_request.get_data(as_text=True))
    assert form == {"username": ["researcher@example.org"], "password": ["s3cret"], "grant_type": ["password"],
                    "client_id": ["acled"], "scope": ["authenticated"]}


def test_records_become_all_day_protest_events_on_the_local_day():
    records = records_from_payload([_load("acled_protests_page1.json"), _load("acled_riots_page1.json")], "x.json")
    result = parse_acled(records, where="x.json")
    ev = result.events.set_index("uid")
    assert list(ev.index) == ["TJK9001", "TJK9002", "TJK9004"]
    assert (ev["kind"] == "protest").all() and (ev["country"] == "TJ").all() and ev["all_day"].all()
    assert (ev.loc["TJK9001", "start"], ev.loc["TJK9001", "end"]) == (T("2020-09-15T19:00Z"), T("2020-09-16T19:00Z"))
    assert ev.loc["TJK9002", "region"] == "Gorno-Badakhshan"
    assert ev.loc["TJK9002", "title"] == "Protest with intervention: Khorugh, Gorno-Badakhshan"
    assert "fatalities: 1" in ev.loc["TJK9004", "description"]
    assert json.loads(ev.loc["TJK9004", "raw"])["event_type"] == "Riots"


def test_bad_records_are_skipped_with_their_id():
    result = parse_acled(records_from_payload(_load("acled_bad_rows.json"), "b.json"), where="b.json")
    assert result.events["uid"].tolist() == ["TJK9101"]
    assert [(s.row, s.field, s.unit) for s in result.skipped] == [("TJK9102", "event_date", "record"),
                                                                   ("XKX9103", "country", "record")]
    with pytest.raises(ParseError, match=r"^b.json, record TJK9102: field event_date = '16/09/2020'"):
        parse_acled(records_from_payload(_load("acled_bad_rows.json"), "b.json"), where="b.json", strict=True)


def test_missing_credentials_say_what_is_missing_in_one_line():
    with pytest.raises(ConfigError) as err:
        credentials_from_env({"ACLED_EMAIL": "a@example.org"})
    assert "set ACLED_PASSWORD in the environment" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="set ACLED_EMAIL and ACLED_PASSWORD"):
        credentials_from_env({})
    assert credentials_from_env({"ACLED_EMAIL": "a@b.c", "ACLED_PASSWORD": "p"}) == Credentials("a@b.c", "p")
    assert "p'" not in repr(Credentials("a@b.c", "p"))


def test_refused_access_is_a_source_error(httpserver, client):
    httpserver.expect_request("/oauth/token", method="POST").respond_with_json(_load("acled_token.json"))
    httpserver.expect_request("/api/acled/read").respond_with_json(_load("acled_refused.json"), status=403)
    query = AcledQuery("TJ", dt.date(2020, 9, 1), dt.date(2020, 10, 31), base_url=httpserver.url_for("/"))
    with pytest.raises(SourceError, match="HTTP 403") as err:
        fetch_acled(client, query, CREDS)
    assert "API access is not enabled" in str(err.value)


def test_a_token_answer_without_token_is_a_source_error(httpserver, client):
    httpserver.expect_request("/oauth/token", method="POST").respond_with_json({"error": "invalid_grant"})
    query = AcledQuery("TJ", dt.date(2020, 9, 1), dt.date(2020, 9, 2), base_url=httpserver.url_for("/"))
    with pytest.raises(SourceError, match="no access_token"):
        fetch_acled(client, query, CREDS)


def test_success_false_in_a_200_answer_is_a_source_error(httpserver, client):
    httpserver.expect_request("/oauth/token", method="POST").respond_with_json(_load("acled_token.json"))
    httpserver.expect_request("/api/acled/read").respond_with_json({"success": False, "data": [],
                                                                     "error": "bad query"})
    query = AcledQuery("TJ", dt.date(2020, 9, 1), dt.date(2020, 9, 2), base_url=httpserver.url_for("/"))
    with pytest.raises(SourceError, match="request refused \\(bad query\\)"):
        fetch_acled(client, query, CREDS)


def test_a_server_echoing_the_login_form_does_not_leak_the_password(httpserver, client):
    def echo(request):
        from werkzeug import Response
        return Response(json.dumps({"error": f"invalid credentials {request.get_data(as_text=True)}"}), status=403,
                        content_type="application/json")
    httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(echo)
    query = AcledQuery("TJ", dt.date(2020, 9, 1), dt.date(2020, 9, 2), base_url=httpserver.url_for("/"))
    with pytest.raises(SourceError) as err:
        fetch_acled(client, query, Credentials("a@example.org", "pa ss&wörd"))
    message = str(err.value)
    assert "invalid credentials" in message and "HTTP 403" in message
    assert "pa ss" not in message and "pa+ss" not in message and "***" in message
