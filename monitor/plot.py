"""Charts of signals, outages, events and coincidences, drawn the way the field's dashboards draw them.

Every function returns a `matplotlib.figure.Figure` built without pyplot, so nothing touches global
state: the daemon can render in a thread and the figure is freed when it goes out of scope. Text that
came from a feed (event titles) is drawn with `parse_math=False`, so a `$` cannot trigger mathtext.
"""

from __future__ import annotations

import io
import math

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from monitor.entities import Entity
from monitor.errors import InputError

# IODA dashboard colours (ioda-ui `utils/index.js`); readers of this field know them.
DATASOURCE_COLORS = {"ping-slash24": "#1F78B4", "bgp": "#33A02C", "merit-nt": "#ED9B40", "gtr": "#5F2CA0"}
OUTAGE_COLOR = "#BE1D2D"
# For datasources IODA does not have: distinct from the four above and from the outage red.
EXTRA_COLORS = ["#17BECF", "#B15928", "#E7298A", "#666666", "#A6761D", "#1B9E77", "#7570B3", "#D4B000"]
EVENT_KIND_COLORS = {"election": "#6A3D9A", "results": "#CAB2D6", "protest": "#E08214",
                     "opposition_event": "#B35806", "exam": "#2C7FB8", "coup": "#000000",
                     "shutdown_report": "#BE1D2D", "other": "#777777"}
LABEL_CHARS = 40
UTC = "UTC"


def datasource_colors(datasources) -> dict[str, str]:
    """A colour per datasource: IODA's for its own, then distinct ones in sorted name order."""
    others = sorted(d for d in set(datasources) if d not in DATASOURCE_COLORS)
    colors = {d: DATASOURCE_COLORS[d] for d in datasources if d in DATASOURCE_COLORS}
    colors.update({d: EXTRA_COLORS[i % len(EXTRA_COLORS)] for i, d in enumerate(others)})
    return colors


def normalise(values: np.ndarray) -> tuple[np.ndarray, float]:
    """Percent of the window's maximum, as IODA's dashboard normalises; NaN stays NaN (a gap).

    Returns the percentages and the maximum they are relative to (NaN when the window has no data).
    """
    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).any():
        return np.full(values.shape, np.nan), math.nan
    top = float(np.nanmax(values))
    if top <= 0:
        return np.where(np.isnan(values), np.nan, 0.0), top
    return values / top * 100.0, top


def to_num(times) -> np.ndarray:
    """UTC times -> matplotlib date numbers."""
    idx = pd.DatetimeIndex(times)
    if idx.tz is None:
        raise InputError("plot times must be timezone-aware")
    return mdates.date2num(idx.tz_convert(UTC).tz_localize(None).to_numpy())


