"""The bundled real data (data/, see each folder's PROVENANCE.md) as detection takes it, with the
outages documented for it, and the evaluation of detection on all of it (`outage-monitor evaluate
--bundled`, benchmarks/bench_evaluate.py).

Entities and datasource names for the Monash data are ours: Bago (a city) has no IODA region id,
so its series is `country/MM` with the datasource `ipo-bago`, which names the place; Venezuela's
13 state indices are averaged into `country/VE`, datasource `ipo-index`. Neither has a preset, so
detection chooses their rules from the series themselves (AUTO).

Documented outages (references): IODA's hand-checked list (data/ioda-outages) for Iran, Venezuela
and Myanmar (country level, so it is what Bago's city series is compared with: the nightly cuts
were nationwide); the Bago curfew nights 01:00-09:00 local from 2021-02-15 to 04-27 as the
Monash PROVENANCE describes them; Kenya's nationwide power blackout of 2016-06-07, reported from
about 11:30 local (08:30 UTC), end not documented (RIPE Atlas PROVENANCE). The IODA BGP and probing
series of Iranian ASNs are not bundled (only the country series were copied), so no ASN is evaluated.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from monitor.detect.evaluate import REFERENCE_COLUMNS, EvaluateParams, evaluate, references_from_events
from monitor.detect.params import DetectParams
from monitor.detect.run import detect_outages
from monitor.frames import PROBE_EVENT_COLUMNS, SIGNAL_COLUMNS
from monitor.replay import DATA_DIR

DATA = DATA_DIR  # the repository's data/ folder
IRAN = DATA / "ioda-iran-2019"
BAGO_OFFSET = pd.Timedelta(hours=6, minutes=30)   # Myanmar, UTC+6:30 (UPSTREAM_README.md)
VENEZUELA_OFFSET = pd.Timedelta(hours=-4)         # Venezuela, UTC-4 (PROVENANCE.md)


def _ioda_csv(path: Path, datasource: str) -> pd.DataFrame:
    raw = pd.read_csv(path)
    return pd.DataFrame({"entity": "country/IR", "datasource": datasource,
                         "time": pd.to_datetime(raw["timestamp"], utc=True),
                         "value": raw["value"].astype("float64")})[SIGNAL_COLUMNS]


def load_iran() -> pd.DataFrame:
    """IODA's country-level active probing (10 min) and BGP (5 min, a 2-day window) for Iran."""
    ap = _ioda_csv(IRAN / "20191123-ioda-iran-countrywide-active-probing.csv", "ping-slash24")
    bgp = _ioda_csv(IRAN / "20191123-ioda-iran-countrywide-bgp_window_2019-11-15T17_2019-11-17T20.csv", "bgp")
    return pd.concat([ap, bgp], ignore_index=True)


def load_kenya_probe_events() -> pd.DataFrame:
    """RIPE Atlas connection log (measurement 7000) of Kenya's probes, 2016-06-01..07."""
    path = DATA / "ripe-atlas-kenya-2016" / "ke_msm7000_2016-06-01_07.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    raw = pd.DataFrame(records)
    return pd.DataFrame({"entity": "country/KE", "probe_id": raw["prb_id"].astype("int64"),
                         "asn": pd.to_numeric(raw["asn"]).astype("Int64"),
                         "time": pd.to_datetime(raw["timestamp"], unit="s", utc=True),
                         "event": raw["event"]})[PROBE_EVENT_COLUMNS]


def load_bago() -> pd.DataFrame:
    """Bago raw pings -> distinct responding addresses per local hour, times in UTC.

    Hours between the first and the last observation without any answer count 0 (the observatory
    kept pinging); outside that span there is no data, so no rows.
    """
    raw = pd.read_csv(DATA / "monash-ip-observatory" / "mmr-2021-04-09_Bago.csv")
    local_hour = pd.to_datetime(raw["time_local_str"]).dt.floor("h")
    counts = raw.groupby(local_hour)["ip_hash"].nunique()
    hours = pd.date_range(counts.index.min(), counts.index.max(), freq="h")
    counts = counts.reindex(hours, fill_value=0).astype("float64")
    times = (hours - BAGO_OFFSET).tz_localize("UTC")
    return pd.DataFrame({"entity": "country/MM", "datasource": "ipo-bago", "time": times,
                         "value": counts.to_numpy()})[SIGNAL_COLUMNS]


def load_venezuela() -> pd.DataFrame:
    """Monash hourly connectivity index for 13 Venezuelan states, averaged, times in UTC."""
    raw = pd.read_csv(DATA / "monash-ip-observatory" / "ven-2019-07-22_gif.csv")
    # time_e is the local wall-clock time written as if it were unix seconds (UPSTREAM_README.md)
    local = pd.to_datetime(raw["time_e"], unit="s")
    index = raw.groupby(local)["connectivity"].mean()
    times = (index.index - VENEZUELA_OFFSET).tz_localize("UTC")
    return pd.DataFrame({"entity": "country/VE", "datasource": "ipo-index", "time": times,
                         "value": index.to_numpy(dtype="float64")})[SIGNAL_COLUMNS]


