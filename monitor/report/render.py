"""Render reports: one self-contained HTML file (charts and CSS inline, no script, no external fetch)
or Markdown with the chart and the raw numbers as files alongside; with either, the evidence file
(monitor.report.evidence) from which the text is rendered.

HTML templates are autoescaped; Markdown output escapes every value that is not explicitly markup,
so a calendar entry cannot inject script or formatting. Links are written only for http(s) URLs.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from monitor.errors import InputError
from monitor.plot import figure_bytes, plot_coincidence_summary, plot_overview, plot_timeline
from monitor.report.attribution import credit_line
from monitor.report.context import DigestData, IncidentData
from monitor.report.evidence import digest_evidence, dumps, incident_evidence
from monitor.report.fmt import missing
from monitor.report.params import ReportParams
from monitor.report.significance import headline_rows, summary_csv
from monitor.text import csv_cell
from monitor.tidy import write_tidy

FORMATS = {".html": "html", ".htm": "html", ".md": "md"}
_MIME = {"png": "image/png", "svg": "image/svg+xml"}


@dataclass(frozen=True)
class Chart:
    """An image: inline in HTML as a data URI, a file next to a Markdown report."""

    file: str
    fmt: str
    data: bytes
    alt: str

    @property
    def data_uri(self) -> str:
        return f"data:{_MIME[self.fmt]};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class Rendered:
    """A report's text and the files that go next to it (name relative to the report -> bytes)."""

    text: str
    attachments: dict[str, bytes] = field(default_factory=dict)


# -- filters ------------------------------------------------------------------------------------
_missing = missing


def safe_url(url) -> str | None:
    """The URL when it is absolute http(s) without whitespace, control characters, quotes, angle
    brackets, backticks or backslashes (none of which a well-formed URL holds), else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or re.search(r"[\s\x00-\x1f\x7f\"<>`\\]", url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


_URL_SAFE = ":/?#[]@!$&'*+,;=%~-._"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>|#~!])")


def md_escape(value) -> str:
    """Plain text made inert in Markdown: punctuation that formats is backslashed, `&` made an entity,
    line breaks folded into spaces (a value never starts a new block)."""
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))


def md_link(text, url) -> Markup:
    """`[text](url)` for an http(s) URL; the escaped text and URL as plain text otherwise."""
    good = safe_url(url)
    if good is None:
        tail = f" ({md_escape(url)})" if url and not _missing(url) else ""
        return Markup(md_escape(text) + tail)
    return Markup(f"[{md_escape(text)}](<{quote(good, safe=_URL_SAFE)}>)")


def md_image(chart: Chart) -> Markup:
    """`![alt](<file>)` for a chart written next to a Markdown report."""
    return Markup(f"![{md_escape(chart.alt)}](<{quote(chart.file)}>)")


def _md_finalize(value):
    if isinstance(value, Markup):
        return value
    return md_escape("" if value is None else value)


# -- reports ------------------------------------------------------------------------------------
_FILTERS = {"safe_url": safe_url, "md_link": md_link, "md_image": md_image}


@functools.cache
def environment(fmt: str) -> Environment:
    """The Jinja environment for `html` (autoescape on) or `md` (every value Markdown-escaped)."""
    if fmt == "html":
        env = Environment(loader=PackageLoader("monitor.report", "templates"), autoescape=True,
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    else:
        env = Environment(loader=PackageLoader("monitor.report", "templates"), autoescape=False,
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          finalize=_md_finalize)
    env.filters.update(_FILTERS)
    env.tests["missing"] = _missing
    return env


def report_format(path: str | os.PathLike) -> str:
    """`html` or `md` from a file name's extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"report file {path}: use a .html or .md extension")
    return FORMATS[suffix]


def file_names(name: str, fmt: str, chart_format: str, kind: str) -> dict:
    """The files a report writes. Attachments carry the format in their names, so an HTML and a
    Markdown report of one name (digest.html, digest.md) never write over each other's files."""
    base = f"{name}-{fmt}"
    files = {"report": f"{name}.{fmt}", "evidence": f"{base}.evidence.json", "csv": f"{base}.csv"}
    if kind == "digest":
        files["significance"] = f"{base}-significance.csv"
    if fmt == "md":   # HTML carries its charts inline
        files.update({"chart": f"{base}.{chart_format}"} if kind == "incident" else
                     {"overview": f"{base}-overview.{chart_format}",
                      "coincidences": f"{base}-coincidences.{chart_format}"})
    return files


def _render(kind: str, fmt: str, evidence: dict, **extra) -> str:
    """The report's text from the evidence after a JSON round trip: nothing else reaches the template."""
    loaded = json.loads(dumps(evidence))
    return environment(fmt).get_template(f"{kind}.{fmt}.j2").render(e=loaded, **extra)


def incident_chart(data: IncidentData, params: ReportParams, evidence: dict) -> Chart:
    """The incident's timeline chart, encoded for the report; events numbered as in its table."""
    o = data.outage
    numbers = {tuple(key): ev["n"] for ev in evidence["events"] for key in ev["keys"]}
    fig = plot_timeline(data.signals, pd.DataFrame([o]), data.events, entity=o["entity"], start=data.window[0],
                        end=data.window[1], tz=data.tz, credit=credit_line(set(data.signals["datasource"])),
                        event_numbers=numbers)
    file = evidence["chart"]["file"] or f"{evidence['files']['report']}.{params.chart_format}"   # inline in HTML
    data_bytes = figure_bytes(fig, params.chart_format, params.dpi)
    return Chart(file, params.chart_format, data_bytes, evidence["chart"]["alt"])


