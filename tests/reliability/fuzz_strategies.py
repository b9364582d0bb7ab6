"""Hypothesis strategies for the outside data outage-monitor reads.

Three families per format, so generated cases reach deep into each parser instead of being
refused at the first check: (1) mutations of a valid, real-shaped seed (a field replaced by an
odd value, deleted, retyped, a list shortened or repeated), (2) structured records whose fields
take extreme values, (3) arbitrary JSON or text. The CSV seeds are real rows from data/.
"""

from __future__ import annotations

import copy
import csv
import functools
import io
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

DATA = Path(__file__).resolve().parents[2] / "data"

ODD_STRINGS = ["", " ", "0", "-1", "1.5", "1e400", "NaN", "nan", "inf", "-inf", "null", "true", "12",
               "2019-11-17T00:00:00Z", "2019-11-17", "2019-11-17T00:00:00", "2019-02-30", "9999-12-31T23:59:59Z",
               "0001-01-01", "1970-01-01T00:00:00+14:00", "2021-03-28T02:30:00", "-2019-01-01",
               "country/IR", "IR", "asn/12345", "AS12345", "geoasn/IR-1", "region/1", "country/", "/",
               "connect", "disconnect", "ok", "error", "critical", "normal", "warning", "bgp", "ping-slash24",
               "Iran", "Iran (Islamic Republic of)", "Laos; Myanmar", ";", "European Union", "ZZ", "XK",
               "\x00", "\u202e", "\ufeff", "<script>alert(1)</script>", "'; DROP TABLE signals; --",
               "a" * 300, "1" * 40, "\n", "\r\n", '"', ",", "\\", "é", "日本", "\ud7ff",
               "Saturday, November 16, 2019, 2:00:00 PM", "4/15/2020  23:40:00 AM", "1/32/2020",
               "Asia/Tehran", "Mars/Olympus", "../../etc/passwd", "file:///etc/passwd", "javascript:alert(1)",
               # what must not reach a terminal or a spreadsheet as it is (issue 19)
               "\x1b]0;owned\x07", "\x1b[2J\x1b[31mred", "\x9b2J", "bell\x07nul\x00", "\u2066rtl\u2069\u200f",
               "=HYPERLINK(\"http://x\",\"y\")", "@SUM(1)", "+1+1", "-1+cmd|' /C calc'!A0", "\uff1d1"]
ODD_INTS = [0, 1, -1, 300, 600, 7000, 2**31 - 1, 2**31, 2**53 + 1, 2**62, 2**63 - 1, 2**63, -2**63, 2**64,
            10**12, 10**15, 10**20, -10**12, 1464739737, 1573916400]
ODD_FLOATS = [0.0, -0.0, 0.5, -1.5, 1e308, -1e308, 5e-324, float("nan"), float("inf"), float("-inf")]

scalars = st.one_of(
    st.none(), st.booleans(), st.sampled_from(ODD_INTS), st.integers(), st.sampled_from(ODD_FLOATS),
    st.floats(), st.sampled_from(ODD_STRINGS), st.text(max_size=30))


def json_values(keys: list[str]) -> st.SearchStrategy:
    """Arbitrary JSON-like documents whose object keys are often the format's own field names."""
    return _json_values(tuple(keys))


@functools.lru_cache(maxsize=None)
def _json_values(keys: tuple[str, ...]) -> st.SearchStrategy:
    """Built once per key set: building a recursive strategy is what generation time went on."""
    key = st.one_of(st.sampled_from(keys), st.text(max_size=10))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                         st.dictionaries(key, inner, max_size=6)),
                        max_leaves=25)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, prefix + (i,)))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@st.composite
def mutated(draw, seed: Any, keys: list[str], max_mutations: int = 4) -> Any:
    """`seed` with a few random changes: replace, delete, retype, shorten or repeat a node."""
    doc = copy.deepcopy(seed)
    for _ in range(draw(st.integers(0, max_mutations))):
        path = draw(st.sampled_from(_paths(doc)))
        op = draw(st.sampled_from(["replace", "replace", "delete", "retype", "shorten", "repeat", "wrap"]))
        node = _get(doc, path)
        if op == "replace":
            new = draw(_replacement(tuple(keys)))
        elif op == "retype":
            new = json.dumps(node) if not isinstance(node, str) else _number_or(node)
        elif op == "shorten" and isinstance(node, list | str):
            new = node[: draw(st.integers(0, max(0, len(node) - 1)))]
        elif op == "repeat" and isinstance(node, list) and node:
            new = node + [copy.deepcopy(node[-1])] * draw(st.integers(1, 3))
        elif op == "wrap":
            new = [node] if not isinstance(node, list) else {"data": node}
        elif op == "delete" and path:
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
            continue
        else:
            continue
        if not path:
            doc = new
        else:
            _get(doc, path[:-1])[path[-1]] = new
    return doc