def ioda_list() -> pd.DataFrame:
    """IODA's hand-checked outage list as shutdown_report events."""
    from monitor.events.ioda_outages import parse_ioda_outages
    path = DATA / "ioda-outages" / "ioda_investigated_outages_cleaned_phase1+2.csv"
    return parse_ioda_outages(path.read_text(encoding="utf-8"), where=str(path)).events


def curfew_nights() -> pd.DataFrame:
    """The Bago curfew cuts as documented: 01:00-09:00 local every night, 2021-02-15 .. 04-27."""
    days = pd.date_range("2021-02-15", "2021-04-27", freq="D")
    starts = (days + pd.Timedelta("1h") - BAGO_OFFSET).tz_localize("UTC")
    return pd.DataFrame({"reference_id": [f"curfew:{d.date()}" for d in days], "entity": "country/MM",
                         "start": starts, "end": starts + pd.Timedelta("8h"), "title": "nightly curfew cut"},
                        columns=REFERENCE_COLUMNS)


def kenya_blackout() -> pd.DataFrame:
    return pd.DataFrame({"reference_id": ["ke-blackout:2016-06-07"], "entity": ["country/KE"],
                         "start": [pd.Timestamp("2016-06-07 08:30", tz="UTC")], "end": [pd.NaT],
                         "title": ["nationwide power blackout"]}, columns=REFERENCE_COLUMNS)


def cases() -> list[dict]:
    """Each bundled real series: name, signals, probe events, references (name -> frame)."""
    listed = references_from_events(ioda_list())
    no_signals = pd.DataFrame(columns=SIGNAL_COLUMNS)
    return [
        {"name": "Iran 2019, country (IODA bgp + active probing)", "signals": load_iran(), "probes": None,
         "references": {"ioda-outages": listed}},
        {"name": "Venezuela 2019, country (Monash index)", "signals": load_venezuela(), "probes": None,
         "references": {"ioda-outages": listed}},
        {"name": "Bago 2021 (Monash pings; nationwide cuts)", "signals": load_bago(), "probes": None,
         "references": {"ioda-outages": listed, "curfew nights": curfew_nights()}},
        {"name": "Kenya 2016, country (RIPE Atlas connection log)", "signals": no_signals,
         "probes": load_kenya_probe_events(), "references": {"documented blackout": kenya_blackout()}},
    ]


def _coverage(signals: pd.DataFrame, probes: pd.DataFrame | None) -> pd.DataFrame:
    frames = [signals[["entity", "time"]]] + ([probes[["entity", "time"]]] if probes is not None else [])
    both = pd.concat([f for f in frames if not f.empty])
    return both.groupby("entity")["time"].agg(first="min", last="max").reset_index()


def evaluate_bundled(params: DetectParams = DetectParams(),
                     evaluate_params: EvaluateParams = EvaluateParams()) -> pd.DataFrame:
    """One row per bundled series and reference: recall, precision, median |start| and |end| error
    (minutes), counts. Detection runs on the series alone, as a user would run it."""
    rows = []
    for case in cases():
        outages = detect_outages(case["signals"], case["probes"], params)
        coverage = _coverage(case["signals"], case["probes"])
        for ref_name, reference in case["references"].items():
            reference = reference[reference["entity"].isin(set(coverage["entity"]))]
            _, s = evaluate(outages, reference, coverage, evaluate_params)
            rows.append({"series": case["name"], "reference": ref_name, "references": s["references"],
                         "matched": s["matched"], "detected": s["detected"], "false_alarms": s["false_alarms"],
                         "recall": s["recall"], "precision": s["precision"],
                         "start_error_min": s["median_abs_start_error_minutes"],
                         "end_error_min": s["median_abs_end_error_minutes"]})
    return pd.DataFrame(rows)


def quiet_false_outages(seed: int = 1, entities: int = 50, days: int = 60,
                        params: DetectParams = DetectParams()) -> dict:
    """False outages per entity-month on realistic quiet series (monitor.detect.synthetic)."""
    from monitor.detect.synthetic import quiet_store
    signals = quiet_store(seed, entities, days)
    outages = detect_outages(signals, params=params)
    months = signals["entity"].nunique() * days / 30.44
    by_datasource = outages["datasources"].map("+".join).value_counts().to_dict() if len(outages) else {}
    return {"entities": int(signals["entity"].nunique()), "days": days, "entity_months": months,
            "false_outages": int(len(outages)), "per_entity_month": len(outages) / months,
            "by_datasource": by_datasource}
