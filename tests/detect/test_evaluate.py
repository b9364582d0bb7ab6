"""Evaluation of detected outages against reference outages."""

from __future__ import annotations

import pandas as pd
import pytest

from monitor.detect.evaluate import (REFERENCE_COLUMNS, EvaluateParams, evaluate, evaluate_store,
                                     references_from_events)
from monitor.detect.run import run_detection
from monitor.errors import InputError
from monitor.frames import EVENT_COLUMNS, OUTAGE_COLUMNS


def ts(text):
    return pd.Timestamp(text, tz="UTC")


def detected(*rows):
    out = pd.DataFrame([{"outage_id": f"detected:{e}:{int(ts(a).timestamp())}", "source": "detected", "entity": e,
                         "country": None, "start": ts(a), "end": None if b is None else ts(b),
                         "datasources": ["bgp"],
                         "depth": 0.5, "score": 1.0, "method": "median-ratio", "detail": {}}
                        for e, a, b in rows], columns=OUTAGE_COLUMNS)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    return out


def references(*rows):
    return pd.DataFrame([{"reference_id": f"ref{i}", "entity": e, "start": ts(a), "end": ts(b), "title": ""}
                         for i, (e, a, b) in enumerate(rows)], columns=REFERENCE_COLUMNS)


COVERAGE = pd.DataFrame({"entity": ["country/IR", "country/SD"], "first": [ts("2019-01-01")] * 2,
                         "last": [ts("2020-01-01")] * 2})


def test_matches_misses_false_alarms_and_errors():
    rows, summary = evaluate(
        detected(("country/IR", "2019-11-16 14:05", "2019-11-23 13:40"),
                 ("country/IR", "2019-12-01 10:00", "2019-12-01 12:00"),
                 ("country/SD", "2019-06-03 09:30", None),
                 ("country/IR", "2016-06-07 07:00", "2016-06-07 14:00")),  # before the list begins
        references(("country/IR", "2019-11-16 14:00", "2019-11-24 20:30"),
                   ("country/SD", "2019-06-03 10:00", "2019-07-09 00:00"),
                   ("country/IR", "2019-09-01 00:00", "2019-09-02 00:00"),
                   ("country/TJ", "2019-10-01 00:00", "2019-10-02 00:00"),  # no signals for TJ
                   ("country/TJ", "2019-12-30 00:00", "2019-12-31 00:00")),
        COVERAGE)
    by_ref = rows.set_index("reference_id")
    assert by_ref.loc["ref0", "status"] == "match"
    assert by_ref.loc["ref0", "start_error_minutes"] == 5
    assert by_ref.loc["ref0", "end_error_minutes"] == -(24 * 60 + 6 * 60 + 50)
    assert by_ref.loc["ref1", "status"] == "match" and by_ref.loc["ref1", "start_error_minutes"] == -30
    assert pd.isna(by_ref.loc["ref1", "end_error_minutes"])  # still ongoing: no end to compare
    assert by_ref.loc["ref2", "status"] == "miss" and "ref3" not in by_ref.index
    alarms = rows[rows["status"] == "false alarm"]
    assert list(alarms["detected_start"]) == [ts("2019-12-01 10:00")]
    assert list(rows[rows["status"] == "outside the reference's period"]["detected_start"]) == \
        [ts("2016-06-07 07:00")]  # neither a match nor a false alarm of a list that starts in 2019
    assert summary == {"references": 3, "matched": 2, "missed": 1, "detected": 3, "false_alarms": 1,
                       "recall": pytest.approx(2 / 3), "precision": pytest.approx(2 / 3),
                       "median_abs_start_error_minutes": 17.5,
                       "median_abs_end_error_minutes": 24 * 60 + 6 * 60 + 50, "outside_period": 1,
                       "period": ["2019-06-03T09:00:00Z", "2019-12-31T01:00:00Z"], "duplicates_merged": 0}


def test_slack_decides_near_misses():
    d = detected(("country/IR", "2019-11-16 16:30", "2019-11-16 18:00"))
    r = references(("country/IR", "2019-11-16 14:00", "2019-11-16 16:00"))
    assert evaluate(d, r, COVERAGE)[1]["matched"] == 1  # 30 min apart, slack 1 h
    assert evaluate(d, r, COVERAGE, EvaluateParams(slack=pd.Timedelta("10min")))[1]["matched"] == 0


