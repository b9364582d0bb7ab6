"""Detection parameters: per-datasource rules (IODA's presets), burst detection, fusion.

`DetectParams` is what the config section `[detect]` maps to, e.g.

    [detect]
    merge_gap = "30m"
    [detect.datasources.bgp]          # override part of a preset (or define a new datasource)
    warning = 0.98
    [detect.bursts]
    min_probes = 5

The presets follow IODA's published rule (history median, warning / critical fractions); the
extra fields (minimum history, time-of-day baseline, minimum duration, hysteresis, noise floor,
minimum drop, re-baselining) are ours. A datasource with no preset gets `AUTO`, whose `None`
fields are chosen from the start of the series (`resolve_rule`), never from data after a bin.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import bottleneck as bn
import numpy as np
import pandas as pd

DAY = pd.Timedelta("1D")


@dataclass(frozen=True)
class RuleParams:
    """How one datasource's signal is judged (fields left `None` are chosen from the series).

    window        trailing history whose median is the baseline
    warning       a bin below warning x baseline is abnormal: it opens an alert and stays out of
                  the history; critical marks the alert "critical" when any bin falls below it
    min_history   valid history the window must hold before a bin is judged at all; with less
                  (start of the data) bins are "unknown", in the middle of the data (a long outage
                  or gap) the last baseline is carried forward
    diurnal       compare each bin with the same time of day on the previous days of the window
                  (the median over those days of the mean over +-pool), so nights are not outages
    min_duration  shorter alerts are dropped
    recovery      hysteresis in time: an alert ends only when the signal stays recovered this long
                  (short recoveries are bridged)
    release       hysteresis in value: the ratio that counts as recovered (None = the bin's threshold)
    max_carry     how long a carried-forward baseline stays valid (None = as long as needed)
    noise         noise floor: a drop must also exceed `noise` x the series' recent robust spread
                  (a standard deviation from the previous `window`, see rules.noise_spread);
                  a drop below critical x baseline is abnormal however noisy the series (0 = off)
    min_drop      a drop must also exceed this many units of the signal (BGP 2.5: more than two
                  /24s, so routine one-block flaps are not outages); 1 - warning is the minimum depth
    rebaseline    a partial drop (not near-total) lasting longer becomes the new normal: its values
                  re-enter the history and its alert ends ("rebaselined"); None = never
    judge         False: the series is stored and plotted but never judged by this rule (a count of
                  events, e.g. RIPE Atlas disconnections, where a drop is good news)
    """

    window: pd.Timedelta = pd.Timedelta("7D")
    warning: float | None = 0.8
    critical: float | None = 0.5
    min_history: pd.Timedelta = DAY
    diurnal: bool | None = None
    pool: pd.Timedelta = pd.Timedelta("30min")
    min_duration: pd.Timedelta | None = pd.Timedelta("30min")
    recovery: pd.Timedelta | None = pd.Timedelta("30min")
    release: float | None = None
    max_carry: pd.Timedelta | None = None
    noise: float = 4.0
    min_drop: float = 0.0
    rebaseline: pd.Timedelta | None = pd.Timedelta("7D")
    judge: bool = True

    def __post_init__(self):
        for name in ("window", "min_history", "pool", "min_duration", "recovery", "max_carry", "rebaseline"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, pd.Timedelta) or value < pd.Timedelta(0)):
                raise ValueError(f"{name} must be a non-negative duration, got {value!r}")
        if self.window <= pd.Timedelta(0):
            raise ValueError("window must be longer than zero")
        if self.min_history > self.window:
            raise ValueError(f"min_history {self.min_history} is longer than window {self.window}")
        for name in ("warning", "critical", "release"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value!r}")
        if self.warning is not None and self.critical is not None and self.critical > self.warning:
            raise ValueError(f"critical {self.critical} is above warning {self.warning}")
        if self.release is not None and self.warning is not None and self.release < self.warning:
            raise ValueError(f"release {self.release} is below warning {self.warning}")
        if not (self.noise >= 0 and self.min_drop >= 0):
            raise ValueError(f"need noise >= 0 and min_drop >= 0, got {self.noise!r}, {self.min_drop!r}")


# IODA's rule (BGP: 24 h history, 0.99 / 0.5; active probing: 7 d, 0.8 / 0.5; telescope: 7 d,
# 0.25 / 0.1). BGP needs half its 24 h window (12 h) of history; the others one daily cycle.
# 1 - warning is each datasource's minimum depth. BGP also needs a drop of more than two /24s
# (min_drop 2.5): IODA's 0.99 was set for country counts of thousands of /24s, while on a network of
# 20-100 /24s one withdrawn block, a routine flap, is 1-5 %, and a flap while the 24 h median still
# counts a block that went for good (it adapts after 12 h) is two. On the quiet series of
# benchmarks/bench_evaluate.py (50 flapping networks, 60 days) min_drop 0 gives 540 false outages,
# 1.5 gives 56 (0.57 per flapping network-month, over the 0.5 target), 2.5 none.
# A drop below critical counts whatever its size (a network of one or two /24s going dark).
# Re-baselining after 7 days follows IODA, which stops in-painting a signal after 7 days.
#
# RIPE Atlas: a country or network has tens of probes, so one probe is 2-10 % of the count, and probes
# leave and return one or two at a time all the time (power, home routers, hosts moving them). The
# detector of RIPE Atlas evidence is the burst detector on the disconnection times (bursts.py, Disco's
# method): it asks for synchronous disconnections, which churn does not produce. The level rule on
# the connected count (`atlas-connected`) speaks only for a collapse beyond churn: critical only
# (warning = critical = 0.5, IODA's critical for active probing), i.e. half of the usual probes gone,
# the same share the burst detector asks (BurstParams.min_fraction). Churn of one or two probes at a
# time does not reach it at 10-40 probes (it would take five to twenty gone at once); a collapse does.
# (A minimum drop in probes would add nothing: a drop below critical counts whatever its size.) The
# count is not diurnal (probes are always on). `atlas-disconnects` is a count of events, where a drop
# is good news: never judged by a level rule (judge=False); the burst detector reads the events.
PRESETS: dict[str, RuleParams] = {
    "bgp": RuleParams(window=pd.Timedelta("24h"), warning=0.99, critical=0.5, min_history=pd.Timedelta("12h"),
                      diurnal=False, min_duration=pd.Timedelta("15min"), recovery=pd.Timedelta("15min"),
                      min_drop=2.5),
    "ping-slash24": RuleParams(window=pd.Timedelta("7D"), warning=0.8, critical=0.5, min_history=DAY,
                               diurnal=True, min_duration=pd.Timedelta("20min"), recovery=pd.Timedelta("30min")),
    "merit-nt": RuleParams(window=pd.Timedelta("7D"), warning=0.25, critical=0.1, min_history=DAY,
                           diurnal=True, min_duration=pd.Timedelta("30min"), recovery=pd.Timedelta("30min")),
    "atlas-connected": RuleParams(window=pd.Timedelta("7D"), warning=0.5, critical=0.5, min_history=DAY,
                                  diurnal=False, min_duration=pd.Timedelta("30min"),
                                  recovery=pd.Timedelta("30min")),
    "atlas-disconnects": RuleParams(window=pd.Timedelta("7D"), diurnal=False, judge=False),
}

# Datasources without a preset: IODA's active-probing thresholds (0.8) lowered per bin by the noise
# floor down to 0.3 (critical), so noisy counts get low thresholds and smooth indices high ones;
# time-of-day baseline decided from the first two days (judging starts after them), minimum
# duration and recovery from the step (resolve_rule).
AUTO = RuleParams(warning=0.8, critical=0.3, min_history=2 * DAY, diurnal=None, min_duration=None, recovery=None)

# Severity classes of an outage by its depth (fraction of the baseline lost): partial below 0.5,
# major from 0.5, near-total from 0.9 (under a tenth of the usual signal left). A near-total drop
# never re-baselines. An outage longer than LONG_RUNNING is labelled long-running.
MAJOR, NEAR_TOTAL = 0.5, 0.9
LONG_RUNNING = pd.Timedelta("7D")


def severity(depth: float) -> str:
    """partial / major / near-total, from an outage's depth."""
    return "near-total" if depth >= NEAR_TOTAL else "major" if depth >= MAJOR else "partial"


@dataclass(frozen=True)
class BurstParams:
    """Kleinberg's multi-level burst detection over RIPE Atlas probe disconnections (as Disco does).

    gamma, s      Kleinberg's cost of going up one level (gamma x ln n) and the rate factor between
                  levels (Disco's 0.5 and 2)
    min_probes    entities with fewer distinct probes in the data are not judged (Disco: 10)
    min_fraction  a burst must disconnect at least this fraction of the entity's probes ...
    span          ... within this long (a slow drizzle of unrelated flaps is a burst, not an outage);
                  both also set the burst level an outage must reach (bursts.threshold_level)
    datasource    the name bursts carry into fusion
    """

    gamma: float = 0.5
    s: float = 2.0
    min_probes: int = 10
    min_fraction: float = 0.5
    span: pd.Timedelta = pd.Timedelta("1h")
    datasource: str = "ripe-atlas"

    def __post_init__(self):
        if self.gamma <= 0 or self.s <= 1:
            raise ValueError(f"need gamma > 0 and s > 1, got gamma={self.gamma}, s={self.s}")
        if self.min_probes < 1 or not 0 < self.min_fraction <= 1:
            raise ValueError("min_probes must be >= 1 and min_fraction in (0, 1]")


@dataclass(frozen=True)
class DetectParams:
    """Everything detection needs; the config section `[detect]`.

    datasources      per-datasource overrides of PRESETS (a new name gets AUTO plus the override)
    auto             overrides of AUTO for datasources without a preset
    bursts           RIPE Atlas burst detection
    merge_gap        alerts of one entity closer than this merge into one outage
    min_datasources  outages seen by fewer datasources are dropped
    lookback         history read before --from when detecting from the store
    """

    datasources: dict = field(default_factory=dict)
    auto: dict = field(default_factory=dict)
    bursts: BurstParams = field(default_factory=BurstParams)
    merge_gap: pd.Timedelta = pd.Timedelta("30min")
    min_datasources: int = 1
    lookback: pd.Timedelta = pd.Timedelta("21D")

    def __post_init__(self):
        if self.min_datasources < 1:
            raise ValueError("min_datasources must be >= 1")
        if self.merge_gap < pd.Timedelta(0) or self.lookback < pd.Timedelta(0):
            raise ValueError("merge_gap and lookback must be non-negative durations")
        for name in self.datasources:
            self.rule_for(name)
        self.rule_for("")  # validates `auto`

    def rule_for(self, datasource: str) -> RuleParams:
        """The rule of one datasource: its preset (or AUTO) with the configured overrides."""
        base = PRESETS.get(datasource)
        override = self.datasources.get(datasource, {})
        if base is None:
            base, override = _with(AUTO, self.auto, "auto"), override
        return _with(base, override, f"datasources.{datasource}")

    @property
    def longest_window(self) -> pd.Timedelta:
        """How much history before a bin the verdict on it needs, for any known rule: the history
        window (+ the time-of-day pool), its noise-floor window, and the re-baselining maximum (a
        bin's verdict depends on when the drop it belongs to began). The one exception is a bin
        inside an older outage still under way (a carried baseline): read from that outage's start
        minus this (as `run_detection` does with the stored outages)."""
        names = set(PRESETS) | set(self.datasources) | {""}
        rules = [self.rule_for(n) for n in names]
        return max(r.window + r.pool + (r.rebaseline or pd.Timedelta(0)) for r in rules)


def _with(rule: RuleParams, override: dict, where: str) -> RuleParams:
    """`rule` with the TOML-style values of `override` (durations as strings), validated."""
    if not override:
        return rule
    from monitor.config import build
    from monitor.errors import ConfigError
    if not isinstance(override, dict):
        raise ValueError(f"{where}: expected a table")
    as_toml = {f.name: _toml_value(getattr(rule, f.name)) for f in dataclasses.fields(rule)}
    try:
        return build(RuleParams, {**as_toml, **override}, where)
    except ConfigError as exc:
        raise ValueError(str(exc)) from exc


def _toml_value(value):
    return value.isoformat() if isinstance(value, pd.Timedelta) else value


def resolve_rule(rule: RuleParams, step: pd.Timedelta, values: np.ndarray) -> RuleParams:
    """Fill a rule's `None` fields (values on a regular grid of `step`, NaN = gap), past-only.

    - diurnal: decided from the first `min_history` of the data (at least two full days: the median
      day swings by more than 10 % of its top), which is never judged, so no verdict uses later data.
    - warning 0.8 and critical half of it when unset (the noise floor adapts them per bin).
    - min_duration: 3 bins, at least 30 minutes; recovery: 2 bins, at least 30 minutes.
    """
    changes = {}
    if rule.diurnal is None:
        head = max(rule.min_history, 2 * DAY)
        changes["diurnal"] = _looks_diurnal(values[: int(head // step)], step)
    if rule.warning is None:
        changes["warning"] = 0.8
    warning = changes.get("warning", rule.warning)
    if rule.critical is None:
        changes["critical"] = round(warning / 2, 3)
    if rule.min_duration is None:
        changes["min_duration"] = max(3 * step, pd.Timedelta("30min"))
    if rule.recovery is None:
        changes["recovery"] = max(2 * step, pd.Timedelta("30min"))
    if rule.diurnal is None and rule.min_history < head:
        changes["min_history"] = min(head, rule.window)
    return dataclasses.replace(rule, **changes) if changes else rule


def _looks_diurnal(values: np.ndarray, step: pd.Timedelta) -> bool:
    per_day = DAY // step
    if DAY % step != pd.Timedelta(0) or per_day < 4 or len(values) < 2 * per_day:
        return False
    if not np.isfinite(values).any() or np.nanmedian(values) <= 0:
        return False  # mostly zero: counts of events, not a level that can drop
    days = len(values) // per_day
    grid = values[: days * per_day].reshape(days, per_day)
    with np.errstate(all="ignore"):
        profile = bn.nanmedian(grid, axis=0)
    if np.isnan(profile).any() or np.nanmax(profile) <= 0:
        return False
    top = float(np.max(profile))
    return bool((top - float(np.min(profile))) / top > 0.10)
