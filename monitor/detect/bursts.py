"""RIPE Atlas disconnection bursts: Kleinberg's two-state automaton per entity, as Disco does.

Disco (Shah, Fontugne, Aben, Pelsser, Bush, TMA 2017) runs Kleinberg's burst detection over the
times at which an entity's probes disconnect (RIPE Atlas measurement 7000) with s = 2 and
gamma = 0.5: a burst is a stretch where disconnections arrive at least s times faster than on
average. We keep bursts that disconnected at least `min_fraction` of the entity's probes, and only
judge entities with `min_probes` probes; our addition: that fraction must go down within `span`
(on a sparse stream a slow drizzle of unrelated flaps doubles the rate too). An outage runs from
the burst's first disconnection to the median time at which its probes reconnected after their
last disconnection in the burst (open when fewer than half came back within the data). Its depth
is the largest share of the entity's probes down at one moment (`peak_at`), not the share that
disconnected at some point of the burst (`disconnected_fraction`): probes flapping one after the
other over hours are not an outage of all of them.

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


def kleinberg_states(times: np.ndarray, s: float = 2.0, gamma: float = 0.5) -> np.ndarray:
    """The cheapest state (0 = base rate, 1 = burst) of each gap between sorted event times.

    Gaps are exponential with rate n/T in state 0 and s·n/T in state 1; entering state 1 costs
    gamma·ln n, leaving it is free (Kleinberg 2002). With two states the Viterbi recursion reduces
    to one number per gap, d = cost(state 1) - cost(state 0): d_i = clip(d_{i-1}, 0, tau) + delta_i.
    """
    gaps = np.diff(np.asarray(times, dtype=np.float64))
    n, span = len(gaps), float(gaps.sum()) if len(gaps) else 0.0
    if n < 2 or span <= 0:
        return np.zeros(n, dtype=np.int8)
    rate = n / span
    tau = gamma * np.log(n)
    delta = ((s - 1.0) * rate * gaps - np.log(s)).tolist()  # cost in state 1 minus cost in state 0
    diff = np.empty(n + 1)
    diff[0] = tau  # starting in state 0; being in state 1 before any gap costs the entry
    d = tau
    for i, step in enumerate(delta, start=1):
        d = min(max(d, 0.0), tau) + step
        diff[i] = d
    states = np.empty(n, dtype=np.int8)
    state = 1 if diff[n] < 0 else 0
    for i in range(n, 0, -1):
        states[i - 1] = state
        before = diff[i - 1]
        state = (0 if before >= 0 else 1) if state == 0 else (0 if before > tau else 1)
    return states


def _bursts(times: np.ndarray, params: BurstParams) -> list[tuple[int, int]]:
    """(first, last) event index of each burst."""
    states = kleinberg_states(times, params.s, params.gamma)
    edges = np.diff(np.r_[0, states, 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist()))  # gap run [a, b) spans events a .. b


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
    for first, last in _bursts(secs, params):
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
                                "last_disconnection": int(secs[last]), "gamma": params.gamma, "s": params.s}})
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