def break_gaps(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Insert a NaN after every missing bin (a step over 1.5x the series' median step).

    Matplotlib breaks a line at NaN, so a gap is drawn as a gap, never bridged by interpolation.
    """
    if len(x) < 3:
        return x, y
    steps = np.diff(x)
    step = float(np.median(steps))
    holes = np.flatnonzero(steps > 1.5 * step)
    return np.insert(x, holes + 1, x[holes] + step), np.insert(y, holes + 1, np.nan)


def local_zone(entity: str | None) -> str | None:
    """The IANA zone of a country entity (None for other entities, and for countries without
    a zone in tzdata, e.g. uninhabited territories: those are shown in UTC only)."""
    country = Entity.parse(entity).country if entity else None
    if country is None:
        return None
    from monitor.events.countries import country_timezone
    try:
        return country_timezone(country)
    except InputError:
        return None


def zone_note(tz: str | None, start: pd.Timestamp, end: pd.Timestamp) -> str:
    """`time (UTC); local time Asia/Tehran = UTC+03:30` (both offsets when DST changes inside)."""
    if not tz:
        return "time (UTC)"
    offsets = sorted({_offset(start.tz_convert(tz)), _offset(end.tz_convert(tz))})
    return f"time (UTC); local time {tz} = UTC{'/'.join(offsets)}"


def _offset(ts: pd.Timestamp) -> str:
    minutes = int(ts.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _window(signals: pd.DataFrame, start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(start) if start is not None else None
    end = pd.Timestamp(end) if end is not None else None
    if start is None or end is None:
        if signals.empty:
            raise InputError("no signals to plot and no --from/--until window given")
        start = start if start is not None else signals["time"].min()
        end = end if end is not None else signals["time"].max()
    if end <= start:
        raise InputError(f"empty plot window: {start} .. {end}")
    return start.tz_convert(UTC), end.tz_convert(UTC)


def _time_axis(ax, start: pd.Timestamp, end: pd.Timestamp) -> None:
    locator = mdates.AutoDateLocator(tz=UTC, minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    ax.set_xlim(*to_num([start, end]))


def _short(text) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"


def plot_timeline(signals: pd.DataFrame, outages: pd.DataFrame | None = None,
                  events: pd.DataFrame | None = None, entity: str | None = None,
                  start=None, end=None, tz: str | None = None, credit: str | None = None) -> Figure:
    """One entity's signals, one line per datasource in percent of its window maximum.

    Outages of the entity are shaded in IODA's outage red, events are dashed vertical markers
    labelled with their (shortened) title, gaps stay gaps. The time axis is UTC; `tz` (default: the
    country's zone) is noted under it. `credit` is printed in the corner (data attribution).
    """
    if entity is None:
        entities = signals["entity"].unique() if not signals.empty else []
        if len(entities) != 1:
            raise InputError(f"plot_timeline needs one entity, got {len(entities)}")
        entity = entities[0]
    start, end = _window(signals, start, end)
    tz = tz or local_zone(entity)
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax = fig.add_subplot()
    _draw_signals(ax, signals[signals["entity"] == entity], start, end)
    if outages is not None and not outages.empty:
        _draw_outages(ax, outages[outages["entity"] == entity], start, end)
    if events is not None and not events.empty:
        _draw_events(ax, events, start, end)
    _time_axis(ax, start, end)
    ax.set_ylim(0, 125)
    ax.set_ylabel("% of window maximum")
    ax.set_xlabel(zone_note(tz, start, end))
    ax.grid(True, color="#E6E6E6", linewidth=0.6)
    ax.set_title(f"{entity}  {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC", fontsize=10, loc="left")
    if ax.get_legend_handles_labels()[0]:
        fig.legend(loc="outside lower center", ncols=5, fontsize=7, frameon=False)
    if credit:
        fig.text(0.995, 0.995, credit, ha="right", va="top", fontsize=6, color="#555555", parse_math=False)
    return fig


def _draw_signals(ax, signals: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> None:
    window = signals[(signals["time"] >= start) & (signals["time"] < end)]
    names = sorted(window["datasource"].unique())
    colors = datasource_colors(names)
    width = 1.3 if (end - start) <= pd.Timedelta(days=3) else 0.8
    for name in names:
        series = window[window["datasource"] == name].sort_values("time")
        pct, top = normalise(series["value"].to_numpy(dtype=float))
        x, y = break_gaps(to_num(series["time"]), pct)
        label = f"{name} (100% = {top:,.0f})" if math.isfinite(top) else f"{name} (no data)"
        ax.plot(x, y, color=colors[name], linewidth=width, label=label, gid=f"signal:{name}")


def _clip(t_start, t_end, start: pd.Timestamp, end: pd.Timestamp):
    """An interval clipped to the window, or None when outside it (a missing end = still ongoing)."""
    lo = max(pd.Timestamp(t_start), start)
    hi = end if t_end is None or pd.isna(t_end) else min(pd.Timestamp(t_end), end)
    return (lo, hi) if hi > lo else None


def _draw_outages(ax, outages: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> None:
    labelled = False
    for row in outages.itertuples(index=False):
        span = _clip(row.start, row.end, start, end)
        if span is None:
            continue
        x0, x1 = to_num(list(span))
        ax.axvspan(x0, x1, color=OUTAGE_COLOR, alpha=0.16, linewidth=0, gid="outage",
                   label=None if labelled else "outage")
        labelled = True


def _draw_events(ax, events: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """Dashed line and label at each event's start; an event begun before the window and still
    running is marked at the window's left edge with a `←`."""
    ends = events["end"].where(events["end"].notna(), events["start"])
    shown = events[(events["start"] < end) & ((events["start"] >= start) | (ends > start))].sort_values("start")
    lanes = (0.98, 0.80)  # alternate label heights so neighbours overlap less
    for i, row in enumerate(shown.itertuples(index=False)):
        before = row.start < start
        x = to_num([max(row.start, start)])[0]
        color = EVENT_KIND_COLORS.get(row.kind, EVENT_KIND_COLORS["other"])
        ax.axvline(x, color=color, linestyle="--", linewidth=0.9, gid="event")
        ax.plot([x], [1.0], marker="v", color=color, markersize=6, transform=ax.get_xaxis_transform(),
                clip_on=False, gid="event-marker")
        label = ("← " if before else " ") + _short(row.title)
        ax.text(x, lanes[i % 2], label, transform=ax.get_xaxis_transform(), ha="left", va="top",
                fontsize=7, color=color, parse_math=False, clip_on=True, gid="event-label")


def outage_country(outages: pd.DataFrame) -> pd.Series:
    """The country of each outage: its `country` column, else the entity's code when it is a country."""
    from_entity = outages["entity"].map(lambda e: Entity.parse(e).country or e)
    return outages["country"].where(outages["country"].notna(), from_entity)


def plot_overview(outages: pd.DataFrame, events: pd.DataFrame | None = None, countries=None,
                  start=None, end=None) -> Figure:
    """Outages per country (one row each) coloured by depth, with events as markers above each row."""
    if start is None or end is None:
        raise InputError("plot_overview needs a start and an end")
    start, end = pd.Timestamp(start).tz_convert(UTC), pd.Timestamp(end).tz_convert(UTC)
    cc = outage_country(outages) if not outages.empty else pd.Series(dtype=object)
    rows = list(countries) if countries else sorted(cc.dropna().unique())
    fig = Figure(figsize=(10, max(2.5, 0.32 * len(rows) + 1.6)), layout="constrained")
    ax = fig.add_subplot()
    cmap, norm = colormaps["YlOrRd"], Normalize(0.0, 1.0)
    min_width = (to_num([end])[0] - to_num([start])[0]) * 0.002  # a 5-minute cut stays visible
    for y, country in enumerate(rows):
        mine = outages[cc == country] if not outages.empty else outages
        bars, colors = _bars(mine, start, end, min_width, cmap, norm)
        if bars:
            ax.broken_barh(bars, (y - 0.3, 0.6), facecolors=colors, edgecolor="#5a0000",
                           linewidth=0.3, gid=f"outages:{country}")
    if events is not None and not events.empty:
        _event_marks(ax, events, rows, start, end)
    _time_axis(ax, start, end)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_ylim(len(rows) - 0.4, -0.7)
    ax.set_xlabel("time (UTC)")
    ax.grid(True, axis="x", color="#E6E6E6", linewidth=0.6)
    ax.set_title(f"Outages {start:%Y-%m-%d} – {end:%Y-%m-%d} UTC; colour = depth (share of baseline lost)",
                 fontsize=10, loc="left")
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="depth", fraction=0.03, pad=0.01)
    return fig


def _bars(outages: pd.DataFrame, start, end, min_width: float, cmap, norm):
    bars, colors = [], []
    for row in outages.itertuples(index=False):
        span = _clip(row.start, row.end, start, end)
        if span is None:
            continue
        x0, x1 = to_num(list(span))
        bars.append((x0, max(x1 - x0, min_width)))
        depth = row.depth
        colors.append("#9E9E9E" if depth is None or pd.isna(depth) else cmap(norm(float(depth))))
    return bars, colors


def _event_marks(ax, events: pd.DataFrame, rows: list, start, end) -> None:
    ypos = {country: y for y, country in enumerate(rows)}
    shown = events[events["country"].isin(ypos) & (events["start"] >= start) & (events["start"] < end)]
    for kind, group in shown.groupby("kind", sort=True):
        ax.scatter(to_num(group["start"]), group["country"].map(ypos) - 0.42, marker="v", s=22,
                   color=EVENT_KIND_COLORS.get(kind, EVENT_KIND_COLORS["other"]), label=str(kind),
                   zorder=3, gid=f"events:{kind}", clip_on=True)
    if not shown.empty:
        ax.figure.legend(title="events", loc="outside lower center", ncols=len(EVENT_KIND_COLORS),
                         fontsize=7, title_fontsize=7, frameon=False)


def poisson_range(expected: float, level: float = 0.95) -> tuple[float, float]:
    """The central `level` range of a Poisson count with mean `expected`: what chance alone gives."""
    if not math.isfinite(expected) or expected < 0:
        return math.nan, math.nan
    k = np.arange(int(expected + 10 * math.sqrt(expected) + 20))
    log_pmf = k * math.log(expected) - expected - np.concatenate(([0.0], np.cumsum(np.log(k[1:])))) \
        if expected > 0 else np.where(k == 0, 0.0, -np.inf)
    cdf = np.cumsum(np.exp(log_pmf))
    tail = (1 - level) / 2
    return float(np.searchsorted(cdf, tail)), float(np.searchsorted(cdf, 1 - tail))


def plot_coincidence_summary(summary: pd.DataFrame, alpha: float = 0.05) -> Figure:
    """Observed vs expected coincidences per country and event kind (and method, when several).

    Each row shows the expected count (open marker) with its 95 % Poisson range by chance (a bar)
    and the observed count (dot, red when significant: the correlator's verdict, else adjusted p
    under `alpha`).
    """
    rows = summary.reset_index(drop=True)
    fig = Figure(figsize=(8, max(2.2, 0.3 * len(rows) + 1.4)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    if len(rows):
        lo, hi = np.array([poisson_range(float(e)) for e in rows["expected"]]).T
        ax.hlines(y, lo, hi, color="#9E9E9E", linewidth=3, label="95% range by chance (Poisson)",
                  gid="chance-range")
        ax.scatter(rows["expected"], y, marker="o", facecolors="white", edgecolors="#333333", zorder=3,
                   label="expected", gid="expected")
        colors = np.where(_significant(rows, alpha), OUTAGE_COLOR, "#1F78B4")
        ax.scatter(rows["observed"], y, marker="o", color=colors, zorder=4, label="observed", gid="observed")
        fig.legend(loc="outside lower center", ncols=3, fontsize=7, frameon=False)
    ax.set_yticks(y, _pair_labels(rows))
    for tick in ax.get_yticklabels():
        tick.set_parse_math(False)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(left=0)
    ax.set_xlabel("coincidences")
    ax.grid(True, axis="x", color="#E6E6E6", linewidth=0.6)
    ax.set_title("Observed vs expected coincidences; red: significant after correction", fontsize=10, loc="left")
    return fig


def _pair_labels(rows: pd.DataFrame) -> list[str]:
    parts = [rows.get("country", pd.Series([None] * len(rows))), rows.get("kind", pd.Series([None] * len(rows)))]
    if "method" in rows and rows["method"].nunique() > 1:
        parts.append(rows["method"])
    return [" · ".join(_or_all(v) for v in values) for values in zip(*parts)]


def _significant(rows: pd.DataFrame, alpha: float) -> np.ndarray:
    if "verdict" in rows:
        return (rows["verdict"] == "significant").to_numpy()
    p = rows["p_adjusted"] if "p_adjusted" in rows else pd.Series(np.nan, index=rows.index)
    return (p.astype(float) < alpha).to_numpy()


def _or_all(value) -> str:
    return "all" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def figure_bytes(fig: Figure, fmt: str = "png", dpi: int = 110) -> bytes:
    """The figure encoded as PNG or SVG bytes."""
    if fmt not in ("png", "svg"):
        raise InputError(f"unsupported chart format {fmt!r}: use png or svg")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Software": None} if fmt == "png" else {"Date": None})
    return buf.getvalue()
