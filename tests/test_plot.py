"""Charts are checked for what they show (lines, colours, shaded spans, labels, gaps), not for bytes.

The timeline uses IODA's real Iran 2019 series (data/ioda-iran-2019)."""

import subprocess
import sys

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex

from monitor import plot
from monitor.errors import InputError

AP = "ioda-iran-2019/20191123-ioda-iran-countrywide-active-probing.csv"
BGP = "ioda-iran-2019/20191123-ioda-iran-countrywide-bgp_window_2019-11-15T17_2019-11-17T20.csv"
T = pd.Timestamp


def _series(path, datasource):
    raw = pd.read_csv(path)
    return pd.DataFrame({"entity": "country/IR", "datasource": datasource,
                         "time": pd.to_datetime(raw["timestamp"], utc=True), "value": raw["value"].astype(float)})


@pytest.fixture
def iran(data_dir):
    return pd.concat([_series(data_dir / AP, "ping-slash24"), _series(data_dir / BGP, "bgp")], ignore_index=True)


def _outage(start, end, entity="country/IR", depth=0.9, oid=None):
    return {"outage_id": oid or f"detected:{entity}:{start}", "source": "detected", "entity": entity,
            "country": entity.split("/")[1], "start": T(start), "end": None if end is None else T(end),
            "datasources": ["ping-slash24"], "depth": depth, "score": 1.0, "method": "test", "detail": {}}


def _event(start, title, kind="protest", country="IR", end=None):
    return {"uid": title, "source": "test", "kind": kind, "country": country, "region": None, "start": T(start),
            "end": T(end or start), "all_day": False, "title": title, "url": None, "description": None, "raw": None}


def _lines(fig):
    return {line.get_gid(): line for line in fig.axes[0].get_lines() if (line.get_gid() or "").startswith("signal:")}


def _gid(fig, gid):
    return [a for a in fig.axes[0].get_children() if getattr(a, "get_gid", lambda: None)() == gid]


def test_one_line_per_datasource_in_iodas_colours_normalised_to_window_max(iran):
    fig = plot.plot_timeline(iran, entity="country/IR", tz="Asia/Tehran")
    lines = _lines(fig)
    assert set(lines) == {"signal:ping-slash24", "signal:bgp"}
    assert to_hex(lines["signal:ping-slash24"].get_color()).upper() == "#1F78B4"
    assert to_hex(lines["signal:bgp"].get_color()).upper() == "#33A02C"
    y = lines["signal:ping-slash24"].get_ydata()
    assert np.nanmax(y) == pytest.approx(100.0)
    # the blackout: active probing falls to a few percent of the window's maximum
    x = lines["signal:ping-slash24"].get_xdata()
    during = y[(x >= mdates.date2num(T("2019-11-18"))) & (x < mdates.date2num(T("2019-11-20")))]
    assert np.nanmax(during) < 10
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "ping-slash24 (100% = 14,116)" in labels


def test_other_datasources_get_distinct_colours():
    colors = plot.datasource_colors(["bgp", "ripe-atlas", "zeta", "alpha"])
    assert colors["bgp"] == "#33A02C"
    extra = [colors[d] for d in ("ripe-atlas", "zeta", "alpha")]
    assert len(set(extra)) == 3
    assert not set(extra) & (set(plot.DATASOURCE_COLORS.values()) | {plot.OUTAGE_COLOR})


def test_stored_nan_and_missing_bins_are_gaps_not_interpolated(iran):
    # bgp has two stored NaN values (07:55 and 15:55 on 11-16); cut a 2-hour hole into ping-slash24
    hole = (T("2019-11-15T10:00Z"), T("2019-11-15T12:00Z"))
    cut = iran[~((iran["datasource"] == "ping-slash24") & (iran["time"] >= hole[0]) & (iran["time"] < hole[1]))]
    fig = plot.plot_timeline(cut, entity="country/IR", start=T("2019-11-15T00:00Z"), end=T("2019-11-17T00:00Z"))
    bgp = _lines(fig)["signal:bgp"]
    assert np.isnan(bgp.get_ydata()).sum() == 2
    ap = _lines(fig)["signal:ping-slash24"]
    x, y = ap.get_xdata(), ap.get_ydata()
    inside = (x > mdates.date2num(hole[0] - pd.Timedelta("10min"))) & (x < mdates.date2num(hole[1]))
    assert np.isnan(y[inside]).all() and inside.sum() == 1   # one NaN break, no invented point


