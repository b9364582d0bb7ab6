"""Notebooks 01 and 02 state their conclusions from computed values; executed here, what they print is
checked against the data computed independently (nbmake only checks that they run)."""

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
from nbclient import NotebookClient

from monitor import find_outages, load_events, open_store
from monitor.correlate import correlate
from monitor.events.importer import import_events

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


def printed(name: str) -> tuple[str, str]:
    """What the notebook's cells print, after running it as a reader would (from notebooks/), and
    its prose (markdown cells), which must state no measured share or count: those are printed."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    out = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                  for o in c.get("outputs", []) if o.get("name") == "stdout")
    prose = "\n".join("".join(c.source) for c in nb.cells if c.cell_type == "markdown")
    assert not re.search(r"\d\s?%|\b\d+ (coincidences?|outages?|disconnections)\b", prose), name
    return out, prose


def _iran_signals() -> pd.DataFrame:
    folder = DATA / "ioda-iran-2019"
    frames = []
    for file, name in (("20191123-ioda-iran-countrywide-active-probing.csv", "ping-slash24"),
                       ("20191123-ioda-iran-countrywide-bgp_window_2019-11-15T17_2019-11-17T20.csv", "bgp")):
        raw = pd.read_csv(folder / file)
        frames.append(pd.DataFrame({"entity": "country/IR", "datasource": name,
                                    "time": pd.to_datetime(raw["timestamp"], utc=True),
                                    "value": pd.to_numeric(raw["value"], errors="coerce")}))
    return pd.concat(frames, ignore_index=True)


def test_notebook_02_says_what_the_correlator_and_detector_found(tmp_path):
    out, prose = printed("02-iran-2019.ipynb")
    outages = find_outages(_iran_signals())
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    import_events(store, str(DATA / "events" / "starter.csv"), name="starter")
    coincidences, summary = correlate(outages, load_events(store, country="IR"))
    store.close()
    assert f"{len(coincidences)} coincidence(s)" in out
    lines = [line for line in out.splitlines() if line.startswith("Coincidence:")]
    assert len(lines) == len(coincidences)
    if coincidences.empty:
        assert "No coincidence" in out
    else:
        assert "No coincidence" not in out + prose
        for c, line in zip(coincidences.itertuples(), lines):
            assert f"began {c.relation} '{c.event_title}'" in line
    tests = [line for line in out.splitlines() if line.startswith("Test (")]
    assert len(tests) == len(summary)
    for row, line in zip(summary.itertuples(), tests):
        assert line.startswith(f"Test ({row.country}, {row.kind}, {row.relation}): {row.n_episodes} episode(s)")
        assert f": {row.verdict}." in line
    for name, seen in outages.iloc[0]["detail"]["datasources"].items():
        assert f"{name}: from {seen['start']} to {seen['end']}" in out
        assert f"depth {seen['depth']:.0%}" in out


def test_notebook_01_names_the_busiest_hours_of_the_raw_log():
    out, _ = printed("01-explore-a-country.ipynb")
    log = [json.loads(line) for line in (DATA / "ripe-atlas-kenya-2016" / "ke_msm7000_2016-06-01_07.jsonl")
           .read_text().splitlines() if line.strip()]
    raw = pd.DataFrame(log)
    raw = raw[raw["event"] == "disconnect"]
    hours = pd.to_datetime(raw["timestamp"], unit="s", utc=True).dt.floor("1h")
    busiest = hours.value_counts().sort_values(ascending=False)
    stated = {pd.Timestamp(t, tz="UTC"): int(n)
              for t, n in re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d) UTC: (\d+) disconnections", out, flags=re.M)}
    assert len(stated) == 3
    assert max(stated.values()) == busiest.iloc[0]
    for hour, n in stated.items():
        assert busiest[hour] == n
    assert min(stated.values()) >= busiest.iloc[2]          # these are the three busiest