@functools.lru_cache(maxsize=None)
def _replacement(keys: tuple[str, ...]) -> st.SearchStrategy:
    return st.one_of(scalars, _json_values(keys))


def _number_or(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return len(text)


def payloads(seed: Any, keys: list[str], *structured: st.SearchStrategy) -> st.SearchStrategy:
    """Mutated seeds (most cases), structured extremes, and arbitrary JSON."""
    return st.one_of(mutated(seed, keys), mutated(seed, keys), *structured, json_values(keys))


# -- seeds: real-shaped payloads (small) -------------------------------------------------------
IODA_SIGNALS = {
    "type": "signals", "error": None, "copyright": "Georgia Tech", "requestParameters": {},
    "data": [[
        {"entityType": "country", "entityCode": "IR", "entityName": "Iran", "entityFqid": "geo.provider.IR",
         "datasource": "ping-slash24", "subtype": "", "from": 1573916400, "until": 1573921800, "step": 600,
         "nativeStep": 600, "values": [14047, 14077, None, 13980, 0, 12, 1.5, 2, 3]},
        {"entityType": "country", "entityCode": "IR", "entityName": "Iran", "entityFqid": "geo.provider.IR",
         "datasource": "bgp", "subtype": "", "from": 1573916400, "until": 1573917900, "step": 300,
         "nativeStep": 300, "values": [46130, 46122, 46120, None, 100]},
    ]]}
IODA_EVENTS = {"type": "outages.events", "error": None, "data": [
    {"location": "country/IR", "start": 1573916400, "duration": 3600, "uncertainty": None, "method": "median",
     "datasource": "bgp", "status": 0, "fraction": None, "score": 12.5, "location_name": "Iran",
     "overlaps_window": False}]}
IODA_ALERTS = {"type": "outages.alerts", "error": None, "data": [
    {"datasource": "bgp", "entity": {"code": "IR", "name": "Iran", "type": "country", "attrs": {}},
     "time": 1573916400, "level": "critical", "condition": "< 0.8", "value": 100, "historyValue": 46000,
     "method": "median"},
    {"datasource": "ping-slash24", "entity": {"code": "IR", "name": "Iran", "type": "country", "attrs": {}},
     "time": 1574000000, "level": "normal", "condition": ">= 0.8", "value": 14000, "historyValue": 14047,
     "method": "median"}]}
ATLAS_PROBES = {"count": 2, "next": None, "previous": None, "results": [
    {"id": 23459, "asn_v4": 15399, "country_code": "KE", "prefix_v4": "196.207.178.0/23",
     "status": {"id": 1, "name": "Connected", "since": "2016-06-07T00:00:00Z"}, "status_since": 1465257600,
     "type": "Probe"},
    {"id": 12, "asn_v4": None, "country_code": "KE", "status": {"id": 2, "name": "Disconnected"},
     "status_since": None, "type": "Probe"}]}
ATLAS_LOG = [
    {"msm_id": 7000, "timestamp": 1464739737, "controller": "ctr-ams15", "asn": "15399",
     "prefix": "196.207.178.0/23", "prb_id": 23459, "type": "connection", "event": "connect"},
    {"msm_id": 7000, "timestamp": 1464743659, "controller": "ctr-ams15", "asn": 15399,
     "prefix": "196.207.178.0/23", "prb_id": 23459, "type": "connection", "event": "disconnect"}]
RIPESTAT = {"status": "ok", "status_code": 200, "messages": [["info", "fine"]], "data": {
    "resource": "IR", "resolution": "1h", "stats": [
        {"stats_date": "2019-11-16T00:00:00", "asns_ris": 500, "v4_prefixes_ris": 3000, "v6_prefixes_ris": 200,
         "asns_stats": 800, "timeline": [{"starttime": "2019-11-16T00:00:00", "endtime": "2019-11-16T05:00:00"}]},
        {"stats_date": "2019-11-16T06:00:00", "asns_ris": 20, "v4_prefixes_ris": 100.5, "v6_prefixes_ris": None,
         "timeline": [{"starttime": "2019-11-16T06:00:00", "endtime": "2019-11-16T08:00:00"}]}]}}
CLOUDFLARE = {"success": True, "errors": [], "messages": [], "result": {"annotations": [
    {"id": "550", "dataSource": "ALL", "description": "Government-directed shutdown", "scope": "Iran",
     "startDate": "2019-11-16T14:00:00Z", "endDate": "2019-11-23T00:00:00Z", "linkedUrl": "https://example.org/a",
     "locations": ["IR"], "asns": [], "eventType": "OUTAGE",
     "outage": {"outageCause": "GOVERNMENT_DIRECTED", "outageType": "NATIONWIDE"}},
    {"id": 7, "startDate": "2019-11-17T00:00:00Z", "endDate": None, "outage": None}]}}
ACLED = {"success": True, "count": 2, "data": [
    {"event_id_cnty": "IRN1234", "event_date": "2019-11-16", "year": "2019", "event_type": "Protests",
     "sub_event_type": "Peaceful protest", "actor1": "Protesters (Iran)", "actor2": "", "admin1": "Tehran",
     "location": "Tehran", "iso": "364", "country": "Iran", "fatalities": "0", "notes": "Fuel price protest.",
     "source": "Iran International"},
    {"event_id_cnty": "IRN1235", "event_date": "2019-11-17", "event_type": "Riots", "sub_event_type": "Mob violence",
     "admin1": "Fars", "location": "Shiraz", "iso": 364, "country": "Iran", "fatalities": 3}]}

KEYS = sorted({k for seed in (IODA_SIGNALS, IODA_EVENTS, IODA_ALERTS, ATLAS_PROBES, RIPESTAT, CLOUDFLARE, ACLED)
               for path in _paths(seed) for k in path if isinstance(k, str)} | set(ATLAS_LOG[0]))

# -- structured extremes ---------------------------------------------------------------------
codes = st.one_of(st.sampled_from(["IR", "KE", "ir", "XX", "12345", "AS1", "IR-1", "", "IRN", "0"]), st.text(max_size=6))
numbers = st.one_of(st.none(), st.sampled_from(ODD_INTS), st.sampled_from(ODD_FLOATS), st.integers(), st.floats(),
                    st.booleans(), st.sampled_from(["12", ""]))


@st.composite
def ioda_signals(draw) -> dict:
    """An envelope of series with extreme from/step/length combinations (mostly self-consistent)."""
    series = []
    for _ in range(draw(st.integers(0, 3))):
        step = draw(st.one_of(st.sampled_from([300, 600, 1800, 1, 0, -300]), st.sampled_from(ODD_INTS)))
        start = draw(st.one_of(st.integers(1_500_000_000, 1_700_000_000), st.sampled_from(ODD_INTS), st.integers()))
        n = draw(st.integers(0, 12))
        values = draw(st.lists(numbers, min_size=n, max_size=n))
        until = start + n * step + draw(st.sampled_from([0, 0, 0, 1, -1, step]))
        series.append({"entityType": draw(st.sampled_from(["country", "asn", "region", "geoasn", "planet", ""])),
                       "entityCode": draw(codes), "datasource": draw(st.sampled_from(
                           ["bgp", "ping-slash24", "merit-nt", "gtr", "", "BGP", "x" * 70, "a b"])),
                       "subtype": draw(st.sampled_from(["", None, "norm", "Ping", "a/b", 3])),
                       "from": start, "until": until, "step": step, "values": values})
    return {"error": draw(st.sampled_from([None, "", "boom"])), "data": [series]}


@st.composite
def ioda_records(draw) -> dict:
    """One events record and one alerts record with extreme times and values."""
    when = draw(st.one_of(st.integers(1_500_000_000, 1_700_000_000), st.sampled_from(ODD_INTS), st.integers()))
    return {"data": [
        {"location": draw(st.sampled_from(["country/IR", "asn/1", "region/1", "IR", "country/ZZ"])), "start": when,
         "duration": draw(st.sampled_from(ODD_INTS)), "datasource": "bgp", "method": "median", "score": draw(numbers)},
        {"level": draw(st.sampled_from(["critical", "warning", "normal", ""])),
         "entity": {"type": draw(st.sampled_from(["country", "asn", "x"])), "code": draw(codes)},
         "datasource": draw(st.sampled_from(["bgp", "gtr", "unknown-ds", ""])), "time": when, "method": "median",
         "value": draw(numbers), "historyValue": draw(numbers)}]}


@st.composite
def atlas_log(draw) -> list:
    return [{"prb_id": draw(st.one_of(st.sampled_from(ODD_INTS), st.integers())),
             "timestamp": draw(st.one_of(st.integers(1_400_000_000, 1_500_000_000), st.sampled_from(ODD_INTS))),
             "event": draw(st.sampled_from(["connect", "disconnect", "Connect", ""])),
             "asn": draw(st.one_of(st.none(), st.sampled_from(ODD_INTS), st.sampled_from(["15399", " 1 ", "AS1", "1" * 25])))}
            for _ in range(draw(st.integers(0, 4)))]


# -- text formats ----------------------------------------------------------------------------
def _rows(path: Path, n: int) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [row for _, row in zip(range(n + 1), csv.reader(fh))]


STOP_ROWS = [[cell[:60] for cell in row] for row in _rows(next((DATA / "accessnow-stop").glob("*.csv")), 6)]
IODA_OUTAGE_ROWS = [[cell[:60] for cell in row[:15]] for row in _rows(next((DATA / "ioda-outages").glob("*.csv")), 6)]
CURATED_ROWS = _rows(DATA / "events" / "starter.csv", 6)
TIDY_ROWS = [["time", "entity", "datasource", "value"], ["2019-11-16T14:00:00Z", "country/IR", "bgp", "46130"],
             ["1573913100", "country/IR", "bgp", ""], ["2019-11-16T14:10:00+03:30", "asn/44244", "ping-slash24", "12.5"]]

cells = st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=20),
                  st.integers(-10**6, 10**12).map(str), st.dates().map(str), st.datetimes().map(lambda d: d.isoformat()))


