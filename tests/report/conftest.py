"""A store holding IODA's real Iran November 2019 series, the outage in it, the fuel-price protests
and one correlation run, written directly with the store API (no detector or correlator needed)."""

import pandas as pd
import pytest

from monitor.frames import COINCIDENCE_COLUMNS

AP = "ioda-iran-2019/20191123-ioda-iran-countrywide-active-probing.csv"
BGP = "ioda-iran-2019/20191123-ioda-iran-countrywide-bgp_window_2019-11-15T17_2019-11-17T20.csv"
T = pd.Timestamp
OUTAGE_ID = "detected:country/IR:1573921200"
START, END = T("2019-11-16T16:20Z"), T("2019-11-23T11:00Z")


def iran_signals(data_dir) -> pd.DataFrame:
    frames = []
    for path, name in ((AP, "ping-slash24"), (BGP, "bgp")):
        raw = pd.read_csv(data_dir / path)
        frames.append(pd.DataFrame({"entity": "country/IR", "datasource": name,
                                    "time": pd.to_datetime(raw["timestamp"], utc=True),
                                    "value": raw["value"].astype(float)}))
    return pd.concat(frames, ignore_index=True)


def outage_row(**changes) -> dict:
    row = {"outage_id": OUTAGE_ID, "source": "detected", "entity": "country/IR", "country": "IR",
           "start": START, "end": END, "datasources": ["ping-slash24", "bgp"], "depth": 0.93, "score": 5120.0,
           "method": "median-ratio",
           "detail": {"datasources": {"ping-slash24": {"depth": 0.951}, "bgp": {"depth": 0.437}}}}
    return {**row, **changes}


def event_row(uid, title, start, end, kind="protest", url="https://example.org/protests", country="IR",
              description="Protests after the fuel price rise.") -> dict:
    return {"uid": uid, "source": "starter", "kind": kind, "country": country, "region": None, "start": T(start),
            "end": T(end), "all_day": True, "title": title, "url": url, "description": description, "raw": "{}"}


PROTEST = event_row("ir-2019-fuel", "Fuel price protests begin across Iran", "2019-11-14T20:30Z",
                    "2019-11-17T20:30Z")
LATER = event_row("ir-2019-later", "Unrelated later event", "2019-11-20T10:00Z", "2019-11-20T12:00Z", kind="other")


def coincidence(event: dict, outage: dict | None = None, relation="during") -> dict:
    o = outage or outage_row()
    row = {"outage_id": o["outage_id"], "entity": o["entity"], "outage_start": o["start"], "outage_end": o["end"],
           "event_source": event["source"], "event_uid": event["uid"], "event_title": event["title"],
           "event_kind": event["kind"], "event_start": event["start"], "country": event["country"],
           "relation": relation, "offset_minutes": (o["start"] - event["start"]).total_seconds() / 60}
    return {c: row[c] for c in COINCIDENCE_COLUMNS}


def _summary(relation, observed, expected, p, verdict, note, low=None, high=None, fragile=False,
             n_episodes=12, n_events=9) -> dict:
    """One IR protest row in the correlator's schema (monitor.correlate.SUMMARY_COLUMNS)."""
    return {"country": "IR", "kind": "protest", "relation": relation, "window": "12h" if relation == "after" else "",
            "n_outages": n_episodes + 2, "n_episodes": n_episodes, "n_events": n_events, "observed": observed,
            "expected": expected, "excess": observed - expected, "ci_low": low, "ci_high": high,
            "ci_level": 0.967 if p is not None else None, "rate_ratio": observed / expected, "p_value": p,
            "p_adjusted": p, "tests": 2, "shifts": 30, "shift_unit": "1D", "verdict": verdict,
            "verdict_half": verdict, "verdict_double": "not significant" if fragile else verdict,
            "fragile": fragile, "chance": None, "note": note}


SUMMARY = [
    _summary("during", 5, 0.8, 0.033, "significant", "during: 5 of 12 episodes overlapped an event of kind "
             "protest; 0.8 expected with the calendar shifted (30 shifts by 1D)", low=2, high=5),
    _summary("before", 4, 0.7, 0.033, "significant", "before: 4 of 12 episodes began within 2h before an event "
             "of kind protest (pre-emptive); fragile", low=1, high=4, fragile=True),
    _summary("after", 1, 0.9, None, "insufficient data", "after: too few to test: 2 episode(s)", n_episodes=2),
]


def fill(store, data_dir, events=(PROTEST, LATER), correlate=True, outages=None) -> None:
    """Write the Iran signals, outages, events and (optionally) one correlation run."""
    store.write_signals(iran_signals(data_dir))
    store.write_outages(pd.DataFrame(outages or [outage_row()]))
    store.write_events(pd.DataFrame(list(events)))
    if correlate:
        flagged = [e for e in events if e["kind"] == "protest"]
        store.write_correlation({"permutations": 1000, "seed": 20200916, "windows": {"protest": ["2h", "12h"]},
                                 "outages": "detected", "countries": None,
                                 "span": ["2019-11-01T00:00:00Z", "2019-12-01T00:00:00Z"]},
                                pd.DataFrame([coincidence(e) for e in flagged], columns=COINCIDENCE_COLUMNS),
                                pd.DataFrame(SUMMARY))


class Iran:
    """The helpers above, handed to tests as the `iran` fixture (works in any pytest import mode)."""

    T, OUTAGE_ID, START, END, PROTEST, LATER, SUMMARY = T, OUTAGE_ID, START, END, PROTEST, LATER, SUMMARY
    signals = staticmethod(iran_signals)
    outage_row = staticmethod(outage_row)
    event_row = staticmethod(event_row)
    coincidence = staticmethod(coincidence)
    fill = staticmethod(fill)


@pytest.fixture
def iran():
    return Iran


@pytest.fixture
def iran_store(sqlite_store, data_dir):
    fill(sqlite_store, data_dir)
    return sqlite_store
