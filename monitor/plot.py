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
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch
from matplotlib.textpath import text_to_path

from monitor.entities import Entity
from monitor.errors import InputError

# IODA dashboard colours (ioda-ui `utils/index.js`); readers of this field know them.
DATASOURCE_COLORS = {"ping-slash24": "#1F78B4", "bgp": "#33A02C", "merit-nt": "#ED9B40", "gtr": "#5F2CA0"}
OUTAGE_COLOR = "#BE1D2D"
# For datasources IODA does not have: distinct from the four above and from the outage red.
EXTRA_COLORS = ["#17BECF", "#B15928", "#E7298A", "#666666", "#A6761D", "#1B9E77", "#7570B3", "#D4B000"]
EVENT_KIND_COLORS = {"election": "#6A3D9A", "results": "#CAB2D6", "protest": "#E08214",
                     "opposition_event": "#B35806", "exam": "#2C7FB8", "coup": "#000000",
                     "shutdown_report": "#67000D", "other": "#777777"}
LABEL_CHARS = 40
# Event labels sit in a band above the plot area, staggered on up to EVENT_LABEL_ROWS rows; lengths in points.
EVENT_LABEL_ROWS = 5
EVENT_LABEL_SIZE = 7
EVENT_LABEL_BASE = 4.5      # first row's bottom above the axes (the `v` marker reaches 3 pt above)
EVENT_LABEL_PITCH = 1.6     # row spacing, in font sizes
EVENT_LABEL_PAD = 1.0       # between a marker and the start (or end) of its label
EVENT_LABEL_GAP = 4.0       # least horizontal space between two labels on one row
EVENT_LABEL_HINTING = 0.12  # extra width a label may take when hinted for a raster
EVENT_LABEL_MIN_CHARS = 12  # a label shortened to make room for a neighbour keeps at least this many
TIMELINE_SIZE = (10, 4.2)   # inches, without the label band
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


# Datasources whose share of a window maximum misleads: drawn in their own units. A count of RIPE Atlas
# probes is a handful of machines, not a country's internet; disconnections are events, not a level.
COUNT_UNITS = {"atlas-connected": "probes connected"}
MARK_UNITS = {"atlas-disconnects": "disconnections per bin"}
NO_DATA_HATCH = "////"
EVENT_SPAN_ALPHA = 0.10