def render_incident(data: IncidentData, params: ReportParams = ReportParams(), fmt: str = "html",
                    name: str = "incident") -> Rendered:
    """An incident report as HTML or Markdown, with its evidence file and the CSV of the raw numbers
    (and, for Markdown, the chart) alongside. A report without measurements has no chart and no CSV."""
    files = file_names(name, fmt, params.chart_format, "incident")
    measured = not data.signals.empty
    if not measured:
        files = {k: v for k, v in files.items() if k not in ("chart", "csv")}
    evidence = incident_evidence(data, params, files)
    attachments = {}
    chart = csv = None
    if measured:
        chart = incident_chart(data, params, evidence)
        csv_text = write_tidy(data.signals).encode()
        csv = _data_link(files["csv"], csv_text)
        attachments[files["csv"]] = csv_text
        if fmt == "md":
            attachments[chart.file] = chart.data
    text = _render("incident", fmt, evidence, chart=chart, csv=csv)
    attachments[files["evidence"]] = dumps(evidence).encode()
    return Rendered(text, attachments)


def digest_charts(data: DigestData, params: ReportParams, evidence: dict) -> list[Chart]:
    """The overview chart, and the coincidence summary when a correlation run exists."""
    specs = evidence["charts"]
    fig = plot_overview(data.outages, data.events, data.countries, data.start, data.end)
    charts = [Chart(specs[0]["file"] or "overview", params.chart_format,
                    figure_bytes(fig, params.chart_format, params.dpi), specs[0]["alt"])]
    if len(specs) > 1:
        summary = headline_rows(pd.DataFrame(data.run["summary"]), data.countries)
        fig = plot_coincidence_summary(summary, params.alpha)
        charts.append(Chart(specs[1]["file"] or "coincidences", params.chart_format,
                            figure_bytes(fig, params.chart_format, params.dpi), specs[1]["alt"]))
    return charts


def render_digest(data: DigestData, params: ReportParams = ReportParams(), fmt: str = "html",
                  name: str = "digest") -> Rendered:
    """A digest as HTML or Markdown, with its evidence file, the outage list and the full significance
    table alongside (and, for Markdown, the charts)."""
    files = file_names(name, fmt, params.chart_format, "digest")
    summary = pd.DataFrame(data.run["summary"]) if data.run else pd.DataFrame()
    sig_rows = summary_csv(summary, data.countries) if not summary.empty else None
    if sig_rows is None:
        files.pop("significance")
    evidence = digest_evidence(data, params, files)
    if len(evidence["charts"]) < 2:
        files.pop("coincidences", None)
    charts = digest_charts(data, params, evidence)
    attachments = {files["csv"]: _outage_csv(evidence["outages"]).encode()}
    if sig_rows is not None:
        attachments[files["significance"]] = sig_rows.encode()
    links = {file: _data_link(file, content) for file, content in attachments.items()}
    text = _render("digest", fmt, evidence, charts=charts, csv=links[files["csv"]],
                   sig_csv=links.get(files.get("significance")))
    if fmt == "md":
        attachments.update({c.file: c.data for c in charts})
    attachments[files["evidence"]] = dumps(evidence).encode()
    return Rendered(text, attachments)


def _data_link(file: str, content: bytes) -> dict:
    """A file's name and its content as a `data:` URI, for a download link in a self-contained page."""
    return {"file": file, "data_uri": "data:text/csv;base64," + base64.b64encode(content).decode("ascii")}


def _outage_csv(outages: list[dict]) -> str:
    """The digest's outages as CSV: exact values, whole titles."""
    rows = [{"outage_id": o["id"], "country": o["country"], "entity": o["entity"], "start": o["start"]["time"],
             "duration": o["duration_text"], "depth": o["depth"], "datasources": " ".join(o["datasources"]),
             "events": "; ".join(o["events_full"])} for o in outages]
    columns = ["outage_id", "country", "entity", "start", "duration", "depth", "datasources", "events"]
    return pd.DataFrame(rows, columns=columns).map(csv_cell).to_csv(index=False, lineterminator="\n")


def write_report(path: str | os.PathLike, rendered: Rendered, force: bool = False) -> list[Path]:
    """Write the report and its attachments next to it, each atomically; returns the paths written.

    A file already there is replaced only when an earlier run of this report wrote it (its evidence
    file lists it) or `force` is set; otherwise nothing is written and the error names the file.
    """
    path = Path(path)
    targets = [(path, rendered.text.encode("utf-8"))] + [(path.with_name(n), b)
                                                         for n, b in rendered.attachments.items()]
    if not force:
        ours = _written_before(path, rendered)
        for target, _ in targets:
            if target.exists() and target.name not in ours:
                raise InputError(f"{target} exists and was not written by this report; move it, choose another "
                                 "--out, or use --force to overwrite it")
    written = []
    for target, content in targets:
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            tmp.write_bytes(content)
            os.replace(tmp, target)
        except OSError as exc:
            raise InputError(f"cannot write report file {target}: {exc.strerror or exc}") from exc
        written.append(target)
    return written


def _written_before(path: Path, rendered: Rendered) -> set[str]:
    """Names of the files the previous run of this report wrote, from its evidence file."""
    evidence = next((n for n in rendered.attachments if n.endswith(".evidence.json")), None)
    if evidence is None or not path.with_name(evidence).exists():
        return set()
    try:
        files = json.loads(path.with_name(evidence).read_text(encoding="utf-8")).get("files") or {}
    except (OSError, ValueError, AttributeError):
        return set()
    # the evidence file's name is derived from the report's, so the report beside it is that run's too
    return {f for f in files.values() if isinstance(f, str)} | {evidence, path.name}
