"""Incident reports and digests on the real Iran 2019 data: what they state, what they carry along,
and what they admit is missing."""

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest

from monitor.config import build
from monitor.correlate import run_correlation
from monitor.detect.params import DetectParams
from monitor.errors import ConfigError, InputError
from monitor.report import (ReportParams, find_outage, load_digest, load_incident, render_digest,
                            render_incident, report_format, write_report)
from monitor.report.attribution import IODA_COPYRIGHT, attribution, credit_line
from monitor.report.coverage import scan
from monitor.report.fmt import fmt_duration, fmt_figure, fmt_local, fmt_offset, fmt_p

PARAMS = ReportParams()
T = pd.Timestamp
OUTAGE_ID = "detected:country/IR:1573921200"


def _incident(store, fmt="html", **kw):
    outage = find_outage(store, outage_id=OUTAGE_ID)
    return render_incident(load_incident(store, outage, PARAMS, kw.get("detect")), PARAMS, fmt, "iran")


def _text(html: str) -> str:
    """The visible text, tags removed and whitespace folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", html, flags=re.S)).split())


def test_incident_states_when_in_utc_and_local_and_the_coinciding_protest(iran_store):
    html = _incident(iran_store).text
    text = _text(html)
    assert "Start 2019-11-16T16:20Z = 2019-11-16 19:50 Asia/Tehran (UTC+03:30)" in text
    assert "End 2019-11-23T11:00Z = 2019-11-23 14:30 Asia/Tehran (UTC+03:30)" in text
    assert "Duration 6 d 18 h 40 min" in text
    events = html[html.index('id="events"'):html.index('id="numbers"')]
    rows = re.findall(r"<tr><td class=\"n\">(\d+)</td>(.*?)</tr>", events, flags=re.S)
    coinciding = " ".join(row for n, row in rows if "outage start − event start" in row)
    assert "Fuel price protests begin across Iran" in coinciding
    assert '<a href="https://example.org/protests"' in coinciding
    assert ("<b>during</b>: during: 5 of 12 episodes overlapped an event of kind protest; 0.8 expected with "
            'the calendar shifted (30 shifts by 1D) <span class="note">[significant]</span>') in coinciding
    assert '<b>pre-emptive (before)</b>: before: 4 of 12' in coinciding and "[significant (fragile)]" in coinciding
    later = [row for n, row in rows if "Unrelated later event" in row]
    assert len(later) == 1 and "not flagged" in later[0]
    summary = text[text.index("In short"):text.index("What, where, when")]
    assert ("detected a connectivity outage in Iran (country/IR) from 2019-11-16T16:20Z "
            "(2019-11-16 19:50 Asia/Tehran (UTC+03:30)) until 2019-11-23T11:00Z, lasting 6 d 18 h 40 min") in summary
    assert "It coincided with: Fuel price protests begin across Iran (protest, from 2019-11-14T20:30Z)" in summary
    assert "not a p-value" in summary


def test_incident_depth_per_signal_matches_the_raw_series(iran_store, iran, data_dir):
    html = _incident(iran_store).text
    START, END = iran.START, iran.END
    raw = iran.signals(data_dir)
    ap = raw[raw["datasource"] == "ping-slash24"].set_index("time")["value"]
    base = ap[START - pd.Timedelta("1D"):START - pd.Timedelta("1s")].median()
    during = ap[START:END - pd.Timedelta("1s")].median()
    depth = round((1 - during / base) * 100)
    row = re.search(r"<tr><td>ping-slash24</td>(.*?)</tr>", html).group(1)
    cells = re.findall(r">([^<]*)</td>", row)
    assert cells[:5] == ["as stored", f"{base:,.0f}", f"{during:,.0f}",
                         f"{ap[START:END - pd.Timedelta('1s')].min():,.0f}", f"{depth}%"]
    assert depth > 90
    # the detector's own figure per datasource, named as its own
    assert "as recorded by the detector (per source: bgp 44%; ping-slash24 95%)" in _text(html)


def test_incident_carries_chart_and_raw_numbers_inline_and_as_csv(iran_store, tmp_path):
    rendered = _incident(iran_store)
    png = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', rendered.text).group(1)
    assert base64.b64decode(png).startswith(b"\x89PNG")
    csv_inline = re.search(r'href="data:text/csv;base64,([A-Za-z0-9+/=]+)" download="iran-html.csv"', rendered.text)
    csv = base64.b64decode(csv_inline.group(1)).decode()
    assert rendered.attachments["iran-html.csv"].decode() == csv
    rows = pd.read_csv(pd.io.common.StringIO(csv))
    assert set(rows["datasource"]) == {"ping-slash24", "bgp"}
    assert rows["time"].min() <= "2019-11-15T16:20:00Z" and rows["value"].isna().sum() == 2   # bgp's stored gaps
    # the raw-number table marks the first bin of the outage with its stored values
    assert re.search(r'<tr class="at"><td>2019-11-16T16:20Z</td><td class="n">30,399</td>'
                     r'<td class="n">13,538</td></tr>', rendered.text)
    written = write_report(tmp_path / "iran.html", rendered)
    assert [p.name for p in written] == ["iran.html", "iran-html.csv", "iran-html.evidence.json"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_methods_section_names_parameters_sources_and_missing_data(iran_store):
    html = _incident(iran_store, detect=DetectParams()).text
    methods = _text(html[html.index('id="methods"'):])
    assert IODA_COPYRIGHT in methods
    assert "outage-monitor 0.1.0" in methods
    assert "rules.bgp.warning 0.99" in methods and "rules.ping-slash24.window 7d" in methods
    assert "Correlation run #1" in methods and "permutations 1000" in methods and "seed 20200916" in methods
    assert "outage-monitor starter calendar" in methods
    # bgp's two stored NaN bins and the end of the bgp copy are admitted as gaps
    assert "country/IR bgp: 2019-11-16T07:55Z to 2019-11-16T08:00Z (1 bin)" in methods
    assert "country/IR bgp: 2019-11-17T20:15Z to" in methods


def test_incident_without_correlation_and_with_an_ongoing_outage(sqlite_store, iran, data_dir):
    iran.fill(sqlite_store, data_dir, correlate=False, outages=[iran.outage_row(end=None)])
    text = _text(_incident(sqlite_store).text)
    assert "End ongoing (no end yet)" in text and "Duration ongoing" in text
    assert "No stored correlation run covers this outage" in text
    assert "Fuel price protests begin across Iran" in text     # still listed as a nearby event


def test_find_outage_by_time_prefers_the_detectors_and_explains_misses(sqlite_store, iran, data_dir):
    reference = iran.outage_row(outage_id="ioda-events:IR:1", source="ioda-events", start=T("2019-11-16T14:00Z"))
    iran.fill(sqlite_store, data_dir, outages=[iran.outage_row(), reference])
    assert find_outage(sqlite_store, entity="country/IR", at=T("2019-11-18T00:00Z"))["outage_id"] == OUTAGE_ID
    assert find_outage(sqlite_store, entity="country/IR", at=T("2019-11-16T15:00Z"))["source"] == "ioda-events"
    with pytest.raises(InputError, match="no outage of country/IR covers 2019-12-01T00:00:00Z"):
        find_outage(sqlite_store, entity="country/IR", at=T("2019-12-01T00:00Z"))
    with pytest.raises(InputError, match="no outage with id 'nope'"):
        find_outage(sqlite_store, outage_id="nope")


def test_markdown_incident_references_files_alongside(iran_store, tmp_path):
    rendered = _incident(iran_store, fmt="md")
    md = rendered.text
    assert "- **Start:** 2019-11-16T16:20Z = 2019-11-16 19:50 Asia/Tehran (UTC+03:30)" in md
    assert "[Fuel price protests begin across Iran](<https://example.org/protests>)" in md
    assert re.search(r"!\[[^\]]*\]\(<iran-md\.png>\)", md)
    assert rendered.attachments["iran-md.png"].startswith(b"\x89PNG")
    for table in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M):        # every table row as wide as its header
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in table.strip().splitlines()}
        assert len(widths) == 1, table
    paths = write_report(tmp_path / "iran.md", rendered)
    assert sorted(p.name for p in paths) == ["iran-md.csv", "iran-md.evidence.json", "iran-md.png", "iran.md"]


def test_digest_outages_coincidences_significance_and_countries_without_data(sqlite_store, iran, data_dir):
    iq = iran.outage_row(outage_id="detected:country/IQ:1", entity="country/IQ", country="IQ",
                         start=T("2019-11-02T03:00Z"), end=T("2019-11-02T05:00Z"), depth=None, datasources=["bgp"])
    exam = iran.event_row("iq-exam", "Exam day", "2019-11-02T04:00Z", "2019-11-02T10:00Z", kind="exam", country="IQ")
    iran.fill(sqlite_store, data_dir, outages=[iran.outage_row(), iq], events=[iran.PROTEST, iran.LATER, exam])
    data = load_digest(sqlite_store, T("2019-11-01T00:00Z"), T("2019-12-01T00:00Z"), ["IR", "IQ", "TJ"])
    rendered = render_digest(data, PARAMS, "html", "digest")
    text = _text(rendered.text)
    assert "2 outages in 2 of 3 countries" in text and "1 coincidence with events" in text
    assert "Iran (IR) 1 162.7 93% 1 bgp, ping-slash24" in text
    assert "Iraq (IQ) 1 2.0 — 0 none" in text and "Tajikistan (TJ) 0 0.0 — 0 none" in text
    assert "2019-11-02T03:00Z 2019-11-02 06:00 Asia/Baghdad (UTC+03:00) 2 h" in text
    sig = [r for r in re.findall(r'<tr class="sig">(.*?)</tr>', rendered.text) if 'class="note"' not in r]
    assert len(sig) == 2 and all(">IR<" in r and ">protest<" in r for r in sig)
    full = pd.read_csv(pd.io.common.StringIO(rendered.attachments["digest-html-significance.csv"].decode()))
    assert len(full) == 3 and "verdict_half" in full and "verdict_half" not in text   # CSV only
    assert "too few to test" in text and "significant (fragile)" in text
    assert len(re.findall(r'<img src="data:image/png;base64,', rendered.text)) == 2
    csv = pd.read_csv(pd.io.common.StringIO(rendered.attachments["digest-html.csv"].decode()))
    assert list(csv["outage_id"]) == ["detected:country/IQ:1", OUTAGE_ID]


def test_markdown_digest(iran_store):
    data = load_digest(iran_store, T("2019-11-01T00:00Z"), T("2019-12-01T00:00Z"), None)
    rendered = render_digest(data, PARAMS, "md", "d")
    assert "| ★ | IR | protest | during |" in rendered.text
    assert "|  | IR | protest | after |" in rendered.text
    assert set(rendered.attachments) == {"d-md.csv", "d-md-significance.csv", "d-md-overview.png",
                                         "d-md-coincidences.png", "d-md.evidence.json"}


def test_reports_use_the_latest_correlation_run_whose_scope_holds_them(iran_store, iran):
    """A later run for another country, source or time must not blank out Iran's coincidence."""
    empty = pd.DataFrame(columns=iran.coincidence(iran.PROTEST).keys())
    november, january = ["2019-11-01T00:00:00Z", "2019-12-01T00:00:00Z"], ["2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z"]
    for scope in ({"outages": "detected", "countries": ["TJ"], "span": november},
                  {"outages": "stop", "countries": None, "span": november},
                  {"outages": "detected", "countries": None, "span": january}):
        iran_store.write_correlation(scope, empty, pd.DataFrame([iran.SUMMARY[0] | {"country": "TJ"}]))
    incident = load_incident(iran_store, find_outage(iran_store, outage_id=OUTAGE_ID), PARAMS)
    assert incident.run["run_id"] == 1 and list(incident.coincidences["event_uid"]) == ["ir-2019-fuel"]
    digest = load_digest(iran_store, T("2019-11-01T00:00Z"), T("2019-12-01T00:00Z"), ["IR"])
    assert digest.run["run_id"] == 1 and len(digest.coincidences) == 1
    iran_store.write_correlation({"outages": "detected", "countries": ["IR", "TJ"],
                                  "span": ["2019-11-10T00:00:00Z", "2019-11-30T00:00:00Z"]}, empty, pd.DataFrame())
    assert load_incident(iran_store, incident.outage, PARAMS).run["run_id"] == 5  # newer, and its scope holds IR
    iran_store.write_correlation({"outages": "detected", "countries": None, "kinds": ["exam"],
                                  "span": ["2019-11-01T00:00:00Z", "2019-12-01T00:00:00Z"]}, empty, pd.DataFrame())
    assert load_incident(iran_store, incident.outage, PARAMS).run["run_id"] == 5  # not the exams-only run 6
    assert load_digest(iran_store, T("2020-03-01T00:00Z"), T("2020-04-01T00:00Z"), ["IR"]).run is None