def plot_timeline(signals: pd.DataFrame, outages: pd.DataFrame | None = None,
                  events: pd.DataFrame | None = None, entity: str | None = None,
                  start=None, end=None, tz: str | None = None, credit: str | None = None,
                  event_numbers: dict | None = None) -> Figure:
    """One entity's signals: IODA-like signals in percent of their window maximum on the top panel,
    RIPE Atlas probes connected as counts and disconnections as marks on panels of their own.

    Outages are shaded in IODA's outage red, stretches without data of a series are hatched in its
    colour (a line never just stops), events are dashed markers at their start and a light span to
    their end, one colour per kind, each named in the legend; events listed twice are drawn once.
    Labels are staggered on rows in a band above the plot, so labels of events close in time never
    overlap; with `event_numbers` ({(source, uid): n}) each label starts with the event's number in
    the report's table, which holds the full title. The time axis is UTC; `tz` (default: the country's
    zone) is noted under it. `credit` is printed in the corner (data attribution).
    """
    if entity is None:
        entities = signals["entity"].unique() if not signals.empty else []
        if len(entities) != 1:
            raise InputError(f"plot_timeline needs one entity, got {len(entities)}")
        entity = entities[0]
    start, end = _window(signals, start, end)
    tz = tz or local_zone(entity)
    mine = signals[(signals["entity"] == entity) & (signals["time"] >= start) & (signals["time"] < end)]
    names = sorted(mine["datasource"].unique())
    groups = [("pct", [n for n in names if n not in COUNT_UNITS and n not in MARK_UNITS]),
              ("count", [n for n in names if n in COUNT_UNITS]), ("marks", [n for n in names if n in MARK_UNITS])]
    groups = [(kind, group) for kind, group in groups if group] or [("pct", [])]
    heights = [1.0 if kind == "marks" else 2.6 for kind, _ in groups]
    tall = TIMELINE_SIZE[1] * sum(heights) / 2.6 * (0.85 if len(groups) > 1 else 1)   # panels share the axis
    fig = Figure(figsize=(TIMELINE_SIZE[0], tall), layout="constrained")
    axes = fig.subplots(len(groups), 1, sharex=True, squeeze=False, height_ratios=heights)[:, 0]
    colors = datasource_colors(names)
    width = 1.3 if (end - start) <= pd.Timedelta(days=3) else 0.8
    for ax, (kind, group) in zip(axes, groups):
        for name in group:
            series = mine[mine["datasource"] == name].sort_values("time")
            _draw_series(ax, kind, name, series, colors[name], width)
            _shade_no_data(ax, series, start, end, colors[name], name)
        if outages is not None and not outages.empty:
            _draw_outages(ax, outages[outages["entity"] == entity], start, end, legend=ax is axes[0])
        _time_axis(ax, start, end)
        ax.grid(True, color="#E6E6E6", linewidth=0.6)
        _label_panel(ax, kind, group)
    ax = axes[0]
    labels = []
    if events is not None and not events.empty:
        labels = _draw_events(axes, _merged(events), start, end, event_numbers)
    axes[-1].set_xlabel(zone_note(tz, start, end))
    title = f"{entity}  {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"
    ax.set_title(title, fontsize=10, loc="left")
    handles = [h for a in axes for h in a.get_legend_handles_labels()[0]]
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=7, frameon=False)
    if credit:
        fig.text(0.995, 0.995, credit, ha="right", va="top", fontsize=6, color="#555555", parse_math=False)
    if labels:
        band, omitted = _place_event_labels(fig, ax, labels)
        if omitted:
            title += f"   ({omitted} event label{'s' if omitted > 1 else ''} left out for space)"
        # the figure grows by the label band, so the plot area keeps its height; the title sits above the band
        fig.set_figheight(fig.get_figheight() + band / 72)
        ax.set_title(title, fontsize=10, loc="left", pad=band + 4)
    return fig


def _label_panel(ax, kind: str, group: list[str]) -> None:
    if kind == "pct":
        ax.set_ylim(0, 110)
        ax.set_ylabel("% of window maximum")
    elif kind == "count":
        ax.set_ylim(bottom=0)
        ax.set_ylabel(", ".join(COUNT_UNITS[n] for n in group), fontsize=8)
    else:
        ax.set_ylim(bottom=0)
        ax.set_ylabel(", ".join(MARK_UNITS[n] for n in group), fontsize=7)


def _draw_series(ax, kind: str, name: str, series: pd.DataFrame, color: str, width: float) -> None:
    values = series["value"].to_numpy(dtype=float)
    if kind == "pct":
        pct, top = normalise(values)
        x, y = break_gaps(to_num(series["time"]), pct)
        label = f"{name} (100% = {top:,.0f})" if math.isfinite(top) else f"{name} (no data)"
        ax.plot(x, y, color=color, linewidth=width, label=label, gid=f"signal:{name}")
    elif kind == "count":
        x, y = break_gaps(to_num(series["time"]), values)
        ax.plot(x, y, color=color, linewidth=width, drawstyle="steps-post", label=f"{name} ({COUNT_UNITS[name]})",
                gid=f"signal:{name}")
    else:
        hit = np.nan_to_num(values) > 0
        x = to_num(series["time"])[hit]
        ax.vlines(x, 0, values[hit], color=color, linewidth=1.0, gid=f"marks:{name}")
        ax.plot(x, values[hit], linestyle="none", marker="o", markersize=2.5, color=color,
                label=f"{name} ({MARK_UNITS[name]}; bins without any not drawn)", gid=f"marks-dots:{name}")