def test_outages_shaded_clipped_to_window_and_events_labelled(iran):
    outages = pd.DataFrame([_outage("2019-11-16T16:20Z", "2019-11-23T11:00Z"),
                            _outage("2019-10-01T00:00Z", "2019-10-02T00:00Z"),          # outside
                            _outage("2019-11-16T00:00Z", None, entity="country/TJ")])   # other entity
    events = pd.DataFrame([_event("2019-11-15T00:00Z", "Fuel price protests $5 and $10", end="2019-11-18T00:00Z"),
                           _event("2019-11-20T10:00Z", "Second event", kind="other"),
                           _event("2019-12-20T10:00Z", "Outside the window")])
    start, end = T("2019-11-16T00:00Z"), T("2019-11-22T00:00Z")
    fig = plot.plot_timeline(iran, outages, events, entity="country/IR", start=start, end=end, tz="Asia/Tehran")
    spans = _gid(fig, "outage")
    assert len(spans) == 1
    x0, x1 = spans[0].get_x(), spans[0].get_x() + spans[0].get_width()
    assert (x0, x1) == (pytest.approx(mdates.date2num(T("2019-11-16T16:20Z"))), pytest.approx(mdates.date2num(end)))
    assert to_hex(spans[0].get_facecolor()).upper() == plot.OUTAGE_COLOR
    labels = [t.get_text() for t in _gid(fig, "event-label")]
    assert labels == ["← Fuel price protests $5 and $10", "Second event"]   # `$` stays literal
    # the protests began before the window: no start line at its edge, a span to their end instead
    assert len(_gid(fig, "event")) == 1
    span = [p for p in _gid(fig, "event-span")]
    assert len(span) == 1 and span[0].get_x() + span[0].get_width() == pytest.approx(mdates.date2num(T("2019-11-18")))
    legend = fig.axes[0].get_legend_handles_labels()[1]
    assert "event: protest" in legend and "event: other" in legend   # every event colour is named
    fig.draw_without_rendering()   # mathtext would choke on a `$...$` title if it were parsed


def _drawn(fig):
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    return renderer


def _overlapping(boxes):
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]


CLUSTER = [("2019-11-16T16:30Z", "Shutdown (Broadband and mobile) reported nationwide by NetBlocks", "shutdown_report"),
           ("2019-11-16T16:32Z", "Nationwide protests against the petrol price increase", "protest"),
           ("2019-11-16T16:40Z", "Opposition calls for a general strike", "opposition_event"),
           ("2019-11-16T16:55Z", "Exam postponed", "exam"),
           ("2019-11-16T17:05Z", "Mobile operators confirm the cut", "other")]


@pytest.mark.parametrize("start,end,dpi", [("2019-11-14T00:00Z", "2019-11-24T00:00Z", 100),   # 10 days
                                           ("2019-11-14T00:00Z", "2019-11-24T00:00Z", 220),
                                           ("2019-11-16T16:00Z", "2019-11-16T18:00Z", 100)])  # 2 hours