def test_a_documented_shutdown_gets_an_incident_report_and_a_digest(sqlite_store, iran):
    """The Tajikistan case: no signal is stored, the shutdown is a report in a calendar."""
    speech = iran.event_row("tj-kabiri", "Kabiri speaks online", "2020-09-15T19:00Z", "2020-09-16T19:00Z",
                            kind="opposition_event", country="TJ")
    cut = iran.event_row("tj-outage", "Internet outage in Tajikistan (reported)", "2020-09-16T14:40Z",
                         "2020-09-16T15:40Z", kind="shutdown_report", country="TJ", url="https://example.org/tj")
    sqlite_store.write_events(pd.DataFrame([speech, cut]))
    run_correlation(sqlite_store, "starter", countries=["TJ"])
    outage = find_outage(sqlite_store, entity="country/TJ", at=T("2020-09-16T15:00Z"))
    assert outage["outage_id"] == "starter:tj-outage"
    assert find_outage(sqlite_store, outage_id="starter:tj-outage")["start"] == T("2020-09-16T14:40Z")
    text = render_incident(load_incident(sqlite_store, outage, PARAMS), PARAMS, "md", "tj").text
    assert "**Reported as:** [Internet outage in Tajikistan (reported)](<https://example.org/tj>)" in text
    assert "Depth:" not in text and "| [Kabiri speaks online](<https://example.org/protests>) (starter) |" in text
    assert "Internet outage in Tajikistan (reported)](<https://example.org/tj>) (starter) |" not in text  # not near itself
    # no measurement: one box with the command that would fetch it, and no chart, table or CSV
    assert "**No measurement.** No measurement of country/TJ is stored" in text
    assert "`outage-monitor collect ioda --entity country/TJ --from 2020-09-15T14:40Z --until 2020-09-17T15:40Z`" in text
    assert "![" not in text and "The numbers behind the chart" not in text
    # the single-case chance, by the correlator's rule: a 1 h outage starting at t relates to the speech
    # [15th 19:00, 16th 19:00) for t in (19:00 - max(1 h, 2 h before), max(end, start + 3 h after)), i.e. 26 h,
    # over the start times of the run's 4-day span: 26 h / (96 h - 1 h)
    assert f"{26 / 95:.0%} of the time" in text and "not a p-value" in text
    digest = load_digest(sqlite_store, T("2020-09-01T00:00Z"), T("2020-10-01T00:00Z"), ["TJ"], ["starter"])
    assert list(digest.outages["outage_id"]) == ["starter:tj-outage"] and len(digest.coincidences) == 1
    text = render_digest(digest, PARAMS, "md", "tj").text
    assert "which tested 2020-09-14T00:00Z to 2020-09-18T00:00Z, not the whole period of this digest" in text
    with pytest.raises(InputError, match="no outages from 'stop'"):
        load_digest(sqlite_store, T("2020-09-01T00:00Z"), T("2020-10-01T00:00Z"), ["TJ"], ["stop"])