def _shade_no_data(ax, series: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, color: str, name: str) -> None:
    """Hatch every stretch of the window where the series has no value (at least one step long)."""
    t = pd.DatetimeIndex(series["time"]).as_unit("ns").asi8
    if len(t) < 2:
        return
    step = int(np.median(np.diff(t)))
    have = t[series["value"].notna().to_numpy()]
    lo, hi = start.as_unit("ns").value, end.as_unit("ns").value
    if have.size == 0:
        spans = [(lo, hi)]
    else:
        jumps = np.flatnonzero(np.diff(have) > 1.5 * step)
        spans = list(zip(np.concatenate(([lo], have[jumps] + step, [have[-1] + step])),
                         np.concatenate(([have[0]], have[jumps + 1], [hi]))))
    labelled = False
    for a, b in spans:
        if b - a < step:
            continue
        x0, x1 = mdates.date2num(pd.to_datetime([a, b], utc=True).tz_localize(None).to_numpy())
        ax.axvspan(x0, x1, facecolor="none", edgecolor=color, hatch=NO_DATA_HATCH, alpha=0.35, linewidth=0,
                   gid=f"no-data:{name}", label=None if labelled else f"no data: {name}")
        labelled = True


def _clip(t_start, t_end, start: pd.Timestamp, end: pd.Timestamp):
    """An interval clipped to the window, or None when outside it (a missing end = still ongoing)."""
    lo = max(pd.Timestamp(t_start), start)
    hi = end if t_end is None or pd.isna(t_end) else min(pd.Timestamp(t_end), end)
    return (lo, hi) if hi > lo else None


def _draw_outages(ax, outages: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, legend: bool = True) -> None:
    labelled = not legend
    for row in outages.itertuples(index=False):
        span = _clip(row.start, row.end, start, end)
        if span is None:
            continue
        x0, x1 = to_num(list(span))
        ax.axvspan(x0, x1, color=OUTAGE_COLOR, alpha=0.16, linewidth=0, gid="outage",
                   label=None if labelled else "outage")
        labelled = True


def event_key(row) -> tuple:
    """What makes two calendar rows the same event: kind, start, end and title (case and spacing aside)."""
    end = row["end"] if not pd.isna(row["end"]) else None
    return (row["kind"], pd.Timestamp(row["start"]), end, " ".join(str(row["title"] or "").split()).casefold())


def _merged(events: pd.DataFrame) -> pd.DataFrame:
    """Events listed twice (by two sources, or twice by one) kept once."""
    keys = events.apply(event_key, axis=1)
    return events[~keys.duplicated()]


def _draw_events(axes, events: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                 numbers: dict | None = None) -> list[tuple]:
    """Dashed line at each event's start and a light span to its end on every panel; `v` marker above
    the top panel; an event begun before the window and still running is marked at the window's left
    edge (its label starts with `←`). One legend entry per kind.

    Returns the labels to place, as (x, text, colour, full title) in window order; `_place_event_labels`
    draws them once the layout is known.
    """
    ax = axes[0]
    ends = events["end"].where(events["end"].notna(), events["start"])
    shown = events[(events["start"] < end) & ((events["start"] >= start) | (ends > start))].sort_values("start")
    labels, kinds = [], {}
    for row, stop in zip(shown.itertuples(index=False), ends[shown.index]):
        before = row.start < start
        x = to_num([max(row.start, start)])[0]
        color = EVENT_KIND_COLORS.get(row.kind, EVENT_KIND_COLORS["other"])
        kinds[str(row.kind)] = color
        for panel in axes:
            if not before:
                panel.axvline(x, color=color, linestyle="--", linewidth=0.9, gid="event")
            if stop > row.start:
                x1 = to_num([min(stop, end)])[0]
                panel.axvspan(x, x1, color=color, alpha=EVENT_SPAN_ALPHA, linewidth=0, gid="event-span")
        ax.plot([x], [1.0], marker="v", color=color, markersize=6, transform=ax.get_xaxis_transform(),
                clip_on=False, gid="event-marker")
        title = _title(row)
        n = (numbers or {}).get((row.source, row.uid))
        text = (f"{n} " if n is not None else "") + _short(title)
        labels.append((x, ("← " if before else "") + text, color, title))
    for kind, color in sorted(kinds.items()):
        ax.plot([], [], color=color, linestyle="--", linewidth=0.9, label=f"event: {kind}", gid="event-legend")
    return labels


