"""Render reports: one self-contained HTML file (charts and CSS inline, no script, no external fetch)
or Markdown with the chart and the raw numbers as files alongside.

HTML templates are autoescaped; Markdown output escapes every value that is not explicitly markup,
so a calendar entry cannot inject script or formatting. Links are written only for http(s) URLs.
"""

from __future__ import annotations

import base64
import functools
import math
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
from monitor.report.context import DigestData, IncidentData, digest_context, incident_context
from monitor.report.params import ReportParams
from monitor.report.significance import headline_rows, summary_csv
from monitor.tidy import write_tidy
from monitor.timeutil import iso

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
def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def fmt_utc(ts) -> str:
    """`2019-11-16 16:20 UTC` (seconds shown only when not zero)."""
    if _missing(ts):
        return "—"
    ts = pd.Timestamp(ts).tz_convert("UTC")
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC" if ts.second else "%Y-%m-%d %H:%M UTC")


def fmt_local(ts, tz: str | None) -> str:
    """`2019-11-16 19:50 Asia/Tehran (UTC+03:30)`; empty when the zone is unknown."""
    if _missing(ts) or not tz:
        return ""
    local = pd.Timestamp(ts).tz_convert(tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {tz} (UTC{offset[:3]}:{offset[3:]})"


def fmt_duration(td) -> str:
    """`6 d 18 h 40 min`, `45 min`; `—` for none."""
    if _missing(td):
        return "—"
    minutes = int(pd.Timedelta(td).total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{mins} min"] * bool(mins or not minutes)
    return " ".join(parts)


def fmt_num(value, digits: int = 0) -> str:
    """Thousands separators; `—` for missing."""
    if _missing(value):
        return "—"
    if isinstance(value, str):
        return value
    return f"{float(value):,.{digits}f}"


def fmt_pct(value) -> str:
    """A 0..1 share as `95%`."""
    return "—" if _missing(value) else f"{float(value) * 100:.0f}%"


def fmt_p(value) -> str:
    """A p-value: `0.0004`, `< 0.0001`."""
    if _missing(value):
        return "—"
    value = float(value)
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}" if value < 0.01 else f"{value:.3f}"


def fmt_offset(minutes) -> str:
    """Outage start minus event start: `+35 min`, `-1 d 2 h 5 min`."""
    if _missing(minutes):
        return "—"
    sign = "-" if minutes < 0 else "+"
    return sign + fmt_duration(pd.Timedelta(minutes=round(abs(float(minutes)))))


def fmt_cell(value) -> str:
    """Any table value: times in UTC, floats to 4 significant digits, missing as `—`."""
    if isinstance(value, pd.Timestamp):
        return fmt_utc(value)
    if _missing(value):
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


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


_FILTERS = {"utc": fmt_utc, "local": fmt_local, "duration": fmt_duration, "num": fmt_num, "pct": fmt_pct,
            "pval": fmt_p, "offset": fmt_offset, "cell": fmt_cell, "safe_url": safe_url,
            "md_link": md_link, "md_image": md_image}


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


# -- reports ------------------------------------------------------------------------------------
def report_format(path: str | os.PathLike) -> str:
    """`html` or `md` from a file name's extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"report file {path}: use a .html or .md extension")
    return FORMATS[suffix]


def incident_chart(data: IncidentData, params: ReportParams, name: str) -> Chart:
    """The incident's timeline chart, encoded for the report."""
    o = data.outage
    outages = pd.DataFrame([o])
    fig = plot_timeline(data.signals, outages, data.events, entity=o["entity"], start=data.window[0],
                        end=data.window[1], tz=data.tz,
                        credit=credit_line(set(data.signals["datasource"])))
    alt = (f"Signals of {o['entity']} from {fmt_utc(data.window[0])} to {fmt_utc(data.window[1])} "
           f"in percent of each signal's maximum; the outage from {fmt_utc(o['start'])} is shaded red.")
    return Chart(f"{name}.{params.chart_format}", params.chart_format,
                 figure_bytes(fig, params.chart_format, params.dpi), alt)


def render_incident(data: IncidentData, params: ReportParams = ReportParams(), fmt: str = "html",
                    name: str = "incident") -> Rendered:
    """An incident report as HTML or Markdown; the CSV of the raw numbers goes alongside as `name.csv`."""
    context = incident_context(data, params)
    chart = incident_chart(data, params, name)
    csv_text = write_tidy(data.signals)
    csv = {**_data_link(f"{name}.csv", csv_text.encode()), "rows": len(data.signals)}
    text = environment(fmt).get_template(f"incident.{fmt}.j2").render(**context, chart=chart, csv=csv)
    files = {csv["file"]: csv_text.encode()}
    if fmt == "md":
        files[chart.file] = chart.data
    return Rendered(text, files)


def digest_charts(data: DigestData, params: ReportParams, name: str) -> list[Chart]:
    """The overview chart, and the coincidence summary when a correlation run exists."""
    fig = plot_overview(data.outages, data.events, data.countries, data.start, data.end)
    charts = [Chart(f"{name}-overview.{params.chart_format}", params.chart_format,
                    figure_bytes(fig, params.chart_format, params.dpi),
                    f"Outages per country from {fmt_utc(data.start)} to {fmt_utc(data.end)}, coloured by "
                    "depth, with events marked above each row.")]
    summary = headline_rows(pd.DataFrame(data.run["summary"]) if data.run else pd.DataFrame(), data.countries)
    if not summary.empty and {"observed", "expected"} <= set(summary.columns):
        fig = plot_coincidence_summary(summary, params.alpha)
        charts.append(Chart(f"{name}-coincidences.{params.chart_format}", params.chart_format,
                            figure_bytes(fig, params.chart_format, params.dpi),
                            "Observed and expected coincidences per country, event kind and relation, with "
                            "the range chance gives (the counts the test does not call significant)."))
    return charts


def render_digest(data: DigestData, params: ReportParams = ReportParams(), fmt: str = "html",
                  name: str = "digest") -> Rendered:
    """A digest as HTML or Markdown; the outage list and the full significance table go alongside
    as `name.csv` and `name-significance.csv`."""
    context = digest_context(data, params)
    charts = digest_charts(data, params, name)
    summary = pd.DataFrame(data.run["summary"]) if data.run else pd.DataFrame()
    files = {f"{name}.csv": _outage_csv(context["outages"]).encode()}
    if context["significance"]["rows"]:
        files[f"{name}-significance.csv"] = summary_csv(summary, data.countries).encode()
    links = {file: _data_link(file, content) for file, content in files.items()}
    text = environment(fmt).get_template(f"digest.{fmt}.j2").render(
        **context, charts=charts, csv=links[f"{name}.csv"], sig_csv=links.get(f"{name}-significance.csv"))
    if fmt == "md":
        files.update({c.file: c.data for c in charts})
    return Rendered(text, files)


def _data_link(file: str, content: bytes) -> dict:
    """A file's name and its content as a `data:` URI, for a download link in a self-contained page."""
    return {"file": file, "data_uri": "data:text/csv;base64," + base64.b64encode(content).decode("ascii")}


def _outage_csv(outages: list[dict]) -> str:
    columns = ["outage_id", "source", "entity", "country", "start", "end", "datasources", "depth", "score",
               "method"]
    df = pd.DataFrame([{c: o.get(c) for c in columns} for o in outages], columns=columns)
    df["start"], df["end"] = df["start"].map(iso), df["end"].map(lambda t: None if _missing(t) else iso(t))
    df["datasources"] = df["datasources"].map(lambda ds: " ".join(ds or []))
    return df.to_csv(index=False, lineterminator="\n")


def write_report(path: str | os.PathLike, rendered: Rendered) -> list[Path]:
    """Write the report and its attachments next to it, each atomically; returns the paths written."""
    path = Path(path)
    written = []
    for target, content in [(path, rendered.text.encode("utf-8"))] + [
            (path.with_name(n), b) for n, b in rendered.attachments.items()]:
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            tmp.write_bytes(content)
            os.replace(tmp, target)
        except OSError as exc:
            raise InputError(f"cannot write report file {target}: {exc.strerror or exc}") from exc
        written.append(target)
    return written