def test_coverage_and_gaps_count_nan_and_missing_bins():
    times = pd.date_range("2021-01-01", periods=12, freq="10min", tz="UTC")
    values = np.arange(12.0)
    values[3] = np.nan
    df = pd.DataFrame({"entity": "country/X", "datasource": "d", "time": times, "value": values}).drop([6, 7])
    start, end = times[0] - pd.Timedelta("20min"), times[-1] + pd.Timedelta("10min")
    cov, found = scan(df, start, end)
    assert [(g.start, g.end, g.bins) for g in found.itertuples()] == [
        (start, times[0], 2), (times[5] + pd.Timedelta("10min"), times[8], 2), (times[3], times[4], 1)]
    cov = cov.iloc[0]
    assert (cov["expected"], cov["with_data"], cov["missing"]) == (14, 9, 5)
    assert cov["longest_gap"] == pd.Timedelta("20min")


def test_attribution_and_formatting():
    assert attribution("ping-slash24").key == "ioda" and attribution("stop").provider.startswith("Access Now")
    assert "RIPE NCC" in attribution("ripe-atlas").provider and attribution("my-own") is None
    assert credit_line(["bgp", "ripe-atlas", "my-own"]) == "Data: IODA (Georgia Tech); RIPE Atlas (RIPE NCC); my-own"
    assert fmt_duration(pd.Timedelta("26h5min")) == "1 d 2 h 5 min" and fmt_duration(pd.Timedelta(0)) == "0 min"
    assert fmt_offset(-125) == "-2 h 5 min" and fmt_offset(2420) == "+1 d 16 h 20 min"
    assert fmt_local(T("2021-03-28T01:30Z"), "Europe/Berlin") == "2021-03-28 03:30 Europe/Berlin (UTC+02:00)"
    assert fmt_p(0.00001) == "< 0.001" and fmt_p(0.0042) == "0.0042" and fmt_p(None) == "—"
    assert fmt_p(0.0005999) == "< 0.001" and fmt_p(0.0392) == "0.039" and fmt_p(0.5) == "0.5"
    assert fmt_figure(6_677_560.3) == "6.7 million" and fmt_figure(150.7) == "151" and fmt_figure(2.345) == "2.35"
    assert fmt_figure(0.0123456) == "0.012" and fmt_figure(17.0) == "17" and fmt_figure(None) == "—"
    assert report_format("x.HTML") == "html" and report_format("a/b.md") == "md"
    with pytest.raises(InputError):
        report_format("x.pdf")