def _title(row) -> str:
    title = row.title if isinstance(row.title, str) else ""
    return " ".join(title.split()) or str(row.kind or "event")


def _label_width(text: str) -> float:
    """Width in points that an event label may take when drawn, at any dpi.

    Measured from the font's outlines (unhinted, as SVG draws it); raster output hints glyphs to the
    pixel grid, which makes a label up to ~10 % wider or narrower depending on the dpi, so a margin
    is added.
    """
    width = text_to_path.get_text_width_height_descent(text, FontProperties(size=EVENT_LABEL_SIZE),
                                                        ismath=False)[0]
    return width * (1 + EVENT_LABEL_HINTING)


def _fit(text: str, width: float) -> str | None:
    """`text`, cut with an ellipsis to fit `width` points; None when that leaves under EVENT_LABEL_MIN_CHARS."""
    if _label_width(text) <= width:
        return text
    body = text.rstrip("…")
    lo, hi = EVENT_LABEL_MIN_CHARS - 1, len(body) - 1  # characters kept before the ellipsis
    if lo > hi or _label_width(body[:lo].rstrip() + "…") > width:
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _label_width(body[:mid].rstrip() + "…") <= width:
            lo = mid
        else:
            hi = mid - 1
    return body[:lo].rstrip() + "…"


def _stagger(labels: list[tuple], axes_width: float, xlim: tuple[float, float]) -> tuple[list[dict], int]:
    """Rows for event labels over an axes `axes_width` points wide, chosen greedily.

    A label starts at its marker, or ends there when it would run past the right edge. Taken from left
    to right, each goes on the lowest row where it clears the row's last label by EVENT_LABEL_GAP. When
    all EVENT_LABEL_ROWS rows are taken there, the row whose last label can keep the most text is
    shortened to make room; failing that, the label is left out (its marker line stays).

    Returns the placed labels ({index, row, align, text}) and how many were left out.
    """
    lo, hi = xlim
    items = []
    for i, (x, text, _, _) in enumerate(labels):
        anchor = (x - lo) / (hi - lo) * axes_width
        width = _label_width(text)
        right = anchor + EVENT_LABEL_PAD + width > axes_width and anchor - EVENT_LABEL_PAD - width >= 0
        left = anchor - EVENT_LABEL_PAD - width if right else anchor + EVENT_LABEL_PAD
        items.append({"index": i, "left": left, "width": width, "align": "right" if right else "left",
                      "text": text})
    rows: list[dict] = []     # the last label of each row
    placed, omitted = [], 0
    for item in sorted(items, key=lambda it: (it["left"], it["index"])):
        free = [r for r, last in enumerate(rows) if last["left"] + last["width"] + EVENT_LABEL_GAP <= item["left"]]
        if free:
            row = free[0]
        elif len(rows) < EVENT_LABEL_ROWS:
            rows.append({})
            row = len(rows) - 1
        else:
            row = max(range(len(rows)), key=lambda r: item["left"] - rows[r]["left"])
            last = rows[row]
            room = item["left"] - EVENT_LABEL_GAP - last["left"]
            cut = _fit(last["text"], room) if last["align"] == "left" else None
            if cut is None:
                omitted += 1
                continue
            last.update(text=cut, width=_label_width(cut))
        item["row"] = row
        rows[row] = item
        placed.append(item)
    return sorted(placed, key=lambda it: it["index"]), omitted


