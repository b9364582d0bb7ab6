"""Detection parameters: per-datasource rules (IODA's presets), burst detection, fusion.

`DetectParams` is what the config section `[detect]` maps to, e.g.

    [detect]
    merge_gap = "30m"
    [detect.datasources.bgp]          # override part of a preset (or define a new datasource)
    warning = 0.98
    [detect.bursts]
    min_probes = 5

The presets follow IODA's published rule (history median, warning / critical fractions); the
extra fields (minimum history, time-of-day baseline, minimum duration, hysteresis) are ours.
A datasource with no preset gets `AUTO`, whose `None` fields are chosen from the series itself
(`resolve_rule`).
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
    release       hysteresis in value: the ratio that counts as recovered (None = warning)
    max_gap       no-data stretch bridged inside an alert; a longer one ends it
    max_carry     how long a carried-forward baseline stays valid (None = as long as needed)
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
    max_gap: pd.Timedelta = pd.Timedelta("1h")
    max_carry: pd.Timedelta | None = None

    def __post_init__(self):
        for name in ("window", "min_history", "pool", "min_duration", "recovery", "max_gap", "max_carry"):
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

    @property
    def release_ratio(self) -> float:
        """The ratio at which a bin counts as recovered."""
        return self.warning if self.release is None else self.release


# IODA's rule (BGP: 24 h history, 0.99 / 0.5; active probing: 7 d, 0.8 / 0.5; telescope: 7 d,
# 0.25 / 0.1). BGP needs half its 24 h window (12 h) of history; the others one daily cycle.
PRESETS: dict[str, RuleParams] = {
    "bgp": RuleParams(window=pd.Timedelta("24h"), warning=0.99, critical=0.5, min_history=pd.Timedelta("12h"),
                      diurnal=False, min_duration=pd.Timedelta("15min"), recovery=pd.Timedelta("15min"),
                      max_gap=pd.Timedelta("30min")),
    "ping-slash24": RuleParams(window=pd.Timedelta("7D"), warning=0.8, critical=0.5, min_history=DAY,
                               diurnal=True, min_duration=pd.Timedelta("20min"), recovery=pd.Timedelta("30min")),
    "merit-nt": RuleParams(window=pd.Timedelta("7D"), warning=0.25, critical=0.1, min_history=DAY,
                           diurnal=True, min_duration=pd.Timedelta("30min"), recovery=pd.Timedelta("30min")),
}

# Datasources without a preset: thresholds, time-of-day baseline, minimum duration and recovery
# are chosen from the series (resolve_rule).
AUTO = RuleParams(warning=None, critical=None, diurnal=None, min_duration=None, recovery=None)


@dataclass(frozen=True)
class BurstParams:
    """Kleinberg burst detection over RIPE Atlas probe disconnections (as Disco does).

    gamma, s      Kleinberg's cost of entering the burst state (gamma x ln n) and its rate factor
    min_probes    entities with fewer distinct probes in the data are not judged
    min_fraction  a burst must disconnect at least this fraction of the entity's probes ...
    span          ... within this long (a slow drizzle of unrelated flaps is a burst, not an outage)
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
        """The longest history window of any known rule (for reading enough history)."""
        names = set(PRESETS) | set(self.datasources)
        return max([self.rule_for(n).window for n in names] + [self.rule_for("").window])


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
    """Fill a rule's `None` fields from the series (values on a regular grid of `step`, NaN = gap).

    - diurnal: the median day (each time of day's median over the days) swings by more than 10 %
      of its top; needs two full days of data, else False.
    - warning: 1 - 4 x the noise, kept in [0.3, 0.8]; the noise is the robust spread (1.4826 x MAD
      / sqrt 2) of bin-to-bin changes relative to the series' median. critical: half of warning.
      Noisy counts get low thresholds, smooth indices high ones.
    - min_duration: 3 bins, at least 30 minutes; recovery: 2 bins, at least 30 minutes.
    """
    changes = {}
    if rule.diurnal is None:
        changes["diurnal"] = _looks_diurnal(values, step)
    if rule.warning is None:
        changes["warning"] = _noise_threshold(values)
    warning = changes.get("warning", rule.warning)
    if rule.critical is None:
        changes["critical"] = round(warning / 2, 3)
    if rule.min_duration is None:
        changes["min_duration"] = max(3 * step, pd.Timedelta("30min"))
    if rule.recovery is None:
        changes["recovery"] = max(2 * step, pd.Timedelta("30min"))
    return dataclasses.replace(rule, **changes) if changes else rule


def _looks_diurnal(values: np.ndarray, step: pd.Timedelta) -> bool:
    per_day = DAY // step
    if DAY % step != pd.Timedelta(0) or per_day < 4 or len(values) < 2 * per_day:
        return False
    days = len(values) // per_day
    grid = values[: days * per_day].reshape(days, per_day)
    with np.errstate(all="ignore"):
        profile = bn.nanmedian(grid, axis=0)
    if np.isnan(profile).any() or np.nanmax(profile) <= 0:
        return False
    top = float(np.max(profile))
    return bool((top - float(np.min(profile))) / top > 0.10)


def _noise_threshold(values: np.ndarray) -> float:
    level = float(np.nanmedian(values)) if np.isfinite(values).any() else 0.0
    steps = np.diff(values)
    steps = steps[np.isfinite(steps)]
    if level <= 0 or len(steps) < 10:
        return 0.8
    # Bin-to-bin changes: an outage adds only a few big ones, so their median deviation is the noise.
    spread = 1.4826 * float(np.median(np.abs(steps - np.median(steps)))) / np.sqrt(2.0) / level
    return round(float(np.clip(1.0 - 4.0 * spread, 0.3, 0.8)), 3)