@st.composite
def csv_text(draw, seed_rows: list[list[str]]) -> str:
    """A CSV from real rows: cells replaced, rows dropped or repeated, columns dropped or swapped,
    then a few raw characters inserted or the text cut short."""
    rows = [list(r) for r in seed_rows]
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(rows) - 1))
        op = draw(st.sampled_from(["cell", "cell", "cell", "drop_row", "repeat_row", "drop_col", "swap_cols"]))
        width = max(len(r) for r in rows)
        j = draw(st.integers(0, max(0, width - 1)))
        if op == "cell" and j < len(rows[i]):
            rows[i][j] = draw(cells)
        elif op == "drop_row" and len(rows) > 1:
            del rows[i]
        elif op == "repeat_row":
            rows.insert(i, list(rows[i]))
        elif op == "drop_col":
            rows = [r[:j] + r[j + 1:] for r in rows]
        elif op == "swap_cols":
            k = draw(st.integers(0, max(0, width - 1)))
            rows = [_swap(r, j, k) for r in rows]
    buf = io.StringIO()
    csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows(rows)
    text = buf.getvalue()
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(['"', ",", "\n", "\x00", "\ufeff", "\r", ";", "é"])) + text[at:]
    if draw(st.booleans()) and draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text


def _swap(row: list, j: int, k: int) -> list:
    row = list(row)
    if j < len(row) and k < len(row):
        row[j], row[k] = row[k], row[j]
    return row


