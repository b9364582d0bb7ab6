"""Per-signal detection: the median-ratio rule, its history, hysteresis, gaps and diurnal baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitor.detect.params import AUTO, PRESETS, RuleParams, resolve_rule
from monitor.detect.rules import ALERT_COLUMNS, baseline, detect_signals, judge_signal, to_grid
from monitor.errors import InputError

STEP = pd.Timedelta("5min")
FLAT = RuleParams(window=pd.Timedelta("24h"), warning=0.8, critical=0.5, min_history=pd.Timedelta("12h"),
                  diurnal=False, min_duration=pd.Timedelta("15min"), recovery=pd.Timedelta("15min"), rebaseline=None)


def signal(values, step=STEP, start="2024-01-01", entity="asn/64512", datasource="test") -> pd.DataFrame:
    times = pd.date_range(start, periods=len(values), freq=step, tz="UTC")
    return pd.DataFrame({"entity": entity, "datasource": datasource, "time": times,
                         "value": np.asarray(values, dtype=float)})


def alerts(frame, rule=FLAT):
    found = detect_signals(frame, lambda _: rule)
    return found[found["level"].isin(["warning", "critical"])].reset_index(drop=True)


def flat(n, level=1000.0, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    return level * (1 + rng.normal(0, noise, n)) if noise else np.full(n, level)


def test_drop_is_an_alert_from_first_low_bin_to_recovery():
    values = flat(600, noise=0.01)
    values[400:424] *= 0.3  # two hours at 30 %
    found = alerts(signal(values))
    assert len(found) == 1
    row = found.iloc[0]
    times = signal(values)["time"]
    assert row["start"] == times[400] and row["end"] == times[424]
    assert row["level"] == "critical" and not row["open"]
    assert row["depth"] == pytest.approx(0.7, abs=0.03)
    assert row["area"] == pytest.approx(0.7 * 120, rel=0.05)  # relative drop x minutes
    assert list(found.columns) == ALERT_COLUMNS


def test_partial_drop_is_a_warning_with_its_depth():
    values = flat(600)
    values[400:460] = 700.0
    row = alerts(signal(values)).iloc[0]
    assert row["level"] == "warning" and row["depth"] == pytest.approx(0.3)


def test_abnormal_values_stay_out_of_the_history():
    # A 20 h drop in a 24 h window: a plain rolling median adapts after 12 h; the rule must not.
    values = flat(1200, noise=0.002)
    values[400:640] *= 0.5
    naive = pd.Series(values).rolling(288, min_periods=144).median().shift(1)
    assert (values[400:640] >= 0.8 * naive[400:640]).any()  # the naive baseline does forget
    found = alerts(signal(values))
    assert len(found) == 1
    assert found.iloc[0]["end"] == signal(values)["time"][640]


def test_baseline_is_carried_through_an_outage_longer_than_the_window():
    values = flat(2000, noise=0.002)
    values[400:1100] *= 0.4  # 58 h, more than twice the 24 h window
    found = alerts(signal(values))
    assert len(found) == 1 and found.iloc[0]["end"] == signal(values)["time"][1100]


def test_max_carry_lets_a_level_shift_become_the_new_normal():
    values = flat(3000, noise=0.002)
    values[400:] *= 0.6  # the level changes for good
    rule = RuleParams(**{**FLAT.__dict__, "max_carry": pd.Timedelta("12h")})
    assert alerts(signal(values)).iloc[0]["open"]  # by default the outage never ends
    found = alerts(signal(values), rule)
    assert len(found) == 1 and not found.iloc[0]["open"]
    # the carried baseline expired 12 h after the history ran out (24 h), so bins became unjudged
    assert found.iloc[0]["detail"]["ended_by"] == "no baseline"
    assert found.iloc[0]["end"] <= signal(values)["time"][400] + pd.Timedelta("36h") + STEP


def test_nothing_is_judged_before_min_history():
    values = flat(400)
    values[50:100] = 100.0  # a drop within the first 12 h: no baseline yet
    found = detect_signals(signal(values), lambda _: FLAT)
    assert found[found["level"].isin(["warning", "critical"])].empty
    unjudged = found[found["level"] == "unjudged"]
    times = signal(values)["time"]
    assert len(unjudged) == 1 and unjudged.iloc[0]["start"] == times[0]
    assert unjudged.iloc[0]["end"] == times[0] + FLAT.min_history


def test_a_gap_is_no_data_never_zero():
    values = flat(800)
    values[300:500] = np.nan  # 16 h without data
    found = detect_signals(signal(values), lambda _: FLAT)
    assert found[found["level"].isin(["warning", "critical"])].empty
    gaps = found[found["level"] == "nodata"]
    times = signal(values)["time"]
    assert len(gaps) == 1 and (gaps.iloc[0]["start"], gaps.iloc[0]["end"]) == (times[300], times[500])


def test_missing_rows_are_gaps_too():
    frame = signal(flat(800)).drop(index=range(300, 310))
    gaps = detect_signals(frame, lambda _: FLAT).query("level == 'nodata'")
    assert len(gaps) == 1 and gaps.iloc[0]["end"] - gaps.iloc[0]["start"] == 10 * STEP


@pytest.mark.parametrize("hours", [0.33, 2, 30])
def test_a_gap_inside_an_outage_is_bridged_and_counted(hours):
    values = flat(1400)
    gap = int(hours * 12)
    values[400:460 + gap] = 200.0
    values[420:420 + gap] = np.nan  # no data in the middle of the drop, however long
    found = alerts(signal(values))
    times = signal(values)["time"]
    assert len(found) == 1 and (found.iloc[0]["start"], found.iloc[0]["end"]) == (times[400], times[460 + gap])
    assert found.iloc[0]["detail"]["nodata_minutes"] == gap * 5


def test_recovery_after_a_gap_ends_the_outage_where_the_data_stopped():
    values = flat(800)
    values[400:460] = 200.0
    values[430:460] = np.nan  # 2.5 h without data, then normal values
    found = alerts(signal(values))
    times = signal(values)["time"]
    assert len(found) == 1 and found.iloc[0]["end"] == times[430]
    assert found.iloc[0]["detail"]["ended_by"] == "recovery after gap"


def test_a_gap_never_starts_an_outage():
    values = flat(800)
    values[400:430] = np.nan
    assert alerts(signal(values)).empty


def test_short_dip_is_below_min_duration():
    values = flat(600)
    values[400:402] = 100.0  # 10 minutes
    assert alerts(signal(values)).empty
    values[400:403] = 100.0  # 15 minutes
    assert len(alerts(signal(values))) == 1


def test_hysteresis_in_time_bridges_flicker():
    values = flat(700)
    values[400:460] = 300.0
    values[410:460:6] = 1000.0  # one recovered bin every half hour
    assert len(alerts(signal(values))) == 1
    no_hold = RuleParams(**{**FLAT.__dict__, "recovery": pd.Timedelta(0), "min_duration": pd.Timedelta(0)})
    assert len(alerts(signal(values), no_hold)) > 5


def test_hysteresis_in_value_needs_the_release_ratio():
    values = flat(700)
    values[400:430] = 300.0
    values[430:460] = 850.0  # above warning (0.8), below release (0.9)
    times = signal(values)["time"]
    assert alerts(signal(values)).iloc[0]["end"] == times[430]
    held = RuleParams(**{**FLAT.__dict__, "release": 0.9})
    assert alerts(signal(values), held).iloc[0]["end"] == times[460]


def test_outage_still_on_at_the_end_of_the_data_is_open():
    values = flat(600)
    values[500:] = 100.0
    row = alerts(signal(values)).iloc[0]
    assert row["open"] and row["end"] == signal(values)["time"].iloc[-1] + STEP


def test_diurnal_baseline_keeps_nights_normal(synthetic_diurnal):
    week = synthetic_diurnal(days=14, swing=0.35, noise=0.02)
    ap = PRESETS["ping-slash24"]
    assert alerts(week, ap).empty
    # Without the time-of-day baseline (and the noise floor) the night trough, 35 % below the day,
    # looks like an outage.
    naive = RuleParams(**{**ap.__dict__, "diurnal": False, "noise": 0.0})
    assert len(alerts(week, naive)) >= 10


def test_diurnal_baseline_still_sees_a_daytime_outage(synthetic_diurnal):
    week = synthetic_diurnal(days=14, swing=0.35, noise=0.02)
    hit = (week["time"] >= "2024-03-14 10:00") & (week["time"] < "2024-03-14 13:00")
    week.loc[hit, "value"] *= 0.4
    found = alerts(week, PRESETS["ping-slash24"])
    assert len(found) == 1
    assert found.iloc[0]["start"] == pd.Timestamp("2024-03-14 10:00", tz="UTC")
    assert found.iloc[0]["end"] == pd.Timestamp("2024-03-14 13:00", tz="UTC")


def test_series_shorter_than_the_history_it_needs_stays_unjudged(synthetic_diurnal):
    two_days = synthetic_diurnal(days=2, step="1h")
    rule = RuleParams(**{**PRESETS["ping-slash24"].__dict__, "min_history": pd.Timedelta("3D")})
    found = detect_signals(two_days, lambda _: rule)
    assert list(found["level"]) == ["unjudged"]
    assert found.iloc[0]["end"] - found.iloc[0]["start"] == pd.Timedelta("2D")


def _sequential(values, warning, window, min_count, diurnal=False, per_day=24, pool=0):
    """IODA's rule bin by bin, the obvious way: a reference for the vectorised fixed point."""
    n = len(values)
    flags, base = np.zeros(n, bool), np.full(n, np.nan)
    for t in range(n):
        if diurnal:
            masked = np.where(flags[:t], np.nan, values[:t])
            pooled = []
            for k in range(1, window + 1):
                u = t - k * per_day
                near = masked[max(u - pool, 0): max(u + pool + 1, 0)]
                if u + pool >= 0 and np.isfinite(near).any():
                    pooled.append(np.nanmean(near))
            b = np.median(pooled) if len(pooled) >= min_count else (base[t - per_day] if t >= per_day else np.nan)
        else:
            hist = [values[s] for s in range(max(0, t - window), t) if np.isfinite(values[s]) and not flags[s]]
            b = np.median(hist) if len(hist) >= min_count else (base[t - 1] if t else np.nan)
        base[t] = b
        flags[t] = bool(values[t] < warning * b)
    return base, flags


