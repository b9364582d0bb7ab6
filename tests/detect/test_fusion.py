"""Fusion of per-datasource alerts into outages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.detect.fusion import assign_countries, fuse, outage_id, score
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
    bgp = 0.44 * (1 - 2 ** (-(30 + 10 / 60) / 3))
    ping = 0.95 * (1 - 2 ** (-(6 * 24 + 20 + 20 / 60) / 3))
    assert row["score"] == pytest.approx(1 - (1 - bgp) * (1 - ping))
    assert row["detail"]["severity"] == "near-total" and row["detail"]["long_running"] is False
    assert row["detail"]["datasources"]["bgp"]["depth"] == 0.44
    assert row["detail"]["datasources"]["ping-slash24"]["start"] == "2019-11-16T17:20:00Z"
    assert row["outage_id"] == f"detected:country/IR:{int(row['start'].timestamp())}"
    assert row["outage_id"] == outage_id("country/IR", row["start"])


def test_score_reads_as_documented():
    assert score([(1.0, 3.0)]) == pytest.approx(0.5)  # a total loss for 3 hours on one datasource
    assert score([]) == 0.0 and 0.0 <= score([(1.0, 1e6), (1.0, 1e6)]) <= 1.0


@pytest.mark.parametrize("seed", range(20))
def test_score_never_falls_with_depth_duration_or_a_confirming_datasource(seed):
    rng = np.random.default_rng(seed)
    sources = [(float(rng.uniform(0.01, 1)), float(rng.uniform(0.1, 200))) for _ in range(rng.integers(1, 4))]
    base = score(sources)
    deeper = [(min(1.0, d + 0.1), h) for d, h in sources]
    longer = [(d, h * 1.5) for d, h in sources]
    small = (float(rng.uniform(0.01, 0.3)), float(rng.uniform(0.1, 1)))  # even a weak confirmation
    assert score(deeper) >= base and score(longer) >= base and score(sources + [small]) >= base


def test_a_second_confirming_datasource_never_lowers_the_fused_score():
    one = fuse(frame(alert("2024-01-01 00:00", "2024-01-01 01:00", "bgp", depth=0.3)))
    two = fuse(frame(alert("2024-01-01 00:00", "2024-01-01 01:00", "bgp", depth=0.3),
                     alert("2024-01-01 00:10", "2024-01-01 00:40", "ping-slash24", depth=0.2)))
    assert len(one) == len(two) == 1 and two.iloc[0]["score"] > one.iloc[0]["score"]


@pytest.mark.parametrize("depth,expected", [(0.2, "partial"), (0.5, "major"), (0.89, "major"), (0.9, "near-total")])
def test_severity_class_from_depth(depth, expected):
    got = fuse(frame(alert("2024-01-01 00:00", "2024-01-01 09:00", "bgp", depth=depth)))
    assert got.iloc[0]["detail"]["severity"] == expected


def test_outages_longer_than_a_week_are_labelled_long_running():
    got = fuse(frame(alert("2024-01-01", "2024-01-20", "ping-slash24", depth=0.97, is_open=True)))
    assert got.iloc[0]["detail"]["long_running"] and pd.isna(got.iloc[0]["end"])


def test_country_of_an_asn_outage_comes_from_its_place():
    got = fuse(frame(alert("2024-01-01 00:00", "2024-01-01 09:00", "bgp", depth=0.5, entity="asn/44244")))
    assert pd.isna(got.iloc[0]["country"])
    assert assign_countries(got, {"asn/44244": "IR"}).iloc[0]["country"] == "IR"
    region = fuse(frame(alert("2024-01-01 00:00", "2024-01-01 09:00", "bgp", depth=0.5, entity="region/IR-07")))
    assert region.iloc[0]["country"] == "IR"


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
