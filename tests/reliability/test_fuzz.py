"""Property tests for every parser of outside data: whatever a feed, a file or a server sends,
the only acceptable outcomes are a parsed result (in the frame contract, and writable to the store)
or the project's own error (a MonitorError) with a one-line message. Never another exception.

The number of cases per parser comes from the hypothesis profile chosen by $MONITOR_FUZZ_PROFILE
(`ci`: a few hundred, the default; `full`: a few thousand, run by benchmarks/reliability.py).
By default the first unexpected exception fails the test (hypothesis then shrinks it to a small
case). With MONITOR_FUZZ_SURVEY=1 every case runs and each test fails at the end listing the
distinct unexpected exceptions it met, so a full run counts them all.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import signal
import traceback
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest
from fuzz_strategies import (ACLED, ATLAS_LOG, ATLAS_PROBES, CLOUDFLARE, CURATED_ROWS, IODA_ALERTS, IODA_EVENTS,
                             IODA_OUTAGE_ROWS, IODA_SIGNALS, KEYS, RIPESTAT, STOP_ROWS, TIDY_ROWS, atlas_log,
                             config_dict, csv_text, ics_text, ioda_records, ioda_signals, mutated,
                             nested_text, payloads, text_or, toml_text, yaml_text)
from hypothesis import assume, example, given
from hypothesis import strategies as st
from reliability_support import fuzz_settings

from monitor.cli._output import print_frame
from monitor.config import load_config, parse_config
from monitor.errors import MonitorError
from monitor.events import acled, curated, ical, ioda_outages, stop
from monitor.events.importer import _parse_acled
from monitor.events.model import validate_events
from monitor.http import HttpClient, _Body
from monitor.frames import EVENT_COLUMNS, OUTAGE_COLUMNS, PROBE_EVENT_COLUMNS, SIGNAL_COLUMNS
from monitor.sources import cloudflare_radar, ioda, ripe_atlas, ripestat
from monitor.store import open_store
from monitor.tidy import read_tidy_csv

pytestmark = pytest.mark.reliability

FUZZ = fuzz_settings()
SURVEY = os.environ.get("MONITOR_FUZZ_SURVEY") == "1"
CASE_SECONDS = 20  # one case taking longer than this is a failure (a hang), not a wait
WINDOW = (pd.Timestamp("2000-01-01", tz="UTC"), pd.Timestamp("2030-01-01", tz="UTC"))
# Small calendar budgets keep each case short; the bounds are the same code at any size.
ICS_LIMITS = ical.IcsLimits(ics_max_occurrences=500, ics_max_expand_seconds=0.3)
URL = "http://127.0.0.1:9/fuzz"


class _TooSlow(Exception):
    pass


class _RollBack(Exception):
    pass


class Tally:
    """Cases run per parser, and the distinct unexpected exceptions (type and where raised)."""

    def __init__(self, store):
        self.store = store
        self.cases: Counter = Counter()
        self.unexpected: dict[str, set[str]] = defaultdict(set)

    def run(self, parser: str, fn, *args, **kwargs):
        """fn(*args) -> its result, or None when it raised a MonitorError with a one-line message."""
        self.cases[parser] += 1
        return self.follow(parser, fn, *args, **kwargs)

    def follow(self, parser: str, fn, *args, **kwargs):
        """Like run, for a later step of the same case (contract check, store write)."""
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(CASE_SECONDS)
        try:
            return fn(*args, **kwargs)
        except MonitorError as exc:
            message = str(exc)
            if "\n" in message or not message.strip():
                self._unexpected(parser, exc, f"{type(exc).__name__} message is not one line")
                if not SURVEY:
                    raise AssertionError(f"{parser}: error message is not one line: {message!r}") from exc
            return None
        except Exception as exc:
            self._unexpected(parser, exc, f"{type(exc).__name__}: {str(exc)[:100]}")
            if not SURVEY:
                raise
            return None
        finally:
            signal.alarm(0)

    def verdict(self, parser: str) -> None:
        found = sorted(self.unexpected.get(parser, ()))
        assert not found, f"{parser}: {len(found)} unexpected exception(s): " + "; ".join(found)

    def _unexpected(self, parser: str, exc: BaseException, what: str) -> None:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/monitor/" in f.filename]
        at = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        self.unexpected[parser].add(f"{what.splitlines()[0] if what else ''} at {at}")

    # -- follow-up checks on a parsed result ---------------------------------------------------
    def frame(self, parser: str, df: pd.DataFrame, columns: list[str], table: str) -> None:
        """The frame keeps its contract and the store takes it (in a transaction rolled back)."""
        self.follow(parser, _contract, df, columns)
        self.follow(parser, self._write, table, df)

    def events(self, parser: str, result) -> None:
        self.follow(parser, _one_line_skips, result.skipped)
        self.follow(parser, validate_events, result.events, "fuzz")
        self.follow(parser, _terminal_and_csv_safe, result.events)
        self.frame(parser, result.events, EVENT_COLUMNS, "events")

    def _write(self, table: str, df: pd.DataFrame) -> None:
        try:
            with self.store.transaction() as tx:
                getattr(tx, f"write_{table}")(df)
                raise _RollBack
        except _RollBack:
            pass


def _alarm(signum, frame):
    raise _TooSlow(f"one case took over {CASE_SECONDS} s")


def _unsafe_characters(text: str) -> list[str]:
    """Characters a terminal acts on: controls (tab and newline aside) and format characters
    (bidi overrides), joiners aside."""
    return [f"U+{ord(c):04X}" for c in text if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf")
            and c not in "\u200c\u200d"]


def _one_line_skips(skipped) -> None:
    for item in skipped:
        assert "\n" not in str(item), f"a skipped-row report is not one line: {str(item)!r}"
        assert not _unsafe_characters(str(item)), f"a skipped-row report drives the terminal: {str(item)!r}"


def _terminal_and_csv_safe(events: pd.DataFrame) -> None:
    """Events printed as a table, CSV and JSON (as `events list` does): nothing a terminal acts on,
    and no CSV cell a spreadsheet would evaluate as a formula."""
    for fmt in ("table", "csv", "json"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            print_frame(events, fmt)
        shown = out.getvalue()
        assert not _unsafe_characters(shown), f"{fmt} output holds {_unsafe_characters(shown)[:5]}"
        if fmt == "csv":
            for row in csv.reader(io.StringIO(shown)):
                for cell in row:
                    assert cell.lstrip(" ")[:1] not in ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d",
                                                        "\uff20"), f"CSV cell {cell[:40]!r} may be read as a formula"


def fuzz(tally: Tally, parser: str, strategy, body, known: tuple = ()) -> None:
    """Run `body(*case)` over `strategy`'s cases (and the `known` ones, always: cases that once broke
    a parser), then fail if any case met an unexpected exception."""
    def run(case):
        body(*case)
    for case in known:
        run = example(case)(run)
    FUZZ(given(strategy)(run))()
    tally.verdict(parser)


def _contract(df: pd.DataFrame, columns: list[str]) -> None:
    assert list(df.columns) == columns, f"columns {list(df.columns)} != {columns}"
    for col in set(columns) & {"time", "start", "end"}:
        assert isinstance(df[col].dtype, pd.DatetimeTZDtype) and str(df[col].dt.tz) == "UTC", (col, df[col].dtype)


@pytest.fixture(scope="module")
def tally(tmp_path_factory, figures):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/fuzz.db")
    t = Tally(store)
    yield t
    store.close()
    profile = os.environ.get("MONITOR_FUZZ_PROFILE", "ci")
    for parser in sorted(t.cases):
        found = sorted(t.unexpected.get(parser, ()))
        figures.add(kind="fuzz", parser=parser, cases=t.cases[parser], unexpected=len(found), profile=profile,
                    detail="; ".join(found))


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("config")


# -- connectivity payloads ------------------------------------------------------------------------
def test_ioda_signals(tally):
    def body(payload):
        df = tally.run("ioda signals", ioda.parse_signals, payload, URL)
        if df is not None:
            tally.frame("ioda signals", df, SIGNAL_COLUMNS, "signals")
    huge_from = {"data": [[{"entityType": "country", "entityCode": "IR", "datasource": "bgp", "from": 2**63,
                            "until": 2**63 + 300, "step": 300, "values": [1]}]]}
    huge_step = {"data": [[{"entityType": "country", "entityCode": "IR", "datasource": "bgp", "from": 0,
                            "until": 0, "step": 2**70, "values": []}]]}  # found by the full profile
    fuzz(tally, "ioda signals", st.tuples(payloads(IODA_SIGNALS, KEYS, ioda_signals())), body,
         known=[(huge_from,), (huge_step,)])


def test_ioda_events(tally):
    def body(payload, until):
        df = tally.run("ioda events", ioda.parse_events, payload, until=until, url=URL)
        if df is not None:
            tally.frame("ioda events", df, OUTAGE_COLUMNS, "outages")
    fuzz(tally, "ioda events", st.tuples(
        st.one_of(payloads(IODA_EVENTS, KEYS, ioda_records()), payloads(IODA_ALERTS, KEYS)),
        st.sampled_from([None, pd.Timestamp("2019-11-17", tz="UTC")])), body)


def test_ioda_alerts(tally):
    def body(payload):
        df = tally.run("ioda alerts", ioda.parse_alerts, payload, url=URL)
        if df is not None:
            tally.frame("ioda alerts", df, OUTAGE_COLUMNS, "outages")
    fuzz(tally, "ioda alerts", st.tuples(
        st.one_of(payloads(IODA_ALERTS, KEYS, ioda_records()), payloads(IODA_EVENTS, KEYS))), body)


def test_ripe_atlas_probes(tally):
    def body(payload):
        probes = tally.run("ripe-atlas probes", ripe_atlas.parse_probes, payload, URL)
        if probes is not None:
            assert all(isinstance(p.id, int) and not isinstance(p.id, bool) for p in probes)
    fuzz(tally, "ripe-atlas probes", st.tuples(payloads(ATLAS_PROBES, KEYS)), body)


def test_ripe_atlas_connection_log(tally):
    def body(payload, asns):
        df = tally.run("ripe-atlas connection log", ripe_atlas.parse_connection_log, payload, "country/KE", asns, URL)
        if df is not None:
            tally.frame("ripe-atlas connection log", df, PROBE_EVENT_COLUMNS, "probe_events")
    fuzz(tally, "ripe-atlas connection log", st.tuples(
        payloads(ATLAS_LOG, KEYS, atlas_log()),
        st.dictionaries(st.integers(0, 30000), st.one_of(st.none(), st.integers(0, 2**32)), max_size=3)), body,
        known=[([{"prb_id": 10**20, "timestamp": 1_400_000_000, "event": "connect", "asn": None}], {}),
               ([{"prb_id": 1, "timestamp": 1_400_000_000, "event": "connect", "asn": "9" * 25}], {})])


def _ripestat_span_ok(payload) -> bool:
    """Leave out timelines longer than a month: their unbounded expansion is a known problem with
    its own test (test_security.py::test_ripestat_timeline_expansion_is_bounded)."""
    try:
        for stat in payload["data"]["stats"]:
            for span in stat["timeline"]:
                days = (pd.Timestamp(span["endtime"]) - pd.Timestamp(span["starttime"])).days
                if days > 31:
                    return False
    except Exception:  # noqa: BLE001 - any shape the parser must itself refuse
        return True
    return True


def test_ripestat(tally):
    def body(payload, resolution):
        assume(_ripestat_span_ok(payload))
        df = tally.run("ripestat", ripestat.parse_resource_stats, payload, "country/IR", resolution, URL)
        if df is not None:
            tally.frame("ripestat", df, SIGNAL_COLUMNS, "signals")
    fuzz(tally, "ripestat", st.tuples(payloads(RIPESTAT, KEYS), st.sampled_from(["1h", "1d", "5m", "1w", "2h", ""])),
         body, known=[({"status": "error", "messages": 5}, "1h")])


def test_cloudflare_radar(tally):
    def body(payload, entity):
        df = tally.run("cloudflare radar", cloudflare_radar.parse_annotations, payload, entity, URL)
        if df is not None:
            tally.frame("cloudflare radar", df, OUTAGE_COLUMNS, "outages")
    fuzz(tally, "cloudflare radar", st.tuples(payloads(CLOUDFLARE, KEYS), st.sampled_from(["country/IR", "asn/44244"])),
         body)


# -- calendars and event lists ------------------------------------------------------------------
def test_icalendar(tally):
    def body(text, country, kind, strict):
        result = tally.run("icalendar", ical.parse_ics, text, source="fuzz", where="fuzz.ics", window=WINDOW,
                           country=country, kind=kind, strict=strict, limits=ICS_LIMITS)
        if result is not None:
            tally.events("icalendar", result)
    fuzz(tally, "icalendar", st.tuples(text_or(ics_text()), st.sampled_from([None, "TJ", "Atlantis"]),
                                       st.sampled_from([None, "election", "party"]), st.booleans()), body,
         known=[(_vevent("DTSTART"), None, None, False),
                (_vevent("DTSTART:20200920T100000Z", "DTSTART:20200921T100000Z"), "TJ", None, False),
                (_vevent("DTSTART:20200920T100000Z", "DTEND:20200920T110000Z", "DTEND:20200920T120000Z"), "TJ", None,
                 True),
                (_vevent("DTSTART:20200920T100000Z", "RRULE:FREQ=DAILY;COUNT=3", "RECURRENCE-ID:20200920T100000Z",
                         "RECURRENCE-ID:20200921T100000Z"), "TJ", None, False),
                (_vevent("DTSTART:20200920T100000Z", "RRULE:COUNT=3"), "TJ", None, False),  # no FREQ: full profile
                (_vevent("DTSTART:20200920T100000Z", "BEGIN:VEVENT", "UID:b", "END:VEVENT"), "TJ", None, False)])


def _vevent(*lines: str) -> str:
    """A one-event calendar with these property lines."""
    return "\r\n".join(["BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:a", *lines, "END:VEVENT", "END:VCALENDAR", ""])


def test_curated_csv(tally):
    def body(text, country, strict):
        result = tally.run("curated csv", curated.parse_csv, text, source="fuzz", where="fuzz.csv", country=country,
                           strict=strict)
        if result is not None:
            tally.events("curated csv", result)
    fuzz(tally, "curated csv", st.tuples(text_or(csv_text(CURATED_ROWS)), st.sampled_from([None, "IR", "Atlantis"]),
                                         st.booleans()), body,
         known=[("\r0", None, False), ("country,start,end,kind,title,url\nIR,2019-11-16,,protest,\"" + "x" * 140_000
                                       + "\",\n", None, False)])


def test_curated_yaml(tally):
    def body(text, strict):
        result = tally.run("curated yaml", curated.parse_yaml, text, source="fuzz", where="fuzz.yaml", strict=strict)
        if result is not None:
            tally.events("curated yaml", result)
    fuzz(tally, "curated yaml", st.tuples(text_or(yaml_text()), st.booleans()), body, known=[("\x08", True)])


def test_stop(tally):
    def body(text, country, strict):
        result = tally.run("stop list", stop.parse_stop, text, where="fuzz.csv", country=country, strict=strict)
        if result is not None:
            tally.events("stop list", result)
    fuzz(tally, "stop list", st.tuples(text_or(csv_text(STOP_ROWS)), st.sampled_from([None, "IR", "Iran"]),
                                       st.booleans()), body,
         known=[("\rstart_date", None, False), (",".join(STOP_ROWS[0]) + "\n\"" + "x" * 140_000 + "\"\n", None, False)])


def test_ioda_outage_list(tally):
    def body(text, country, strict):
        result = tally.run("ioda outage list", ioda_outages.parse_ioda_outages, text, where="fuzz.csv",
                           country=country, strict=strict)
        if result is not None:
            tally.events("ioda outage list", result)
    fuzz(tally, "ioda outage list", st.tuples(text_or(csv_text(IODA_OUTAGE_ROWS)), st.sampled_from([None, "BD"]),
                                              st.booleans()), body, known=[("\rID", None, False)])


def _acled_events(payload, strict):
    return acled.parse_acled(acled.records_from_payload(payload, "fuzz.json"), where="fuzz.json", strict=strict)


def test_acled(tally):
    def body(payload, strict):
        result = tally.run("acled", _acled_events, payload, strict)
        if result is not None:
            tally.events("acled", result)
    fuzz(tally, "acled", st.tuples(st.one_of(payloads(ACLED, KEYS), mutated(ACLED["data"], KEYS)), st.booleans()),
         body, known=[([None], False), ({"data": [None, 5, "x"]}, False),
                      ({"data": [{"event_id_cnty": "X1", "event_date": "2019-11-16", "iso": 364, "admin1": 2**64}]},
                       False)])


# -- nesting at every parser of outside data (issue 19) ---------------------------------------------
_JSON_PARSERS = {
    "ioda signals": lambda doc: ioda.parse_signals(doc, URL),
    "ripe-atlas probes": lambda doc: ripe_atlas.parse_probes(doc, URL),
    "cloudflare radar": lambda doc: cloudflare_radar.parse_annotations(doc, "country/IR", URL),
    "acled": lambda doc: _acled_events(doc, False),
}


def _decode_then_parse(parser: str, body: str):
    """As a collector does: the answer decoded by HttpClient's rules (load_json), then parsed."""
    client = HttpClient("fuzz")
    try:
        doc = client._decode_json(_Body(URL, 200, body.encode(), None))
    finally:
        client.close()
    return _JSON_PARSERS[parser](doc)