def text_or(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Structured text most of the time, sometimes any text at all."""
    return st.one_of(strategy, strategy, strategy, st.text(max_size=300))


@st.composite
def yaml_text(draw) -> str:
    """A YAML event list from real starter rows with odd values, or YAML-ish trouble."""
    header, *rows = CURATED_ROWS
    items = []
    for row in rows[: draw(st.integers(0, len(rows)))]:
        item = dict(zip(header, row))
        for _ in range(draw(st.integers(0, 3))):
            item[draw(st.sampled_from(header + ["descripton", "__line__", "start"]))] = draw(
                st.one_of(scalars, st.lists(scalars, max_size=2), st.dates(), st.datetimes()))
        items.append(item)
    doc = draw(st.sampled_from(["list", "mapping", "scalar"]))
    body = items if doc == "list" else {"events": items} if doc == "mapping" else draw(scalars)
    text = yaml.safe_dump(body, allow_unicode=True)
    trouble = draw(st.sampled_from(["", "", "", "- !!python/object/apply:os.system ['true']\n", "a: &a [1]\nb: *a\n",
                                    "- {country: IR, start: 2019-11-16, end: 2019-11-16, kind: protest, title: *x}\n",
                                    "---\n- a\n---\n- b\n", "%YAML 9.9\n", "- [\n", "\t- a: 1\n",
                                    "- {country: IR, start: 2019-11-16 10:00:00, end: 2019-11-16 09:00:00, "
                                    "kind: protest, title: t, url: ''}\n"]))
    return text + trouble


ICS_PROPS = {
    "DTSTART": ["20201011", "VALUE=DATE:20201011", "20200920T100000Z", "20200920T100000", "TZID=Asia/Dushanbe:20200902T190000",
                "TZID=Nowhere/City:20200902T190000", "20201301T000000Z", "", "19000101T000000Z", "99991231T235959Z"],
    "DTEND": ["20201012", "VALUE=DATE:20201012", "20200920T120000Z", "20200920T090000Z", "TZID=Asia/Dushanbe:20200902T200000", "x"],
    "DURATION": ["PT1H", "P1D", "-PT1H", "PT0S", "P999999D", "bogus"],
    "RRULE": ["FREQ=WEEKLY;BYDAY=WE;COUNT=5", "FREQ=DAILY;COUNT=3", "FREQ=MONTHLY;UNTIL=20201231T000000Z",
              "FREQ=YEARLY;COUNT=2", "FREQ=DAILY;INTERVAL=0;COUNT=2", "FREQ=NEVER", "COUNT=5", "FREQ=WEEKLY;BYDAY=XX;COUNT=2",
              # amplification (issue 19): many occurrences, and rules that never match
              "FREQ=SECONDLY;COUNT=9999", "FREQ=MINUTELY", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
              "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=31", "FREQ=SECONDLY;BYSETPOS=2"],
    "EXDATE": ["20200916T190000Z", "TZID=Asia/Dushanbe:20200916T190000", "nonsense"],
    "RDATE": ["20200930T100000Z", "VALUE=DATE:20201001"],
    "RECURRENCE-ID": ["20200923T190000Z", "TZID=Asia/Dushanbe:20200923T190000"],
    "X-COUNTRY": ["TJ", "Kyrgyzstan", "ZZ", "", "European Union"],
    "X-KIND": ["exam", "protest", "party"],
    "CATEGORIES": ["election", "country:IR", "kind:coup", "a,b,c", ""],
    "STATUS": ["CANCELLED", "CONFIRMED", "TENTATIVE"],
    "SUMMARY": ["Election <script>", "", "x" * 200],
    "UID": ["a@example.org", "", "a@example.org"],
    "X-WR-TIMEZONE": ["Asia/Tehran", "Mars/Olympus"],
}


@st.composite
def ics_text(draw) -> str:
    """A VCALENDAR of a few VEVENTs with odd properties (recurrences bounded by COUNT or UNTIL)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//outage-monitor//fuzz//EN"]
    if draw(st.booleans()):
        lines.append(f"X-COUNTRY:{draw(st.sampled_from(ICS_PROPS['X-COUNTRY']))}")
    if draw(st.booleans()):
        lines.append(f"X-WR-TIMEZONE:{draw(st.sampled_from(ICS_PROPS['X-WR-TIMEZONE']))}")
    for n in range(draw(st.integers(0, 4))):
        lines += ["BEGIN:VEVENT", f"UID:{draw(st.sampled_from(ICS_PROPS['UID']))}{n if draw(st.booleans()) else ''}"]
        for prop in draw(st.lists(st.sampled_from(sorted(set(ICS_PROPS) - {"UID", "X-WR-TIMEZONE"})), max_size=7)):
            value = draw(st.one_of(st.sampled_from(ICS_PROPS[prop]), st.sampled_from(ODD_STRINGS).filter(
                lambda s: "\n" not in s and "\r" not in s)))
            sep = ";" if "=" in value.split(":")[0] and ":" in value else ":"
            lines.append(f"{prop}{sep}{value}")
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["BEGIN:VALARM", "END:VCALENDAR", "DTSTART", ":::", " folded"])))
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    text = "\r\n".join(lines) + "\r\n"
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=5)) + text[at:]
    return text