def test_labels_of_events_minutes_apart_do_not_overlap_and_stay_in_the_figure(iran, start, end, dpi):
    events = pd.DataFrame([_event(t, title, kind) for t, title, kind in CLUSTER]
                          + [_event("2019-11-23T23:50Z", "Mobile data restored in some provinces", "other")])
    fig = plot.plot_timeline(iran, events=events, entity="country/IR", start=T(start), end=T(end),
                             tz="Asia/Tehran", credit="Data: IODA (Georgia Tech)")
    fig.set_dpi(dpi)
    renderer = _drawn(fig)
    ax = fig.axes[0]
    texts = _gid(fig, "event-label")
    shown = sum(T(start) <= e["start"] < T(end) for e in events.to_dict("records"))
    assert len(texts) == shown and len(_gid(fig, "event")) == shown   # every event labelled, every line kept
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert not _overlapping(boxes)
    inside = fig.bbox
    assert all(inside.x0 <= b.x0 and b.x1 <= inside.x1 and inside.y0 <= b.y0 and b.y1 <= inside.y1 for b in boxes)
    # in a band between the plot area and the title, so neither the signals nor the title are covered
    plot_area, title = ax.get_window_extent(renderer), ax.title.get_window_extent(renderer)
    assert all(plot_area.y1 < b.y0 and b.y1 < title.y0 for b in boxes)
    # each label starts at its marker (or ends at it near the right edge); a long title is shortened
    near = renderer.points_to_pixels(2)
    for t, b in zip(texts, boxes):
        x = ax.transData.transform((t.xy[0], 0))[0]
        assert b.x0 == pytest.approx(x, abs=near) or b.x1 == pytest.approx(x, abs=near)
        assert t.full_title in {title for _, title, _ in CLUSTER} | {"Mobile data restored in some provinces"}
        assert t.get_text() == t.full_title or t.get_text().endswith("…")
    assert len({t.get_position()[1] for t in texts}) > 1   # staggered on several rows


def test_a_crowd_of_events_keeps_its_markers_and_leaves_out_what_cannot_fit(iran):
    times = pd.date_range("2019-11-16T16:00Z", periods=12, freq="2min")
    events = pd.DataFrame([_event(t, f"Event number {i} with a rather long descriptive title")
                           for i, t in enumerate(times)])
    fig = plot.plot_timeline(iran, events=events, entity="country/IR", start=T("2019-11-14T00:00Z"),
                             end=T("2019-11-24T00:00Z"))
    renderer = _drawn(fig)
    texts = _gid(fig, "event-label")
    assert len(_gid(fig, "event")) == 12
    assert len(texts) == plot.EVENT_LABEL_ROWS
    assert not _overlapping([t.get_window_extent(renderer) for t in texts])
    assert f"{12 - plot.EVENT_LABEL_ROWS} event labels left out for space" in fig.axes[0].get_title(loc="left")


def test_axis_is_utc_with_the_local_zone_noted():
    note = plot.zone_note("Asia/Tehran", T("2019-11-15T00:00Z"), T("2019-11-20T00:00Z"))
    assert note == "time (UTC); local time Asia/Tehran = UTC+03:30"
    dst = plot.zone_note("Europe/Berlin", T("2021-03-20T00:00Z"), T("2021-04-05T00:00Z"))
    assert dst.endswith("UTC+01:00/+02:00")
    assert plot.zone_note(None, T("2021-03-20T00:00Z"), T("2021-04-05T00:00Z")) == "time (UTC)"


@pytest.mark.parametrize("start,end", [("2019-11-16T16:00Z", "2019-11-16T18:00Z"),      # 2 hours
                                       ("2019-09-01T00:00Z", "2019-12-01T00:00Z")])     # 3 months
def test_readable_ticks_for_two_hours_and_three_months(iran, start, end):
    fig = plot.plot_timeline(iran, entity="country/IR", start=T(start), end=T(end), tz="Asia/Tehran")
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    ax = fig.axes[0]
    ticks = [t for t in ax.get_xticklabels() if t.get_text()]
    assert 3 <= len(ticks) <= 12
    boxes = [t.get_window_extent(renderer) for t in ticks]
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))     # labels do not overlap
    assert ax.get_xlim() == pytest.approx(tuple(mdates.date2num([T(start), T(end)])))
    assert "Asia/Tehran" in ax.get_xlabel()


def test_timeline_refuses_ambiguous_or_empty_input(iran):
    two = pd.concat([iran, iran.assign(entity="country/TJ")])
    with pytest.raises(InputError, match="one entity"):
        plot.plot_timeline(two)
    with pytest.raises(InputError, match="empty plot window"):
        plot.plot_timeline(iran, entity="country/IR", start=T("2019-11-16T00:00Z"), end=T("2019-11-15T00:00Z"))