def _acled_file(body: str, tmp: Path):
    path = tmp / "nested.json"
    path.write_text(body, encoding="utf-8")
    return _parse_acled(str(path), None, name="acled", country=None, window=(None, None), strict=False, env={})


def test_nested_documents(tally, tmp_path_factory):
    """Documents nested far past any real payload, at each parser that reads JSON or YAML: a
    one-line error (or a parse of a shallow one), never a RecursionError."""
    tmp = tmp_path_factory.mktemp("nested")

    def body(text, target):
        if target in _JSON_PARSERS:
            tally.run("nested documents", _decode_then_parse, target, text)
        elif target == "acled file":
            tally.run("nested documents", _acled_file, text, tmp)
        else:
            tally.run("nested documents", curated.parse_yaml, text, source="fuzz", where="fuzz.yaml")
    fuzz(tally, "nested documents", st.tuples(nested_text(), st.sampled_from(
        sorted(_JSON_PARSERS) + ["acled file", "curated yaml"])), body,
         known=[("[" * 100_000 + "]" * 100_000, "ioda signals"), ("- " * 100_000 + "x\n", "curated yaml"),
                ('{"data":' * 50_000 + "1" + "}" * 50_000, "acled file")])


# -- the tidy signal CSV and the config file ----------------------------------------------------------
def test_tidy_csv(tally):
    def body(text, entity, strict):
        parsed = tally.run("tidy signal csv", read_tidy_csv, io.StringIO(text), "fuzz.csv", entity=entity,
                           strict=strict)
        if parsed is not None:
            frame, bad = parsed
            tally.follow("tidy signal csv", _one_line_skips, [reason for _, reason in bad])
            tally.frame("tidy signal csv", frame, SIGNAL_COLUMNS, "signals")
    fuzz(tally, "tidy signal csv", st.tuples(text_or(csv_text(TIDY_ROWS)), st.sampled_from([None, "country/IR", "bad"]),
                                             st.booleans()), body)


def test_config_mapping(tally):
    def body(doc):
        tally.run("config (parsed TOML)", parse_config, doc, Path("fuzz.toml"))
    fuzz(tally, "config (parsed TOML)", st.tuples(config_dict()), body)


def test_config_file(tally, config_dir):
    def body(text):
        path = config_dir / "monitor.toml"
        path.write_text(text, encoding="utf-8")
        tally.run("config file", load_config, path)
    cut = config_dict().map(toml_text).flatmap(lambda t: st.integers(0, len(t)).map(lambda i: t[:i]))
    fuzz(tally, "config file", st.tuples(st.one_of(config_dict().map(toml_text), cut, st.text(max_size=200))), body)