def _random_series(seed, n, per_day=None):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 100 * (1 + rng.normal(0, 0.05, n))
    if per_day:
        values *= 1 - 0.3 * (0.5 + 0.5 * np.cos(2 * np.pi * (t % per_day) / per_day))
    for _ in range(rng.integers(1, 4)):
        a = int(rng.integers(0, n - 10))
        values[a: a + int(rng.integers(2, n // 3))] *= rng.uniform(0.1, 0.7)
    values[rng.random(n) < 0.03] = np.nan
    return values


@pytest.mark.parametrize("seed", range(6))
def test_fixed_point_equals_the_sequential_rule(seed):
    values = _random_series(seed, 400)
    rule = RuleParams(window=pd.Timedelta("100min"), warning=0.8, critical=0.5,
                      min_history=pd.Timedelta("40min"), diurnal=False, noise=0.0)  # IODA's rule alone
    base, flags = baseline(values, rule, pd.Timedelta("5min"))
    ref_base, ref_flags = _sequential(values, 0.8, 20, 8)
    np.testing.assert_array_equal(flags, ref_flags)
    np.testing.assert_allclose(base, ref_base, equal_nan=True)


@pytest.mark.parametrize("seed", range(4))
def test_fixed_point_equals_the_sequential_rule_diurnal(seed):
    values = _random_series(seed, 24 * 20, per_day=24)
    rule = RuleParams(window=pd.Timedelta("3D"), warning=0.8, critical=0.5, min_history=pd.Timedelta("1D"),
                      diurnal=True, pool=pd.Timedelta("1h"), noise=0.0)  # IODA's rule alone
    base, flags = baseline(values, rule, pd.Timedelta("1h"))
    ref_base, ref_flags = _sequential(values, 0.8, 3, 1, diurnal=True, per_day=24, pool=1)
    np.testing.assert_array_equal(flags, ref_flags)
    np.testing.assert_allclose(base, ref_base, equal_nan=True)


def test_unknown_datasource_thresholds_follow_the_series_noise(synthetic_diurnal):
    counts = np.random.default_rng(3).poisson(6.5, 24 * 21).astype(float)  # noisy hourly counts
    noisy = judge_signal(signal(counts, step="1h", datasource="x"), AUTO)
    smooth = judge_signal(signal(flat(24 * 21, level=97.0, noise=0.005), step="1h", datasource="x"), AUTO)
    assert noisy["threshold"].iloc[72:].median() < 0.5 <= smooth["threshold"].iloc[72:].median()
    assert (noisy["threshold"].dropna() >= AUTO.critical - 1e-9).all()  # never below critical
    rule = resolve_rule(AUTO, pd.Timedelta("1h"), counts)
    assert rule.min_duration == pd.Timedelta("3h") and rule.recovery == pd.Timedelta("2h")
    daily = synthetic_diurnal(days=7, step="1h", swing=0.4, noise=0.01)["value"].to_numpy()
    assert resolve_rule(AUTO, pd.Timedelta("1h"), daily).diurnal
    assert not resolve_rule(AUTO, pd.Timedelta("1h"), flat(24 * 21, level=97.0, noise=0.005)).diurnal


def test_time_of_day_decision_uses_only_the_unjudged_first_days(synthetic_diurnal):
    daily = synthetic_diurnal(days=7, step="1h", swing=0.4, noise=0.01)["value"].to_numpy()
    later_flat = np.r_[daily[:48], np.full(24 * 10, 9000.0)]
    assert resolve_rule(AUTO, pd.Timedelta("1h"), later_flat).diurnal  # days 3.. do not change it
    judged = judge_signal(signal(later_flat, step="1h", datasource="x"), AUTO)
    assert (judged["level"].iloc[:48] == "unjudged").all()


def test_judge_signal_levels():
    values = flat(400)
    values[300:320] = 700.0
    values[320:330] = 100.0
    values[350] = np.nan
    judged = judge_signal(signal(values), FLAT)
    assert list(judged.columns) == ["time", "value", "baseline", "ratio", "threshold", "level"]
    assert (judged["level"][:144] == "unjudged").all()
    assert set(judged["level"][300:320]) == {"warning"} and set(judged["level"][320:330]) == {"critical"}
    assert judged["level"][350] == "nodata" and judged["level"][200] == "normal"


def test_to_grid_puts_irregular_rows_on_the_median_step():
    seconds = np.array([0, 300, 600, 1500, 1800, 1810 + 290])
    t0, step, grid = to_grid(seconds, np.arange(6.0))
    assert (t0, step) == (0, 300)
    np.testing.assert_array_equal(grid, [0, 1, 2, np.nan, np.nan, 3, 4, 5])


def test_series_are_judged_separately_and_in_any_row_order():
    a = signal(flat(600), entity="asn/1")
    b = signal(flat(600), entity="asn/2")
    b.loc[400:430, "value"] = 100.0
    shuffled = pd.concat([a, b]).sample(frac=1, random_state=1)
    found = alerts(shuffled)
    assert list(found["entity"]) == ["asn/2"]


def test_frame_without_value_column_is_refused():
    with pytest.raises(InputError, match="value"):
        detect_signals(signal(flat(10)).drop(columns="value"), lambda _: FLAT)
