"""correlate() end to end, its parameters, and run_correlation() over a real store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.config import build
from monitor.correlate import CorrelateParams, correlate, run_correlation
from monitor.correlate.run import analysis_span, merge_reports, reports_as_outages
from monitor.errors import ConfigError, InputError
from monitor.store import open_store

DAY = pd.Timedelta("1D")
T = pd.Timestamp("2020-03-02 10:00", tz="UTC")


@pytest.fixture
def store(store_url):
    st = open_store(store_url)
    yield st
    st.close()


def weekly(n, offset=None):
    offset = pd.Timedelta(0) if offset is None else offset
    return [T + i * 7 * DAY + offset for i in range(n)]


def test_correlate_defaults_to_the_outages_span_widened_by_the_windows(outages, events):
    out, ev = outages(weekly(10)), events(weekly(10, pd.Timedelta("20min")), kind="protest")
    flags, summary = correlate(out, ev)
    assert len(flags) == 10 and set(flags["relation"]) == {"during"} and set(flags["offset_minutes"]) == {-20.0}
    lo, hi = analysis_span(out, ev, CorrelateParams())
    assert pd.Timestamp(lo, unit="s", tz="UTC") == (T - 2 * DAY).floor("D")          # longest `after`: 2 days
    assert pd.Timestamp(hi, unit="s", tz="UTC") == (T + 63 * DAY + pd.Timedelta("3h") + DAY).ceil("D")
    assert list(summary["relation"]) == ["during", "before", "after"] and (summary["n_episodes"] == 10).all()


def test_correlate_keeps_only_outages_starting_in_an_explicit_span(outages, events):
    flags, summary = correlate(outages(weekly(10)), events(weekly(10)), CorrelateParams(),
                               T - DAY, T + 30 * DAY)
    assert len(flags) == 5 and (summary["n_outages"] == 5).all()


def test_nothing_to_correlate_is_an_input_error(outages, events):
    with pytest.raises(InputError, match="nothing to correlate"):
        correlate(outages([]), events([]))


def test_params_from_config_and_back():
    params = build(CorrelateParams, {"permutations": 500, "window_after": "2h",
                                     "windows": {"exam": {"before": "3h"}}}, "[correlate]")
    assert params.window("exam") == (pd.Timedelta("3h"), pd.Timedelta("2h"))
    assert params.window("election") == (pd.Timedelta("1D"), pd.Timedelta("2h"))
    stored = params.to_dict()
    again = build(CorrelateParams, {"windows": stored["windows"], "permutations": stored["permutations"],
                                    "alpha": stored["alpha"]}, "[correlate]")
    assert all(again.window(k) == params.window(k) for k in stored["windows"])


@pytest.mark.parametrize("section, message", [
    ({"permutation": 5}, "unknown key 'permutation'"),
    ({"permutations": 0}, "permutations must be a positive integer"),
    ({"alpha": 1.5}, "alpha must be between 0 and 1"),
    ({"windows": {"speech": {"after": "1h"}}}, "unknown event kind 'speech'"),
    ({"windows": {"exam": {"before": "soon"}}}, "bad windows.exam.before 'soon'"),
    ({"windows": {"shutdown_report": {"after": "1h"}}}, "unknown event kind 'shutdown_report'"),
])
def test_bad_parameters_are_named(section, message):
    with pytest.raises(ConfigError, match=message):
        build(CorrelateParams, section, "monitor.toml: [correlate]")


def test_reports_become_outages_with_their_region(events):
    reports = events([T], kind="shutdown_report", country="IQ", region="Kurdistan", source="stop")
    out = reports_as_outages(reports)
    assert out.loc[0, ["outage_id", "entity", "country", "region", "method"]].tolist() == \
        ["stop:e0", "country/IQ", "IQ", "Kurdistan", "report"]
    assert out.loc[0, "start"] == T


def test_overlapping_reports_of_one_place_are_one_outage(events):
    """STOP lists some shutdowns twice (per network type, or again with a later end)."""
    twice = events([T, T + DAY, T + 30 * DAY], hours=48.0, kind="shutdown_report", country="IR", source="stop")
    elsewhere = events([T], kind="shutdown_report", country="IR", region="Khuzestan", source="stop")
    merged = merge_reports(reports_as_outages(pd.concat([twice, elsewhere.assign(uid="r")], ignore_index=True)))
    assert merged["outage_id"].tolist() == ["stop:e0", "stop:r", "stop:e2"]
    assert merged.loc[0, "end"] == T + DAY + pd.Timedelta("48h")  # the later end of the two
    assert len(merged.loc[0, "detail"]["merged"]) == 2 and "merged" not in merged.loc[2, "detail"]


def test_run_correlation_stores_flags_summary_and_parameters(store, outages, events):
    out = outages(weekly(12))
    out["source"] = "detected"
    store.write_outages(out)
    store.write_events(pd.concat([events(weekly(6, pd.Timedelta("1h")), kind="protest"),
                                  events([T + 3 * DAY], kind="shutdown_report", source="stop")]))
    result = run_correlation(store, params=CorrelateParams(permutations=200, seed=7))
    assert len(result.coincidences) == 6 and set(result.coincidences["relation"]) == {"during"}
    run = store.read_correlation_run(result.run_id)
    assert run["params"]["outages"] == "detected" and run["params"]["seed"] == 7
    assert run["params"]["windows"]["protest"] == {"before": "2h", "after": "12h"}
    assert run["params"]["span"][0].startswith("2020-02-29")
    stored = store.read_coincidences(result.run_id)
    assert sorted(stored["outage_id"]) == sorted(result.coincidences["outage_id"])
    assert stored["offset_minutes"].tolist() == [-60.0] * 6
    summary = store.read_correlation_summary(result.run_id)
    assert len(summary) == len(result.summary) == 3
    assert summary["verdict"].tolist() == result.summary["verdict"].tolist()


def test_run_correlation_with_a_list_of_shutdown_reports(store, events):
    store.write_events(pd.concat([
        events(weekly(5), kind="shutdown_report", country="IQ", region="Kurdistan - (Erbil, Duhok)", source="mylist"),
        events(weekly(5, pd.Timedelta("30min")), kind="exam", country="IQ", region="Kurdistan", source="exams"),
        events(weekly(5, pd.Timedelta("30min")), kind="exam", country="IQ", region="Basrah", source="other")]))
    result = run_correlation(store, "mylist", countries=["IQ"], kinds=["exam"])
    flags = result.coincidences
    assert len(flags) == 5 and set(flags["event_source"]) == {"exams"}
    assert flags["outage_id"].str.startswith("mylist:").all()


def test_run_correlation_with_reference_outages_of_the_outages_table(store, outages, events):
    out = outages(weekly(4), country="IQ")
    out["source"] = "ioda-events"
    out["detail"] = [{"region": "Basrah"}] * 4
    store.write_outages(out)
    store.write_events(pd.concat([events(weekly(4), kind="exam", country="IQ", region="Kurdistan"),
                                  events(weekly(4), kind="protest", country="IQ", region="Basrah")]))
    result = run_correlation(store, "ioda-events")
    assert set(result.coincidences["event_kind"]) == {"protest"}


def test_detected_outages_are_tested_over_the_signal_coverage(store, outages, events):
    times = pd.date_range("2020-01-01", "2020-12-31", freq="1D", tz="UTC")
    store.write_signals(pd.DataFrame({"entity": "country/SY", "datasource": "bgp", "time": times,
                                      "value": np.ones(len(times))}))
    out = outages(weekly(3))
    out["source"] = "detected"
    store.write_outages(out)
    store.write_events(events(weekly(3)))
    result = run_correlation(store, params=CorrelateParams(permutations=100))
    assert result.params["span"] == ["2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"]


def test_each_country_is_tested_only_where_it_was_observed(store, outages, events, caplog):
    """Signals of another country years earlier must not stretch the chance baseline of this one."""
    def signals(entity, first, last):
        times = pd.date_range(first, last, freq="1h", tz="UTC")
        return pd.DataFrame({"entity": entity, "datasource": "bgp", "time": times, "value": np.ones(len(times))})

    store.write_signals(signals("country/SY", "2020-02-20", "2020-04-30"))
    out = outages(weekly(3))
    out["source"] = "detected"
    store.write_outages(out)
    store.write_events(events(weekly(3)))
    alone = run_correlation(store, params=CorrelateParams(permutations=100)).summary
    store.write_signals(signals("country/KE", "2016-06-01", "2016-06-08"))
    kenya = outages([pd.Timestamp("2016-06-07T13:00Z")])
    store.write_outages(kenya.assign(source="detected", entity="country/KE", country="KE", outage_id="ke"))
    both = run_correlation(store, params=CorrelateParams(permutations=100))
    assert both.params["span"][0] == "2016-06-01T00:00:00Z"  # the store's whole coverage...
    assert both.params["observed"]["SY"] == ["2020-02-20T00:00:00Z", "2020-05-01T00:00:00Z"]
    pd.testing.assert_series_equal(both.summary["expected"], alone["expected"])  # ...but SY's own span counts
    store.write_events(events(weekly(3), country="TJ", source="tj"))  # no signals, no outage: not testable
    with_tj = run_correlation(store, params=CorrelateParams(permutations=100))
    assert set(with_tj.summary["country"]) == {"SY"}
    assert "no signals stored for TJ: no outage could be detected there" in caplog.text


def test_unknown_outage_source_and_kind(store, outages):
    with pytest.raises(InputError, match="no outages from 'nope'"):
        run_correlation(store, "nope")
    with pytest.raises(InputError, match="unknown event kind 'shutdown_report'"):
        run_correlation(store, "detected", kinds=["shutdown_report"])
    with pytest.raises(InputError, match="nothing to correlate"):
        run_correlation(store)


def test_parameters_from_any_config_value_fail_only_with_config_errors():
    """Whatever a config file holds, [correlate] is either accepted or refused with a ConfigError."""
    from hypothesis import given, settings
    from hypothesis import strategies as st
    values = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(),
                       st.sampled_from(["2h", "-1h", "0s", "PT2H", "1e400h", "7D", "soon", ""]),
                       st.dictionaries(st.sampled_from(["exam", "speech", "before", "after"]),
                                       st.one_of(st.text(max_size=4), st.dictionaries(
                                           st.sampled_from(["before", "after", "x"]), st.text(max_size=6)))))
    keys = st.sampled_from(["windows", "window_before", "window_after", "permutations", "seed",
                            "alpha", "min_outages", "min_events", "unknown"])

    @settings(max_examples=300, deadline=None)
    @given(st.dictionaries(keys, values, max_size=4))
    def check(section):
        try:
            build(CorrelateParams, section, "[correlate]")
        except ConfigError:
            pass

    check()
