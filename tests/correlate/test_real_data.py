"""Correlation on the bundled real data: documented exam shutdowns in Iraq and Syria against the exam
calendar (data/events/exams.csv), and the Tajikistan outage of 2020-09-16 against the starter calendar.

The exam calendar is derived from STOP's exam rows (see data/events/exams.PROVENANCE.md). Testing
STOP's own list against it is circular by construction and only checks the plumbing; the real test is
IODA's hand-checked list, compiled independently from IODA's signals.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from monitor.correlate import CorrelateParams, correlate, run_correlation
from monitor.correlate.run import load_outages
from monitor.correlate.single_case import SINGLE_CASE_CAVEAT, single_case_chance
from monitor.events.importer import import_events
from monitor.store import open_store

DATA = Path(__file__).resolve().parents[2] / "data"
STOP = DATA / "accessnow-stop" / "stop_combined_2016-2025_snapshot-2026-05-20.csv"
IODA = DATA / "ioda-outages" / "ioda_investigated_outages_cleaned_phase1+2.csv"
EXAMS = DATA / "events" / "exams.csv"
STARTER = DATA / "events" / "starter.csv"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    st = open_store(f"sqlite:///{tmp_path_factory.mktemp('real')}/real.db")
    for path in (STOP, IODA, EXAMS, STARTER):
        import_events(st, str(path))
    yield st
    st.close()


def rows(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.set_index(["country", "kind", "relation"])


def test_exam_calendar_imports_cleanly(store):
    exams = store.read_events(sources=["exams"])
    assert len(exams) == 191 and set(exams["kind"]) == {"exam"} and set(exams["country"]) == {"IQ", "SY"}
    assert exams["all_day"].all()
    # local days: an exam day in Syria (UTC+3) starts at 21:00 UTC the evening before
    day = exams[exams["uid"] == "sy-exam-2021-08-03"].iloc[0]
    assert day["start"] == pd.Timestamp("2021-08-02 21:00", tz="UTC")


@pytest.mark.parametrize("country", ["IQ", "SY"])
def test_ioda_hand_checked_exam_shutdowns_are_significant_during_exam_days(store, country):
    result = run_correlation(store, "ioda-outages", countries=["IQ", "SY"], kinds=["exam"])
    s = rows(result.summary).loc[(country, "exam")]
    assert s.loc["during", "verdict"] == "significant" and s.loc["during", "p_adjusted"] < 0.05
    assert s.loc["during", "ci_low"] >= 2                 # at least two episodes more than chance
    assert s.loc["during", "shift_unit"] == "1D"          # an all-day calendar: shifted by whole days
    assert (s.loc[["before", "after"], "verdict"] == "not significant").all()
    assert (result.summary["tests"] == 6).all()           # one family: 2 countries x 3 relations
    flagged = result.coincidences[(result.coincidences["country"] == country)
                                  & (result.coincidences["relation"] == "during")]
    assert flagged["outage_id"].nunique() >= s.loc["during", "observed"] >= 10


def test_syria_exam_shutdowns_beat_every_shift_of_the_calendar(store):
    s = rows(run_correlation(store, "ioda-outages", countries=["SY"], kinds=["exam"]).summary)
    during = s.loc[("SY", "exam", "during")]
    assert during["p_value"] == pytest.approx(1 / during["shifts"])   # the smallest p possible


def test_calendar_rows_that_do_not_cite_ioda_still_agree_with_ioda(store):
    """Some STOP exam rows cite IODA's dashboard, so those share a source with IODA's list. Without
    them (55 of 191 calendar rows remain), Syria's exam shutdowns are still significant; Iraq's are
    not (7 of 57 episodes against 2.3 by chance): see the provenance note."""
    outages = load_outages(store, "ioda-outages", countries=["IQ", "SY"])
    exams = store.read_events(sources=["exams"])
    independent = exams[exams["description"].str.contains("cite IODA: no")]
    assert 0 < len(independent) < len(exams)
    s = rows(correlate(outages, independent)[1])
    assert s.loc[("SY", "exam", "during"), "verdict"] == "significant"
    assert s.loc[("IQ", "exam", "during"), "verdict"] == "not significant"
    assert s.loc[("IQ", "exam", "during"), "ci_low"] <= 0


def test_stop_exam_shutdowns_against_their_own_calendar(store):
    """Circular by construction (the calendar is made from these rows): a plumbing check that STOP's
    day-resolution reports, local days and regions go through."""
    s = rows(run_correlation(store, "stop", countries=["IQ", "SY"], kinds=["exam"]).summary)
    for country in ("IQ", "SY"):
        assert s.loc[(country, "exam", "during"), "verdict"] == "significant"


def test_tajikistan_outage_flags_the_kabiri_event(store):
    result = run_correlation(store, "starter", countries=["TJ"])
    flags = result.coincidences
    kabiri = flags[flags["event_uid"] == "tj-2020-09-16-kabiri-gwu"]
    assert len(kabiri) == 1
    flag = kabiri.iloc[0]
    assert flag["outage_start"] == pd.Timestamp("2020-09-16 14:40", tz="UTC")
    # the event is the whole local day of 16 September in Dushanbe (UTC+5): from 19:00 UTC on the 15th
    assert flag["relation"] == "during"
    assert flag["event_start"] == pd.Timestamp("2020-09-15 19:00", tz="UTC")
    assert flag["offset_minutes"] == 19 * 60 + 40
    # one outage: flagged, no test, but the chance of such a coincidence with its caveat
    [single] = result.summary[result.summary["kind"] == "opposition_event"].to_dict("records")
    assert single["verdict"] == "single case" and single["observed"] == 1 and pd.isna(single["p_value"])
    events = store.read_events(countries=["TJ"], kinds=["opposition_event"], sources=["starter"])
    lo, hi = (pd.Timestamp(t) for t in result.params["span"])
    before, after = CorrelateParams().window("opposition_event")
    assert single["chance"] == pytest.approx(
        single_case_chance(pd.Timedelta("1h"), events, lo, hi, before, after))
    assert SINGLE_CASE_CAVEAT in single["note"]


def test_tajikistan_election_is_outside_the_outage_span(store):
    result = run_correlation(store, "starter", countries=["TJ"], params=CorrelateParams(permutations=100))
    assert "election" not in set(result.coincidences["event_kind"])
