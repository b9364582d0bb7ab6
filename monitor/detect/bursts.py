"""RIPE Atlas disconnection bursts: Kleinberg's multi-level automaton per entity, as Disco does.

Disco (Shah, Fontugne, Aben, Pelsser, Bush, TMA 2017) runs Kleinberg's burst detection (the
multi-state automaton, s = 2, gamma = 0.5) over the times at which an entity's probes disconnect
(RIPE Atlas measurement 7000), keeps bursts at or above a burst level, and dates the outage by the
reconnections of the probes they disconnected. Here the automaton's base rate is the entity's own
mean disconnection rate (Kleinberg's n/T), and the threshold level is computed from the entity's
number of probes (`threshold_level`): the level that `min_fraction` of them disconnecting within
`span` holds. An outage is a level-1 burst (disconnections above their base rate) that holds a
burst at or above the threshold level and disconnected at least `min_fraction` of the probes within
`span` (a burst of a few probes at the same second reaches high levels too); only entities with
`min_probes` probes are judged. It runs from the first disconnection at the threshold level (not
the level-1 burst's first one: a probe flapping an hour before the wave is not its start) to the
median time at which its probes reconnected after their last disconnection in the burst (open when
fewer than half came back within the data). Its depth is the largest share of the entity's probes
down at one moment (`peak_at`), not the share that disconnected at some point of the burst
(`disconnected_fraction`): probes flapping one after the other over hours are not an outage of all.

The probe count of an entity is the number of distinct probes in its events unless the caller
passes `probe_counts` (e.g. from the RIPE Atlas probe list): probes that never disconnect write no
events, so the default undercounts and makes fractions look larger.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitor.detect.params import BurstParams
from monitor.detect.rules import alerts_frame
from monitor.errors import InputError
from monitor.frames import PROBE_EVENT_COLUMNS
from monitor.timeutil import to_epoch


def kleinberg_levels(times: np.ndarray, s: float = 2.0, gamma: float = 0.5, n: float | None = None,
                     span: float | None = None) -> np.ndarray:
    """The level of each gap between sorted event times in Kleinberg's multi-state automaton.

    Kleinberg (2003), the infinite-state model A*(s, gamma): in level j gaps are exponential with
    rate s^j x n/span; going up i -> j costs (j - i) x gamma x ln n, going down is free; the optimal
    state sequence (Viterbi, O(gaps x levels): the cheapest way into each level is a running minimum
    from below and from above) is returned, 0 = the base rate. n and span default to Kleinberg's: the
    number of gaps and their total (Disco passes its number of probes and the time analysed).
    Levels stop one above the level whose mean gap is the shortest gap; a gap of 0 s (same-second
    events) counts as 1 s, the log's resolution.
    """
    gaps = np.maximum(np.diff(np.asarray(times, dtype=np.float64)), 1.0)
    m = len(gaps)
    if m == 0:
        return np.zeros(0, dtype=np.int16)
    span = float(span or gaps.sum())
    n = float(n or m)
    base = n / span
    top = int(np.ceil(np.log(max(1.0 / (base * gaps.min()), 1.0)) / np.log(s))) + 1
    levels = np.arange(top + 1)
    rates = base * s ** levels
    log_rates = np.log(rates)
    tau = gamma * np.log(max(n, 2.0))
    up = levels * tau
    costs = np.empty((m, top + 1))
    cost = np.full(top + 1, np.inf)
    cost[0] = 0.0
    for t, gap in enumerate(gaps.tolist()):
        from_below = np.minimum.accumulate(cost - up) + up      # best i <= j, paying (j - i) tau
        from_above = np.minimum.accumulate(cost[::-1])[::-1]     # best i >= j, free
        cost = np.minimum(from_below, from_above) + rates * gap - log_rates
        costs[t] = cost
    states = np.empty(m, dtype=np.int16)
    state = int(np.argmin(cost))
    for t in range(m - 1, -1, -1):
        states[t] = state
        before = costs[t - 1] if t else np.where(levels == 0, 0.0, np.inf)
        state = int(np.argmin(before + np.maximum(state - levels, 0) * tau))
    return states


def threshold_level(probes: int, params: BurstParams, n: int, span: float) -> int:
    """The burst level an outage must reach, from the entity's number of probes: the level that the
    smallest outage we report holds in the automaton, `min_fraction` of the probes disconnecting
    evenly over `params.span`, in a stream of n gaps over `span` seconds (its base rate).

    Over g gaps lasting D in all, level j beats the base rate by g j ln s - (s^j - 1) rate0 D and
    pays j gamma ln n to enter, so the best level solves s^j = (g - gamma log_s n) / (rate0 D).
    """
    gaps = np.ceil(params.min_fraction * probes) - 1
    net = gaps - params.gamma * np.log(max(n, 2)) / np.log(params.s)
    ratio = net / (n / span * params.span.total_seconds())
    return max(1, int(np.floor(np.log(ratio) / np.log(params.s)))) if ratio > 1 else 1


def _bursts(times: np.ndarray, params: BurstParams, probes: int) -> list[tuple[int, int, int, int]]:
    """(first event at the threshold level, last event, top level, threshold level) of each level-1
    burst that holds a burst at or above the threshold level."""
    levels = kleinberg_levels(times, params.s, params.gamma)
    if len(times) < 3:
        return []
    need = threshold_level(probes, params, len(times) - 1, float(times[-1] - times[0]))
    edges = np.diff(np.r_[0, (levels >= 1).astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = []
    for a, b in zip(starts.tolist(), ends.tolist()):  # gap run [a, b) spans events a .. b
        high = np.flatnonzero(levels[a:b] >= need)
        if high.size:
            out.append((a + int(high[0]), b, int(levels[a:b].max()), need))
    return out


def _most_within(burst: pd.DataFrame, span: float) -> int:
    """The most distinct probes disconnecting within `span` seconds of one another."""
    secs, probes = burst["secs"].to_numpy(), burst["probe"].to_numpy()
    ends = np.searchsorted(secs, secs + span, side="right")
    return max(len(set(probes[i:j].tolist())) for i, j in enumerate(ends.tolist()))


def _reconnections(events: pd.DataFrame, probes: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Each probe's first connect after its given disconnection time (inf if none in the data)."""
    connects = events[events["event"] == "connect"]
    out = np.full(len(probes), np.inf)
    for i, (probe, since) in enumerate(zip(probes.tolist(), after.tolist())):
        times = connects["secs"].to_numpy()[connects["probe_id"].to_numpy() == probe]
        later = times[times >= since]
        if later.size:
            out[i] = later.min()
    return out