def test_overview_rows_bars_coloured_by_depth_and_event_markers():
    outages = pd.DataFrame([_outage("2019-11-16T16:20Z", "2019-11-23T11:00Z", depth=0.95),
                            _outage("2019-12-01T00:00Z", "2019-12-01T00:05Z", depth=0.2),   # 5 minutes
                            _outage("2019-10-10T00:00Z", "2019-10-11T00:00Z", entity="country/IQ", depth=None)])
    events = pd.DataFrame([_event("2019-11-15T00:00Z", "protest"), _event("2019-11-20T00:00Z", "e", kind="election"),
                           _event("2019-10-09T00:00Z", "exam", kind="exam", country="IQ"),
                           _event("2019-10-09T00:00Z", "ignored", kind="exam", country="SY")])
    start, end = T("2019-09-01T00:00Z"), T("2019-12-15T00:00Z")
    fig = plot.plot_overview(outages, events, ["IR", "IQ", "TJ"], start, end)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["IR", "IQ", "TJ"]
    ir = [c for c in ax.collections if c.get_gid() == "outages:IR"][0]
    assert len(ir.get_paths()) == 2
    deep, shallow = ir.get_facecolors()
    assert deep[1] < shallow[1]                       # YlOrRd: deeper = darker (less green)
    widths = [np.ptp(p.vertices[:, 0]) for p in ir.get_paths()]
    assert min(widths) >= (mdates.date2num(end) - mdates.date2num(start)) * 0.002 * 0.999
    iq = [c for c in ax.collections if c.get_gid() == "outages:IQ"][0]
    assert to_hex(iq.get_facecolors()[0]).upper() == "#9E9E9E"   # unknown depth: grey
    assert not [c for c in ax.collections if c.get_gid() == "outages:TJ"]
    marks = {c.get_gid(): len(c.get_offsets()) for c in ax.collections if (c.get_gid() or "").startswith("events:")}
    assert marks == {"events:protest": 1, "events:election": 1, "events:exam": 1}


def test_overview_lanes_keep_every_kind_visible_and_grey_bars_are_named():
    """The exams digest: exam markers were drawn under shutdown markers of the same days, and grey bars
    sat beside a colour bar that said "depth"."""
    outages = pd.DataFrame([_outage("2019-06-09T01:00Z", "2019-06-09T05:35Z", entity="country/SY", depth=None)])
    same_day = [_event("2019-06-09T00:00Z", "Exam day", kind="exam", country="SY"),
                _event("2019-06-09T00:00Z", "Exam shutdown", kind="shutdown_report", country="SY"),
                _event("2019-06-09T00:00Z", "Exam shutdown", kind="shutdown_report", country="SY")]   # listed twice
    fig = plot.plot_overview(outages, pd.DataFrame(same_day), ["SY"], T("2019-06-01T00:00Z"), T("2019-07-01T00:00Z"))
    ax = fig.axes[0]
    marks = {c.get_gid(): c.get_offsets() for c in ax.collections if (c.get_gid() or "").startswith("events:")}
    assert len(marks["events:shutdown_report"]) == 1                                # the duplicate drawn once
    assert marks["events:exam"][0][1] != marks["events:shutdown_report"][0][1]    # own lanes, none hidden
    assert len(fig.axes) == 1                                # no colour bar: no outage here has a depth
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"event: exam", "event: shutdown_report", "outage, depth not recorded"} <= set(legend)


def _atlas(start="2016-06-07T00:00Z", periods=24):
    times = pd.date_range(start, periods=periods, freq="5min", tz="UTC")
    connected = np.full(periods, 17.0)
    connected[10:14] = [14, 12, 13, 16]
    disconnects = np.zeros(periods)
    disconnects[[10, 11]] = [3, 2]
    return pd.concat([pd.DataFrame({"entity": "country/KE", "datasource": name, "time": times, "value": values})
                      for name, values in (("atlas-connected", connected), ("atlas-disconnects", disconnects))],
                     ignore_index=True)


def test_ripe_atlas_in_its_own_units_and_disconnections_as_marks():
    """Kenya: 'atlas-disconnects' was a line on a '% of window maximum' axis (100% = 5 probes)."""
    fig = plot.plot_timeline(_atlas(), entity="country/KE")
    counts, marks = fig.axes
    line = [ln for ln in counts.get_lines() if ln.get_gid() == "signal:atlas-connected"][0]
    assert np.nanmin(line.get_ydata()) == 12 and np.nanmax(line.get_ydata()) == 17   # probes, not percent
    assert counts.get_ylabel() == "probes connected" and "%" not in marks.get_ylabel()
    assert not [ln for ln in marks.get_lines() if ln.get_gid() == "signal:atlas-disconnects"]   # no line
    stems = [c for c in marks.collections if c.get_gid() == "marks:atlas-disconnects"][0]
    assert len(stems.get_segments()) == 2                     # one mark per bin with disconnections