def _place_event_labels(fig: Figure, ax, labels: list[tuple]) -> tuple[float, int]:
    """Event labels on rows above the plot area, so labels of events close in time never overlap.

    The rows are chosen against the width of the laid-out axes; each label is offset from its marker
    in points, so it keeps its place whatever the dpi the figure is saved at. A label's `full_title`
    keeps the event's whole title when the text is shortened. Returns the height of the label band in
    points and the number of labels left out.
    """
    engine = fig.get_layout_engine()
    pitch = EVENT_LABEL_SIZE * EVENT_LABEL_PITCH
    texts, width = [], None
    for _ in range(3):   # should the layout nudge the axes width once the labels are in, place again
        if engine is not None:
            engine.execute(fig)
        now = ax.get_position().width * fig.get_figwidth() * 72
        if width is not None and abs(now - width) < 0.5:
            break
        width = now
        for text in texts:
            text.remove()
        placed, omitted = _stagger(labels, width, ax.get_xlim())
        texts = []
        for item in placed:
            x, _, color, title = labels[item["index"]]
            dx = EVENT_LABEL_PAD if item["align"] == "left" else -EVENT_LABEL_PAD
            text = ax.annotate(item["text"], xy=(x, 1.0), xycoords=ax.get_xaxis_transform(),
                               xytext=(dx, EVENT_LABEL_BASE + item["row"] * pitch), textcoords="offset points",
                               ha=item["align"], va="bottom", fontsize=EVENT_LABEL_SIZE, color=color,
                               parse_math=False, annotation_clip=False, clip_on=False, gid="event-label")
            text.full_title = title
            texts.append(text)
    rows = 1 + max((item["row"] for item in placed), default=-1)
    return (EVENT_LABEL_BASE + rows * pitch if rows else 0.0), omitted


def outage_country(outages: pd.DataFrame) -> pd.Series:
    """The country of each outage: its `country` column, else the entity's code when it is a country."""
    from_entity = outages["entity"].map(lambda e: Entity.parse(e).country or e)
    return outages["country"].where(outages["country"].notna(), from_entity)


NO_DEPTH_COLOR = "#9E9E9E"


def plot_overview(outages: pd.DataFrame, events: pd.DataFrame | None = None, countries=None,
                  start=None, end=None) -> Figure:
    """Outages per country (one row each), coloured by depth where their source records one (the
    colour bar) and grey where it does not (named in the legend); events above each row, one lane
    per kind so no kind hides another, a multi-day event as a line to its end."""
    if start is None or end is None:
        raise InputError("plot_overview needs a start and an end")
    start, end = pd.Timestamp(start).tz_convert(UTC), pd.Timestamp(end).tz_convert(UTC)
    cc = outage_country(outages) if not outages.empty else pd.Series(dtype=object)
    rows = list(countries) if countries else sorted(cc.dropna().unique())
    kinds = _event_kinds(events, rows, start, end)
    lane = 0.34 / max(len(kinds), 1)
    fig = Figure(figsize=(10, max(2.5, (0.34 + lane * len(kinds)) * len(rows) + 1.9)), layout="constrained")
    ax = fig.add_subplot()
    cmap, norm = colormaps["YlOrRd"], Normalize(0.0, 1.0)
    min_width = (to_num([end])[0] - to_num([start])[0]) * 0.002  # a 5-minute cut stays visible
    pitch = 0.6 + lane * len(kinds) + 0.15
    unknown = known = False
    for y, country in enumerate(rows):
        mine = outages[cc == country] if not outages.empty else outages
        bars, colors, depths = _bars(mine, start, end, min_width, cmap, norm)
        if bars:
            ax.broken_barh(bars, (y * pitch - 0.3, 0.6), facecolors=colors, edgecolor="#5a0000",
                           linewidth=0.3, gid=f"outages:{country}")
            unknown |= any(d is None for d in depths)
            known |= any(d is not None for d in depths)
    if kinds:
        _event_marks(ax, events, rows, kinds, start, end, pitch, lane)
    _time_axis(ax, start, end)
    ax.set_yticks([y * pitch for y in range(len(rows))], rows)
    ax.set_ylim((len(rows) - 1) * pitch + 0.4, -0.35 - lane * len(kinds) - 0.1)
    ax.set_xlabel("time (UTC)")
    ax.grid(True, axis="x", color="#E6E6E6", linewidth=0.6)
    what = "colour = depth (share of baseline lost)" if known else "depth not recorded by this source"
    ax.set_title(f"Outages {start:%Y-%m-%d} – {end:%Y-%m-%d} UTC; {what}", fontsize=10, loc="left")
    if known:
        fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="depth", fraction=0.03, pad=0.01)
    handles = ax.get_legend_handles_labels()[0]
    if unknown:
        handles.append(Patch(facecolor=NO_DEPTH_COLOR, edgecolor="#5a0000", linewidth=0.3,
                             label="outage, depth not recorded"))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6), fontsize=7, frameon=False)
    return fig


