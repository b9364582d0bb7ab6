"""The report adapter of the correlation summary (monitor/report/significance.py; this file is named
apart from tests/correlate/test_significance.py because test modules share one namespace): fragile
label, no "significant" beside an interval that includes no effect (new and old runs), and the
chart's chance range."""

from __future__ import annotations

import pandas as pd

from monitor.correlate import correlate
from monitor.report.significance import headline_rows, significance_rows, stats_for
from monitor.frames import EVENT_COLUMNS, OUTAGE_COLUMNS

T0 = pd.Timestamp("2016-01-04", tz="UTC")


def _summary() -> pd.DataFrame:
    """20 outages of 3 h, 10 of them 30 min after an opposition event, and 20 unrelated events."""
    starts = pd.Series(pd.date_range(T0 + pd.Timedelta("3D 5h"), periods=20, freq="17D 3h"))
    outages = pd.DataFrame({"outage_id": [f"o{i}" for i in range(20)], "source": "t", "entity": "country/SY",
                            "country": "SY", "start": starts, "end": starts + pd.Timedelta("3h"),
                            "datasources": [[] for _ in range(20)], "depth": 0.9, "score": 1.0, "method": "t",
                            "detail": None})[OUTAGE_COLUMNS]
    ev_starts = pd.concat([starts[::2] - pd.Timedelta("30min"), starts + pd.Timedelta("8D 7h")], ignore_index=True)
    events = pd.DataFrame({"uid": [f"e{i}" for i in range(30)], "source": "t", "kind": "opposition_event",
                           "country": "SY", "region": None, "start": ev_starts, "end": ev_starts + pd.Timedelta("1h"),
                           "all_day": False, "title": "e", "url": None, "description": None,
                           "raw": None})[EVENT_COLUMNS]
    return correlate(outages, events, start=T0, end=T0 + pd.Timedelta("365D"))[1]


def test_verdicts_shown_agree_with_intervals_and_the_chart_range():
    summary = _summary()
    table = significance_rows(summary, None, 0.05)
    columns = table["columns"]
    for row in table["rows"]:
        cells = dict(zip(columns, row["cells"]))
        if cells["ci_low"] is not None:
            assert row["significant"] == (cells["ci_low"] > 0) == cells["verdict"].startswith("significant")
    assert any(r["significant"] for r in table["rows"])
    chart = headline_rows(summary, None)
    tested = chart[chart["ci_low"].notna()]
    assert ((tested["observed"] > tested["chance_high"]) == (tested["verdict"] == "significant")).all()


def test_fragile_rows_say_so_and_old_contradictions_are_not_called_significant():
    row = {"country": "SY", "kind": "exam", "relation": "before", "observed": 5, "expected": 1.0, "excess": 4.0,
           "ci_low": 1, "ci_high": 5, "p_adjusted": 0.01, "verdict": "significant", "fragile": True, "note": "n"}
    old = {"country": "SY", "kind": "exam", "method": "eca-trigger", "observed": 9, "expected": 4.0,
           "rate_ratio": 2.2, "ci_low": 0.77, "ci_high": 4.57, "p_value": 0.01, "p_adjusted": 0.029,
           "verdict": "significant", "note": "old"}
    shown = significance_rows(pd.DataFrame([row]), None, 0.05)["rows"][0]
    assert shown["significant"] and "significant (fragile)" in shown["cells"]
    [old_shown] = significance_rows(pd.DataFrame([old]), None, 0.05)["rows"]
    assert not old_shown["significant"] and "significant" not in old_shown["cells"]
    [stats] = stats_for(pd.DataFrame([row]), "SY", "exam")
    assert stats["method"] == "pre-emptive (before)" and stats["verdict"] == "significant (fragile)"
