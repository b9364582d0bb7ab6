"""Figures and text as a report shows them: times in ISO 8601 with `Z`, numbers rounded for people,
text from feeds cleaned of control characters and shortened for tables.

The evidence file (monitor.report.evidence) stores each figure as these functions write it, next to
its exact value, so what a reader sees can be checked against what was computed.
"""

from __future__ import annotations

import math

import pandas as pd

from monitor.text import printable

TITLE_CHARS = 160     # a title longer than this is shortened in tables; the evidence keeps it whole


def missing(value) -> bool:
    """None, NaT or NaN."""
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def clean(text) -> str:
    """Text from outside made safe to show: control and format characters (NUL, ESC, an RTL override
    that reverses how the rest of a line reads) replaced by U+FFFD, whitespace runs (line breaks, tabs) folded into one space."""
    if missing(text):
        return ""
    return " ".join(printable(text).split())


def shorten(text, limit: int = TITLE_CHARS) -> str:
    """`clean(text)`, cut at a word boundary with an ellipsis when longer than `limit` characters."""
    text = clean(text)
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def fmt_utc(ts) -> str:
    """`2019-11-16T16:20Z` (ISO 8601; seconds shown only when not zero)."""
    if missing(ts):
        return "—"
    ts = pd.Timestamp(ts).tz_convert("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ" if ts.second else "%Y-%m-%dT%H:%MZ")


def fmt_local(ts, tz: str | None) -> str:
    """`2019-11-16 19:50 Asia/Tehran (UTC+03:30)`; empty when the zone is unknown."""
    if missing(ts) or not tz:
        return ""
    local = pd.Timestamp(ts).tz_convert(tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {tz} (UTC{offset[:3]}:{offset[3:]})"


def fmt_duration(td) -> str:
    """`6 d 18 h 40 min`, `45 min`; `—` for none."""
    if missing(td):
        return "—"
    minutes = int(pd.Timedelta(td).total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{mins} min"] * bool(mins or not minutes)
    return " ".join(parts)


def fmt_num(value, digits: int = 0) -> str:
    """Thousands separators and `digits` decimals; `—` for missing."""
    if missing(value):
        return "—"
    if isinstance(value, str):
        return value
    return f"{float(value):,.{digits}f}"


def fmt_figure(value) -> str:
    """Any measured number for people: `6.7 million`, `12,345`, `150`, `2.4`, `0.37`, `0.0061`."""
    if missing(value):
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    value = float(value)
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:,.1f} million"
    if size >= 100 or value == int(value):
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:.3g}"
    return f"{value:.2g}"


def fmt_pct(value) -> str:
    """A 0..1 share as `95%`."""
    return "—" if missing(value) else f"{float(value) * 100:.0f}%"


def fmt_p(value) -> str:
    """A p-value for people: `< 0.001`, else two significant digits (`0.0088`, `0.019`, `0.24`), as
    the correlator's notes write them; no `0.0005999`: a permutation test cannot resolve it."""
    if missing(value):
        return "—"
    value = float(value)
    return "< 0.001" if value < 0.001 else f"{value:.2g}"


def fmt_offset(minutes) -> str:
    """Outage start minus event start: `+35 min`, `-1 d 2 h 5 min`."""
    if missing(minutes):
        return "—"
    sign = "-" if minutes < 0 else "+"
    return sign + fmt_duration(pd.Timedelta(minutes=round(abs(float(minutes)))))


_P_COLUMNS = {"p_value", "p_adjusted", "p"}


def fmt_cell(value, column: str | None = None) -> str:
    """A table value: times in ISO, p-values by fmt_p, other numbers by fmt_figure, text cleaned."""
    if isinstance(value, pd.Timestamp):
        return fmt_utc(value)
    if missing(value):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return fmt_p(value) if column in _P_COLUMNS else fmt_figure(value)
    if isinstance(value, list | tuple):
        return ", ".join(clean(v) for v in value)
    return shorten(value)