# -- config ----------------------------------------------------------------------------------
toml_scalars = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
                         st.sampled_from(ODD_STRINGS + ["2h", "15min", "-1h", "PT2H", "1 fortnight", "sqlite:///x.db",
                                                        "postgresql+psycopg://u:secret@h/db", "country/IR"]),
                         st.text(max_size=15), st.datetimes(), st.dates())
toml_values = st.one_of(toml_scalars, st.lists(toml_scalars, max_size=3))
CONFIG_KEYS = {
    "store": ["url"], "watch": ["entities"],
    "sources": ["ioda", "ripe-atlas", "ripestat", "cloudflare-radar", "x"],
    "calendars": ["starter", "stop", "feed"],
    "detect": ["threshold", "min_duration", "x"], "correlate": ["window", "x"], "report": ["x"],
    "alerts": ["webhook", "smtp"], "daemon": ["interval", "x"], "bogus": ["x"]}
SUB_KEYS = ["enabled", "base_url", "interval", "url", "format", "country", "kind", "options", "datasources", "x"]


@st.composite
def config_dict(draw) -> dict:
    """What tomllib could hand to parse_config: known sections with odd values, unknown keys."""
    out: dict = {}
    for section in draw(st.lists(st.sampled_from(sorted(CONFIG_KEYS)), max_size=5, unique=True)):
        if draw(st.integers(0, 9)) == 0:
            out[section] = draw(toml_values)
            continue
        table = {}
        for key in draw(st.lists(st.sampled_from(CONFIG_KEYS[section]), max_size=3, unique=True)):
            if section in ("sources", "calendars") and draw(st.integers(0, 5)):
                table[key] = {k: draw(toml_values) for k in draw(st.lists(st.sampled_from(SUB_KEYS), max_size=4,
                                                                          unique=True))}
            elif key == "entities":
                table[key] = draw(st.lists(st.sampled_from(ODD_STRINGS), max_size=3))
            else:
                table[key] = draw(toml_values)
        out[section] = table
    return out