def _peak_down(events: pd.DataFrame, start: int, stop: int) -> tuple[int, int]:
    """(most probes down at once, when) between start and stop, counting disconnections from start on."""
    window = events[(events["secs"] >= start) & (events["secs"] <= stop)].sort_values("secs", kind="stable")
    down: set = set()
    peak, at = 0, start
    for secs, probe, event in zip(window["secs"].tolist(), window["probe_id"].tolist(), window["event"].tolist()):
        if event == "disconnect":
            down.add(probe)
            if len(down) > peak:
                peak, at = len(down), secs
        else:
            down.discard(probe)
    return peak, at


def _entity_bursts(entity: str, events: pd.DataFrame, total: int, params: BurstParams) -> list[dict]:
    down = events[events["event"] == "disconnect"].sort_values("secs", kind="stable")
    secs, probes = down["secs"].to_numpy(), down["probe_id"].to_numpy()
    data_end = int(events["secs"].max())
    rows = []
    for first, last, level, need in _bursts(secs, params, total):
        in_burst = pd.DataFrame({"probe": probes[first:last + 1], "secs": secs[first:last + 1]})
        last_down = in_burst.groupby("probe")["secs"].max()
        fraction = len(last_down) / total
        if _most_within(in_burst, params.span.total_seconds()) < params.min_fraction * total:
            continue
        back = _reconnections(events, last_down.index.to_numpy(), last_down.to_numpy())
        end = float(np.median(back))
        is_open = not np.isfinite(end)
        start = int(secs[first])
        stop = data_end if is_open else int(end)
        asns = sorted({int(a) for a in down["asn"].iloc[first:last + 1].dropna()})
        peak, peak_at = _peak_down(events, start, stop)
        depth = peak / total
        rows.append({"entity": entity, "datasource": params.datasource, "start": start,
                     "end": max(stop, start + 1), "level": "critical", "depth": depth,
                     "area": depth * (max(stop, start + 1) - start) / 60, "open": is_open,
                     "method": "kleinberg",
                     "detail": {"probes": int(total), "disconnected": len(last_down),
                                "disconnected_fraction": fraction, "peak_down": peak,
                                "peak_at": int(peak_at),
                                "disconnections": int(last - first + 1), "asns": asns,
                                "last_disconnection": int(secs[last]), "level": level,
                                "threshold_level": need, "gamma": params.gamma, "s": params.s}})
    return rows


def detect_bursts(probe_events: pd.DataFrame, params: BurstParams = BurstParams(),
                  probe_counts: dict[str, int] | None = None) -> pd.DataFrame:
    """Alerts (rules.ALERT_COLUMNS) from the disconnection bursts of each entity's probes."""
    missing = [c for c in PROBE_EVENT_COLUMNS if c not in probe_events.columns]
    if missing:
        raise InputError(f"probe event frame lacks column(s) {', '.join(missing)}")
    rows: list[dict] = []
    if probe_events.empty:
        return alerts_frame(rows)
    events = probe_events.assign(secs=to_epoch(probe_events["time"]))
    for entity, group in events.groupby("entity", sort=True):
        total = (probe_counts or {}).get(entity) or group["probe_id"].nunique()
        if total < params.min_probes:
            continue
        rows += _entity_bursts(str(entity), group, int(total), params)
    return alerts_frame(rows)
