"""Fusion of per-datasource alerts into outages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.detect.fusion import fuse, outage_id
from monitor.detect.params import DetectParams
from monitor.detect.rules import ALERT_COLUMNS, alerts_frame
from monitor.frames import OUTAGE_COLUMNS


def alert(start, end, datasource="bgp", entity="country/IR", depth=0.5, level="critical", is_open=False,
          method="median-ratio"):
    start, end = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    area = np.nan if level == "nodata" else depth * (end - start).total_seconds() / 60
    return {"entity": entity, "datasource": datasource, "start": start, "end": end, "level": level,
            "depth": depth, "area": area if level != "nodata" else 0.0, "open": is_open,
            "method": method, "detail": {}}


def frame(*rows):
    if not rows:
        return alerts_frame([])
    out = pd.DataFrame(list(rows), columns=ALERT_COLUMNS)
    out["start"] = out["start"].dt.as_unit("s")
    out["end"] = out["end"].dt.as_unit("s")
    return out


def test_overlapping_alerts_of_two_datasources_are_one_outage():
    got = fuse(frame(alert("2019-11-16 14:05", "2019-11-17 20:15", "bgp", depth=0.44),
                     alert("2019-11-16 17:20", "2019-11-23 13:40", "ping-slash24", depth=0.95)))
    assert list(got.columns) == OUTAGE_COLUMNS and len(got) == 1
    row = got.iloc[0]
    assert row["start"] == pd.Timestamp("2019-11-16 14:05", tz="UTC")
    assert row["end"] == pd.Timestamp("2019-11-23 13:40", tz="UTC")
    assert row["datasources"] == ["bgp", "ping-slash24"]
    assert row["depth"] == 0.95 and row["country"] == "IR" and row["source"] == "detected"
    bgp_area = 0.44 * (30 * 60 + 10)
    ping_area = 0.95 * (6 * 1440 + 20 * 60 + 20)
    assert row["score"] == pytest.approx(bgp_area * ping_area)  # IODA's areas multiplied
    assert row["detail"]["datasources"]["bgp"]["depth"] == 0.44
    assert row["detail"]["datasources"]["ping-slash24"]["start"] == "2019-11-16T17:20:00Z"
    assert row["outage_id"] == f"detected:country/IR:{int(row['start'].timestamp())}"
    assert row["outage_id"] == outage_id("country/IR", row["start"])


def test_separate_alerts_stay_separate_unless_within_merge_gap():
    alerts = frame(alert("2024-01-01 10:00", "2024-01-01 11:00"), alert("2024-01-01 11:20", "2024-01-01 12:00"),
                   alert("2024-01-01 14:00", "2024-01-01 15:00"))
    assert len(fuse(alerts)) == 2  # 20 min apart merge (default 30 min), 2 h apart do not
    assert len(fuse(alerts, DetectParams(merge_gap=pd.Timedelta(0)))) == 3


def test_entities_never_merge():
    got = fuse(frame(alert("2024-01-01 10:00", "2024-01-01 11:00", entity="country/IR"),
                     alert("2024-01-01 10:00", "2024-01-01 11:00", entity="asn/44244")))
    assert sorted(got["entity"]) == ["asn/44244", "country/IR"] and got["country"].isna().sum() == 1


def test_open_alert_ending_last_makes_the_outage_ongoing():
    got = fuse(frame(alert("2024-01-01 10:00", "2024-01-02 00:00", "bgp", is_open=True),
                     alert("2024-01-01 10:30", "2024-01-01 12:00", "ping-slash24")))
    assert pd.isna(got.iloc[0]["end"]) and got.iloc[0]["detail"]["ongoing"]
    assert got.iloc[0]["detail"]["seen_until"] == "2024-01-02T00:00:00Z"


def test_open_alert_whose_data_stopped_early_does_not():
    got = fuse(frame(alert("2024-01-01 10:00", "2024-01-01 12:00", "bgp", is_open=True),
                     alert("2024-01-01 10:30", "2024-01-03 00:00", "ping-slash24")))
    assert got.iloc[0]["end"] == pd.Timestamp("2024-01-03", tz="UTC")
    assert got.iloc[0]["detail"]["datasources"]["bgp"]["open"]


def test_min_datasources():
    alerts = frame(alert("2024-01-01 10:00", "2024-01-01 11:00", "bgp"),
                   alert("2024-01-02 10:00", "2024-01-02 11:00", "bgp"),
                   alert("2024-01-02 10:10", "2024-01-02 11:00", "merit-nt"))
    got = fuse(alerts, DetectParams(min_datasources=2))
    assert len(got) == 1 and got.iloc[0]["datasources"] == ["bgp", "merit-nt"]


def test_gaps_inside_an_outage_are_counted_not_merged():
    got = fuse(frame(alert("2024-01-01 10:00", "2024-01-01 12:00", "bgp"),
                     alert("2024-01-01 11:00", "2024-01-01 13:00", "bgp", level="nodata"),
                     alert("2024-01-01 20:00", "2024-01-01 21:00", "bgp", level="nodata")))
    assert len(got) == 1 and got.iloc[0]["end"] == pd.Timestamp("2024-01-01 12:00", tz="UTC")
    assert got.iloc[0]["detail"]["nodata_minutes"] == {"bgp": 60.0}


def test_methods_are_joined_and_nothing_in_nothing_out():
    got = fuse(frame(alert("2024-01-01 10:00", "2024-01-01 11:00", "bgp"),
                     alert("2024-01-01 10:05", "2024-01-01 10:40", "ripe-atlas", method="kleinberg")))
    assert got.iloc[0]["method"] == "kleinberg+median-ratio"
    assert fuse(frame()).empty and list(fuse(frame()).columns) == OUTAGE_COLUMNS
    only_gaps = fuse(frame(alert("2024-01-01 10:00", "2024-01-01 11:00", level="nodata")))
    assert only_gaps.empty