def test_report_params_from_config():
    params = build(ReportParams, {"margin": "2h", "chart_format": "svg"}, "t.toml: [report]")
    assert params.margin == pd.Timedelta("2h") and params.chart_format == "svg"
    with pytest.raises(ConfigError, match="chart_format"):
        build(ReportParams, {"chart_format": "gif"}, "t.toml: [report]")
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        build(ReportParams, {"colour": "red"}, "t.toml: [report]")


def test_svg_charts(iran_store):
    params = ReportParams(chart_format="svg")
    outage = find_outage(iran_store, outage_id=OUTAGE_ID)
    rendered = render_incident(load_incident(iran_store, outage, params), params, "html", "x")
    svg = re.search(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', rendered.text).group(1)
    assert b"<svg" in base64.b64decode(svg)


def test_single_case_chance_counts_the_calendar_over_the_runs_whole_span(sqlite_store, iran, data_dir):
    """Events of the run's span far from the outage count too (the report's window holds only a few days)."""
    late = iran.event_row("ir-2019-late", "Another protest", "2019-11-29T08:00Z", "2019-11-29T10:00Z")
    iran.fill(sqlite_store, data_dir, events=[iran.PROTEST, iran.LATER, late])
    outage = find_outage(sqlite_store, outage_id=OUTAGE_ID)
    rendered = render_incident(load_incident(sqlite_store, outage, PARAMS), PARAMS, "html", "x")
    chance = json.loads(rendered.attachments["x-html.evidence.json"])["chance"]
    assert [(c["kind"], c["events"]) for c in chance] == [("protest", 2)]
    # outage d = 6 d 18 h 40 min, start times t in [11-01, 12-01 - d = 11-24 05:20]. By the correlator's
    # rule an outage relates to [s, e) for t in (min(s - d, s - 2 h), max(e, s + 12 h)): the protest
    # [11-14 20:30, 11-17 20:30) for t in (11-08 01:50, 11-17 20:30): 9 d 18 h 40 min, and the late one
    # [11-29 08:00, 11-29 10:00) for t in (11-22 13:20, 11-29 20:00), cut at 11-24 05:20: 1 d 16 h
    covered = pd.Timedelta("9D18h40min") + pd.Timedelta("1D16h")
    assert chance[0]["share"] == pytest.approx(covered / (pd.Timedelta("30D") - pd.Timedelta("6D18h40min")))


def test_caveats_beside_a_verdict_read_from_any_summary_columns():
    """'significant' beside an interval spanning 1 (the exams digest), and a correlator's `fragile` flag."""
    from monitor.report.evidence import stat_evidence
    row = {"method": "eca-trigger", "observed": 6, "expected": 2.86, "rate_ratio": 2.1, "ci_low": 0.77,
           "ci_high": 4.57, "p_value": 0.019, "p_adjusted": 0.029, "verdict": "significant", "fragile": True}
    stat = stat_evidence(row)
    assert stat["caveats"] == ["the correlator flags this verdict as fragile",
                               "the interval includes no effect (no association)"]
    assert "p = 0.019, adjusted 0.029" in stat["text"] and "interval 0.77–4.57" in stat["text"]
    assert stat_evidence({**row, "ci_low": 1.2, "fragile": float("nan")})["caveats"] == []


def test_caveats_read_the_excess_interval_of_shift_test_rows():
    """Rows of the shift test give an interval for the excess in episodes: no effect is 0, not 1."""
    from monitor.report.evidence import stat_evidence
    row = {"relation": "during", "observed": 5, "expected": 0.8, "excess": 4.2, "ci_low": 1, "ci_high": 5,
           "p_value": 0.002, "p_adjusted": 0.004, "verdict": "significant", "fragile": False}
    stat = stat_evidence(row)
    assert stat["caveats"] == [] and "excess 4.2 episodes, interval 1–5" in stat["text"]
    assert stat_evidence({**row, "ci_low": 0})["caveats"] == ["the interval includes no effect (no association)"]
