"""The shared HTTP client over a real local server (pytest-httpserver): retries, limits, errors."""

from __future__ import annotations

import socket
import threading
import time
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest
from werkzeug import Response

from monitor import __version__
from monitor.errors import SourceError
from monitor.http import HttpClient, redact


class Sleeps(list):
    """A stand-in for time.sleep that records the delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


def client(sleeps, **kwargs) -> HttpClient:
    kwargs.setdefault("retries", 3)
    kwargs.setdefault("backoff", 1.0)
    return HttpClient("test", sleep=sleeps, **kwargs)


def test_get_json_sends_user_agent_and_params(httpserver, sleeps):
    httpserver.expect_request("/v2/x", query_string={"from": "1", "until": "2"}).respond_with_json({"ok": [1, 2]})
    c = client(sleeps)
    assert c.get_json(httpserver.url_for("/v2/x"), {"from": 1, "until": 2}) == {"ok": [1, 2]}
    request = httpserver.log[-1][0]
    assert request.headers["User-Agent"].startswith(f"outage-monitor/{__version__} (")
    assert c.requests == 1 and sleeps == []


def test_429_honours_retry_after_then_succeeds(httpserver, sleeps):
    httpserver.expect_ordered_request("/r").respond_with_data("slow down", status=429, headers={"Retry-After": "7"})
    httpserver.expect_ordered_request("/r").respond_with_json({"n": 1})
    c = client(sleeps, max_wait=60)
    assert c.get_json(httpserver.url_for("/r")) == {"n": 1}
    assert sleeps == [7.0] and c.requests == 2


def test_retry_after_is_capped_and_may_be_an_http_date(httpserver, sleeps):
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    httpserver.expect_ordered_request("/r").respond_with_data("", status=429, headers={"Retry-After": "3600"})
    httpserver.expect_ordered_request("/r").respond_with_data("", status=503, headers={"Retry-After": later})
    httpserver.expect_ordered_request("/r").respond_with_json([])
    assert client(sleeps, max_wait=5).get_json(httpserver.url_for("/r")) == []
    assert sleeps[0] == 5.0            # 3600 s capped
    assert sleeps[1] == 5.0            # ~30 s from the date, capped too
    assert client(Sleeps(), max_wait=60)._retry_delay(0, later) == pytest.approx(30, abs=3)


def test_500_then_success_backs_off_with_jitter(httpserver, sleeps):
    httpserver.expect_ordered_request("/s").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/s").respond_with_data("boom", status=502)
    httpserver.expect_ordered_request("/s").respond_with_json({"fine": True})
    c = client(sleeps, backoff=2.0)
    assert c.get_json(httpserver.url_for("/s")) == {"fine": True}
    assert 1.0 <= sleeps[0] <= 2.0 and 2.0 <= sleeps[1] <= 4.0  # 2 * 2^attempt, half of it jittered


def test_persistent_5xx_is_a_source_error_with_status_and_url(httpserver, sleeps):
    httpserver.expect_request("/down").respond_with_json({"error": "backend exploded"}, status=503)
    c = client(sleeps, retries=2)
    with pytest.raises(SourceError) as info:
        c.get_json(httpserver.url_for("/down"), {"from": 5})
    err = info.value
    assert err.status == 503 and err.source == "test" and "/down?from=5" in err.url
    assert "backend exploded" in str(err) and c.requests == 3 and len(sleeps) == 2


def test_client_errors_are_not_retried_and_keep_the_server_message(httpserver, sleeps):
    httpserver.expect_request("/bad").respond_with_json(
        {"type": "signals", "error": "Time range for a single query must be less than 100 days", "data": None},
        status=400)
    c = client(sleeps)
    with pytest.raises(SourceError, match="less than 100 days") as info:
        c.get_json(httpserver.url_for("/bad"))
    assert info.value.status == 400 and c.requests == 1 and sleeps == []


def test_timeout_is_retried_then_reported(httpserver, sleeps):
    def slow(request):
        time.sleep(0.6)
        return Response("{}", content_type="application/json")
    httpserver.expect_request("/slow").respond_with_handler(slow)
    c = client(sleeps, timeout=0.15, retries=1)
    started = time.monotonic()
    with pytest.raises(SourceError, match="timed out") as info:
        c.get_json(httpserver.url_for("/slow"))
    assert time.monotonic() - started < 2.5  # bounded by the timeout, not by the server
    assert info.value.status is None and "/slow" in info.value.url and c.requests == 2 and len(sleeps) == 1


def test_connection_refused_is_retried_then_reported(sleeps):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = client(sleeps, retries=2, timeout=2)
    with pytest.raises(SourceError, match="connection failed") as info:
        c.get_json(f"http://127.0.0.1:{port}/nothing")
    assert c.requests == 3 and len(sleeps) == 2 and f":{port}/nothing" in info.value.url


def test_a_body_cut_short_is_retried_then_reported_in_plain_words(sleeps):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()

        def serve_half(times: int) -> None:
            for _ in range(times):
                conn, _ = server.accept()
                with conn:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: 100\r\n\r\n" + b'{"data": [' )

        thread = threading.Thread(target=serve_half, args=(2,), daemon=True)
        thread.start()
        c = client(sleeps, retries=1, timeout=2)
        with pytest.raises(SourceError) as info:
            c.get_json(f"http://127.0.0.1:{server.getsockname()[1]}/half")
        thread.join(5)
    assert "body cut short (10 bytes read, 90 more expected) (gave up after 2 attempts)" in str(info.value)
    assert c.requests == 2 and "IncompleteRead" not in str(info.value)


def test_malformed_json_names_the_url(httpserver, sleeps):
    httpserver.expect_request("/broken").respond_with_data('{"data": [1, 2', content_type="application/json")
    with pytest.raises(SourceError, match=r"malformed JSON .*line 1") as info:
        client(sleeps).get_json(httpserver.url_for("/broken"), {"q": "x"})
    assert info.value.url.endswith("/broken?q=x") and info.value.status == 200


def test_response_size_cap_with_and_without_content_length(httpserver, sleeps):
    httpserver.expect_request("/big").respond_with_data("x" * 5000)
    httpserver.expect_request("/stream").respond_with_handler(
        lambda request: Response(iter([b"y" * 1000] * 5), direct_passthrough=True))
    c = client(sleeps, max_bytes=2000)
    with pytest.raises(SourceError, match="response of 5000 bytes exceeds the 2000-byte cap"):
        c.get_text(httpserver.url_for("/big"))
    with pytest.raises(SourceError, match="response exceeds the 2000-byte cap"):  # found while streaming
        c.get_text(httpserver.url_for("/stream"))
    assert client(sleeps, max_bytes=5000).get_text(httpserver.url_for("/big")) == "x" * 5000


def test_min_interval_spaces_requests_to_one_host(httpserver, sleeps):
    httpserver.expect_request("/t").respond_with_json(1)
    c = client(sleeps, min_interval=5.0)
    c.get_json(httpserver.url_for("/t"))
    c.get_json(httpserver.url_for("/t"))
    assert len(sleeps) == 1 and 4.5 < sleeps[0] <= 5.0


def test_get_text_uses_the_declared_charset(httpserver, sleeps):
    httpserver.expect_request("/cal").respond_with_data("Réunion".encode("latin-1"),
                                                        content_type="text/calendar; charset=latin-1")
    httpserver.expect_request("/bom").respond_with_data("\ufeffBEGIN".encode("utf-8"), content_type="text/plain")
    httpserver.expect_request("/junk").respond_with_data(b"\xff\xfe\xfa", content_type="text/plain; charset=utf-8")
    c = client(sleeps)
    assert c.get_text(httpserver.url_for("/cal")) == "Réunion"
    assert c.get_text(httpserver.url_for("/bom")) == "BEGIN"
    with pytest.raises(SourceError, match="not valid utf-8 text"):
        c.get_text(httpserver.url_for("/junk"))


def test_post_form_and_default_headers(httpserver, sleeps):
    httpserver.expect_request("/oauth/token", method="POST", data="username=a%40b.org&grant_type=password",
                              headers={"Authorization": "Key k-1"}).respond_with_json({"access_token": "t"})
    c = HttpClient("acled", headers={"Authorization": "Key k-1"}, sleep=sleeps)
    assert c.post_form(httpserver.url_for("/oauth/token"),
                       {"username": "a@b.org", "grant_type": "password"}) == {"access_token": "t"}


def test_redact_hides_secret_query_values():
    url = "https://api.example.org/read?country=Iran&key=s3cr3t&access_token=abc&limit=5"
    out = redact(url)
    assert "s3cr3t" not in out and "abc" not in out
    assert "country=Iran" in out and "limit=5" in out and "key=%2A%2A%2A" in out


def test_secret_query_values_never_reach_the_error(httpserver, sleeps):
    httpserver.expect_request("/deny").respond_with_json({"detail": "no"}, status=403)
    with pytest.raises(SourceError) as info:
        client(sleeps).get_json(httpserver.url_for("/deny"), {"key": "s3cr3t"})
    assert "s3cr3t" not in str(info.value) and info.value.status == 403


def test_a_body_trickling_in_is_bounded_by_the_timeout(httpserver, sleeps):
    def trickle(request):
        def drip():
            for _ in range(40):
                time.sleep(0.05)
                yield b" "
        return Response(drip(), direct_passthrough=True, content_type="application/json")
    httpserver.expect_request("/drip").respond_with_handler(trickle)
    started = time.monotonic()
    with pytest.raises(SourceError, match="timed out"):
        client(sleeps, timeout=0.3, retries=0).get_json(httpserver.url_for("/drip"))
    assert time.monotonic() - started < 1.5  # not the 2 s the server would hold it


def test_a_retry_after_date_in_the_past_falls_back_to_backoff(sleeps):
    past = format_datetime(datetime.now(timezone.utc) - timedelta(minutes=5), usegmt=True)
    assert 0.5 <= client(sleeps, backoff=1.0)._retry_delay(0, past) <= 1.0
    assert client(sleeps)._retry_delay(0, "0") == 0.0  # an explicit zero is honoured