def test_reference_before_the_signals_begin_does_not_count():
    late = COVERAGE.assign(first=ts("2019-11-20"))
    _, summary = evaluate(detected(), references(("country/IR", "2019-11-16 14:00", "2019-11-17 00:00")), late)
    assert summary["references"] == 0 and summary["recall"] is None


def _events(**changes):
    row = {"uid": "1", "source": "stop", "kind": "shutdown_report", "country": "IR", "region": None,
           "start": ts("2019-11-16"), "end": ts("2019-11-24"), "all_day": True, "title": "Iran",
           "url": None, "description": None, "raw": None}
    row.update(changes)
    return pd.DataFrame([row], columns=EVENT_COLUMNS)


def test_regional_reports_are_left_out_unless_asked():
    events = pd.concat([_events(), _events(uid="2", region="Khuzestan"), _events(uid="3", kind="protest")])
    assert list(references_from_events(events)["reference_id"]) == ["stop:1"]
    assert len(references_from_events(events, EvaluateParams(regional=True))) == 2


def _ioda_list_row(data_dir, country: str, begins: str) -> pd.Series:
    """One row of IODA's hand-checked outage list (data/ioda-outages), times in UTC."""
    raw = pd.read_csv(data_dir / "ioda-outages" / "ioda_investigated_outages_cleaned_phase1+2.csv", dtype=str)
    row = raw[(raw["Country"] == country) & raw["Begin time"].str.contains(begins, na=False)].iloc[0]
    fmt = "%A, %B %d, %Y, %I:%M:%S %p"
    return pd.Series({"uid": row["ID"], "start": pd.to_datetime(row["Begin time"], format=fmt, utc=True),
                      "end": pd.to_datetime(row["End time"], format=fmt, utc=True)})


def test_iran_2019_against_iodas_hand_checked_list(sqlite_store, iran, data_dir):
    listed = _ioda_list_row(data_dir, "Iran", "November 16, 2019")
    sqlite_store.write_events(_events(source="ioda-outages", uid=listed["uid"], start=listed["start"],
                                      end=listed["end"], all_day=False))
    sqlite_store.write_signals(iran)
    ours = run_detection(sqlite_store).iloc[0]
    rows, summary = evaluate_store(sqlite_store, "ioda-outages")
    assert summary["matched"] == 1 and summary["false_alarms"] == 0
    assert rows.iloc[0]["start_error_minutes"] == (ours["start"] - listed["start"]).total_seconds() / 60
    assert abs(rows.iloc[0]["start_error_minutes"]) <= 10  # IODA's own checked start, to two bins


def test_reference_from_the_outages_table(sqlite_store, iran):
    sqlite_store.write_signals(iran)
    run_detection(sqlite_store)
    ref = pd.DataFrame([{"outage_id": "ioda-events:x", "source": "ioda-events", "entity": "country/IR",
                         "country": "IR", "start": ts("2019-11-16 17:20"), "end": ts("2019-11-23 12:00"),
                         "datasources": ["ping-slash24"],
                         "depth": None, "score": 5.0, "method": "median", "detail": {}}])
    sqlite_store.write_outages(ref)
    rows, summary = evaluate_store(sqlite_store, "ioda-events", entities=["country/IR"])
    assert summary["matched"] == 1 and rows.iloc[0]["reference_id"] == "ioda-events:x"


def test_unknown_or_self_reference_is_an_input_error(sqlite_store):
    with pytest.raises(InputError, match="no reference outages from source 'acled'"):
        evaluate_store(sqlite_store, "acled")
    with pytest.raises(InputError, match="our own detections"):
        evaluate_store(sqlite_store, "detected")


def test_a_reference_listed_twice_counts_once():
    once = references(("country/IR", "2019-11-16 14:00", "2019-11-24 20:30"))
    twice = references(("country/IR", "2019-11-16 14:00", "2019-11-24 20:30"),
                       ("country/IR", "2019-11-16 14:30", "2019-11-24 20:30"),  # the same, per another signal
                       ("country/IR", "2019-12-20 00:00", "2019-12-20 05:00"))
    found = detected(("country/IR", "2019-11-16 14:05", "2019-11-23 13:40"))
    _, one = evaluate(found, once, COVERAGE)
    rows, summary = evaluate(found, twice, COVERAGE)
    assert one["references"] == 1 and summary["references"] == 2 and summary["duplicates_merged"] == 1
    assert summary["matched"] == 1 and summary["missed"] == 1 and summary["recall"] == 0.5
    assert rows.set_index("reference_id").loc["ref0", "start_error_minutes"] == 5  # earliest start kept