def toml_text(doc: dict) -> str:
    """A small TOML writer (tables, sub-tables, scalars and flat lists) for generated config dicts."""
    top = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    blocks = []
    for name, table in doc.items():
        if not isinstance(table, dict):
            continue
        blocks.append(f"[{_toml_key(name)}]")
        blocks += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items() if not isinstance(v, dict)]
        for sub, inner in table.items():
            if isinstance(inner, dict):
                blocks.append(f"[{_toml_key(name)}.{_toml_key(sub)}]")
                blocks += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in inner.items()]
    return "\n".join(top + blocks) + "\n"


def _toml_key(key: str) -> str:
    return json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json.dumps(value)


# -- nesting (issue 19) ---------------------------------------------------------------------------
NESTINGS = [("[", "]"), ('{"data":', "}"), ('[{"a":', "}]"), ('{"data":[', "]}"), ("- ", ""), ("a:\n  ", ""),
            ("{a: ", "}"), ("[", "")]  # the last: never closed


@st.composite
def nested_text(draw) -> str:
    """A document nested `depth` deep in JSON or YAML shapes (closed or not), around the limit
    (64) and far past it (100,000 levels, as in a 400 kB bomb)."""
    opener, closer = draw(st.sampled_from(NESTINGS))
    depth = draw(st.one_of(st.sampled_from([1, 2, 63, 64, 65, 100, 999, 1000, 5000, 100_000]), st.integers(1, 3000)))
    if opener.endswith("\n  "):  # YAML block mappings nest by indentation
        return "".join("  " * i + "a:\n" for i in range(min(depth, 3000))) + "  " * min(depth, 3000) + "x\n"
    leaf = draw(st.sampled_from(["1", "null", '"x"', "[]", "{}", ""]))
    return opener * depth + leaf + closer * depth