def test_no_data_is_hatched_to_the_window_edge_and_duplicates_merged_with_numbers(iran):
    """A line that just stopped where its data ended now ends in a hatched 'no data' stretch."""
    start, end = T("2019-11-15T00:00Z"), T("2019-11-19T00:00Z")
    twice = [_event("2019-11-16T10:00Z", "Rally"), {**_event("2019-11-16T10:00Z", "Rally"), "source": "other"}]
    fig = plot.plot_timeline(iran, events=pd.DataFrame(twice), entity="country/IR", start=start, end=end,
                             event_numbers={("test", "Rally"): 4})
    bgp = _gid(fig, "no-data:bgp")
    edges = sorted((p.get_x(), p.get_x() + p.get_width()) for p in bgp)
    assert edges[0][0] == pytest.approx(mdates.date2num(start))                        # before bgp's copy begins
    assert edges[-1][1] == pytest.approx(mdates.date2num(end))                         # after it ends
    assert edges[-1][0] == pytest.approx(mdates.date2num(T("2019-11-17T20:15Z")))
    assert "no data: bgp" in [t.get_text() for t in fig.legends[0].get_texts()]
    assert [t.get_text() for t in _gid(fig, "event-label")] == ["4 Rally"]            # once, numbered


def test_poisson_range_matches_known_quantiles():
    assert plot.poisson_range(10.0) == (4.0, 17.0)
    assert plot.poisson_range(0.0) == (0.0, 0.0)
    lo, hi = plot.poisson_range(0.3)
    assert (lo, hi) == (0.0, 2.0)


def test_coincidence_summary_observed_expected_and_intervals():
    summary = pd.DataFrame({"country": ["IR", "TJ", None], "kind": ["protest", "election", None],
                            "observed": [4, 1, 5], "expected": [0.3, 1.2, 10.0], "p_adjusted": [0.001, 0.6, 0.01]})
    fig = plot.plot_coincidence_summary(summary)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["IR · protest", "TJ · election", "all · all"]
    by = {c.get_gid(): c for c in ax.collections}
    assert list(by["observed"].get_offsets()[:, 0]) == [4, 1, 5]
    assert list(by["expected"].get_offsets()[:, 0]) == [0.3, 1.2, 10.0]
    red = [to_hex(c).upper() == plot.OUTAGE_COLOR for c in by["observed"].get_facecolors()]
    assert red == [True, False, True]
    segments = by["chance-range"].get_segments()
    assert [tuple(s[:, 0]) for s in segments][2] == (4.0, 17.0)


def test_coincidence_summary_names_the_method_when_several_and_uses_the_verdict():
    summary = pd.DataFrame({"country": ["IR", "IR"], "kind": ["protest", "protest"],
                            "method": ["eca-trigger", "permutation"], "observed": [2, 2], "expected": [0.5, 0.6],
                            "p_adjusted": [0.01, 0.01], "verdict": ["insufficient", "significant"]})
    ax = plot.plot_coincidence_summary(summary).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["IR · protest · eca-trigger", "IR · protest · permutation"]
    observed = [c for c in ax.collections if c.get_gid() == "observed"][0]
    assert [to_hex(c).upper() == plot.OUTAGE_COLOR for c in observed.get_facecolors()] == [False, True]


def test_figure_bytes_and_no_pyplot():
    fig = plot.plot_coincidence_summary(pd.DataFrame({"country": ["IR"], "kind": ["protest"], "observed": [1],
                                                      "expected": [0.5], "p_adjusted": [0.5]}))
    assert plot.figure_bytes(fig, "png").startswith(b"\x89PNG")
    assert b"<svg" in plot.figure_bytes(fig, "svg")
    with pytest.raises(InputError):
        plot.figure_bytes(fig, "gif")
    code = "import sys, monitor.plot; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