def _event_kinds(events, rows, start, end) -> list[str]:
    if events is None or events.empty:
        return []
    shown = events[events["country"].isin(rows) & (events["start"] >= start) & (events["start"] < end)]
    return sorted(shown["kind"].astype(str).unique())


def _bars(outages: pd.DataFrame, start, end, min_width: float, cmap, norm):
    bars, colors, depths = [], [], []
    for row in outages.itertuples(index=False):
        span = _clip(row.start, row.end, start, end)
        if span is None:
            continue
        x0, x1 = to_num(list(span))
        bars.append((x0, max(x1 - x0, min_width)))
        depth = None if row.depth is None or pd.isna(row.depth) else float(row.depth)
        depths.append(depth)
        colors.append(NO_DEPTH_COLOR if depth is None else cmap(norm(depth)))
    return bars, colors, depths


def _event_marks(ax, events: pd.DataFrame, rows: list, kinds: list[str], start, end, pitch: float,
                 lane: float) -> None:
    """Each kind of event on its own lane above the country's bars: a marker at the start and a line
    to the end of a multi-day event; duplicates drawn once."""
    ypos = {country: y * pitch for y, country in enumerate(rows)}
    shown = _merged(events[events["country"].isin(ypos) & (events["start"] >= start) & (events["start"] < end)])
    for i, kind in enumerate(kinds):
        group = shown[shown["kind"].astype(str) == kind]
        color = EVENT_KIND_COLORS.get(kind, EVENT_KIND_COLORS["other"])
        y = group["country"].map(ypos) - 0.38 - lane * i
        ends = group["end"].where(group["end"].notna(), group["start"]).clip(upper=end)
        long = ends > group["start"] + pd.Timedelta(days=1)
        if long.any():
            ax.hlines(y[long], to_num(group["start"][long]), to_num(ends[long]), color=color, linewidth=1.2,
                      gid=f"event-spans:{kind}")
        ax.scatter(to_num(group["start"]), y, marker="v", s=18, color=color, label=f"event: {kind}",
                   zorder=3 + i, gid=f"events:{kind}", clip_on=True, linewidths=0)


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
        if {"chance_low", "chance_high"} <= set(rows.columns):  # the correlator's own null (shift test)
            lo, hi, label = rows["chance_low"].to_numpy(float), rows["chance_high"].to_numpy(float), \
                "range by chance (calendar shifted)"
        else:
            lo, hi = np.array([poisson_range(float(e)) for e in rows["expected"]]).T
            label = "95% range by chance (Poisson)"
        ax.hlines(y, lo, hi, color="#9E9E9E", linewidth=3, label=label, gid="chance-range")
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
