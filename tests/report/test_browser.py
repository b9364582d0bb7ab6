"""The incident report opens in a real browser (headless Chromium, no network) without a single
console message, and a screenshot shows the chart.

Done-means of issue 7: Iran 2019 signals + the starter calendar -> detect -> correlate ->
`outage-monitor report incident` -> one HTML file that states the outage start in UTC and Tehran
time and lists the coinciding protest. Chromium comes from `apt-get install chromium`; without it
these tests are skipped, except in CI, where they fail.
"""

import json
import os
import re
import shutil
import subprocess
import uuid

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from monitor.cli import main
from monitor.correlate import CorrelateParams, run_correlation
from monitor.detect.run import run_detection
from monitor.events.importer import import_events

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Headless, no GPU, no background traffic, a fresh profile; every host name fails to resolve and
# every connection goes to a closed local port, so nothing can be fetched even by mistake.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
         "--enable-logging=stderr", "--v=0"]


@pytest.fixture(autouse=True)
def _need_chromium():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (apt-get install -y chromium)")
        pytest.skip("chromium not installed (apt-get install -y chromium)")


def chromium(tmp_path, page, *extra) -> tuple[str, list[str]]:
    """Open `page` (a file path); returns (stdout, console messages logged while it loaded)."""
    profile = tmp_path / f"profile-{uuid.uuid4().hex[:8]}"
    proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture
def iran_report(sqlite_store, iran, data_dir, tmp_path):
    """The whole pipeline on real data, then the CLI writes the report."""
    sqlite_store.write_signals(iran.signals(data_dir))
    import_events(sqlite_store, str(data_dir / "events" / "starter.csv"))
    outages = run_detection(sqlite_store)
    assert len(outages) == 1
    # The starter calendar has the protests over the local days 15-18 November; the shutdown began
    # during them. A custom window is used so the test can check the report lists the parameters.
    run_correlation(sqlite_store, params=CorrelateParams(windows={"protest": {"after": "1D"}}))
    out = tmp_path / "iran.html"
    url = f"sqlite:///{tmp_path}/monitor.db"
    assert main(["--db", url, "report", "incident", "--entity", "country/IR", "--at", "2019-11-18T00:00Z",
                 "--out", str(out)]) == 0
    return out, outages.iloc[0]


def test_incident_report_opens_offline_without_console_messages_and_states_the_facts(iran_report, tmp_path):
    path, outage = iran_report
    dom, console = chromium(tmp_path, path, "--dump-dom")
    assert console == []
    start = outage["start"]
    text = " ".join(re.sub(r"<[^>]+>", " ", dom).split())   # the visible text
    assert f"{start:%Y-%m-%dT%H:%M}Z" in text
    assert f"{start.tz_convert('Asia/Tehran'):%Y-%m-%d %H:%M} Asia/Tehran (UTC+03:30)" in text
    events = text[text.index("Events"):text.index("The numbers behind")]
    assert "Nationwide protests against the petrol price rise" in events and " during " in events
    assert "windows.protest.after 1D" in text


def test_screenshot_shows_the_chart(iran_report, tmp_path):
    path, _ = iran_report
    shot = tmp_path / "iran.png"
    _, console = chromium(tmp_path, path, f"--screenshot={shot}", "--window-size=1280,2000",
                          "--hide-scrollbars")
    assert console == []
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1280)
    ioda_blue = np.abs(pixels - np.array([0x1F, 0x78, 0xB4]) / 255).max(axis=2) < 0.06
    assert ioda_blue.sum() > 100          # the active-probing line (mostly under the outage shade): the chart was drawn


def test_hostile_calendar_entry_stays_inert_in_the_browser(sqlite_store, iran, data_dir, tmp_path):
    hostile = iran.event_row("evil", "<script>console.log('pwned')</script><img src=x onerror=console.log(2)>",
                             "2019-11-15T00:00Z", "2019-11-16T00:00Z", url="javascript:console.log(3)")
    iran.fill(sqlite_store, data_dir, events=[hostile])
    out = tmp_path / "evil.html"
    assert main(["--db", f"sqlite:///{tmp_path}/monitor.db", "report", "incident", "--outage-id",
                 iran.OUTAGE_ID, "--out", str(out)]) == 0
    dom, console = chromium(tmp_path, out, "--dump-dom")
    assert console == []
    assert "<script>console.log('pwned')</script>" in " ".join(dom.split()).replace("&lt;", "<").replace("&gt;", ">")


def test_the_console_check_can_fail(tmp_path):
    page = tmp_path / "noisy.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>console.error('boom')</script>")
    _, console = chromium(tmp_path, page, "--dump-dom")
    assert any("boom" in line for line in console)


def _measure(tmp_path, page) -> dict:
    """Layout figures of `page` as the browser lays it out: a copy without the report's script ban
    gets one line of script that writes them into the DOM."""
    probe = tmp_path / f"probe-{page.name}"
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text(encoding="utf-8"))
    script = ("<script>const r = document.documentElement; document.body.setAttribute('data-layout', "
              "JSON.stringify({width: r.scrollWidth, view: window.innerWidth, "
              "imgs: document.images.length, boxes: document.querySelectorAll('.nodata').length}));</script>")
    probe.write_text(html.replace("</body>", script + "</body>"), encoding="utf-8")
    dom, console = chromium(tmp_path, probe, "--dump-dom", "--window-size=1280,900")
    assert console == []
    found = re.search(r"data-layout=\"([^\"]+)\"", dom)
    return json.loads(found.group(1).replace("&quot;", '"'))


def test_a_report_without_measurement_shows_one_box_no_chart_and_fits_the_page(sqlite_store, iran, tmp_path):
    """The Tajikistan screenshot: an empty 0-100 % chart and nothing saying how to get the data."""
    speech = iran.event_row("tj-kabiri", "Kabiri speaks online " + "W" * 120_000, "2020-09-15T19:00Z",
                            "2020-09-16T19:00Z", kind="opposition_event", country="TJ")
    cut = iran.event_row("tj-outage", "Internet outage in Tajikistan (reported)", "2020-09-16T14:40Z",
                         "2020-09-16T15:40Z", kind="shutdown_report", country="TJ")
    sqlite_store.write_events(pd.DataFrame([speech, cut]))
    run_correlation(sqlite_store, "starter", countries=["TJ"])
    out = tmp_path / "tj.html"
    assert main(["--db", f"sqlite:///{tmp_path}/monitor.db", "report", "incident", "--entity", "country/TJ",
                 "--at", "2020-09-16T15:00Z", "--out", str(out)]) == 0
    layout = _measure(tmp_path, out)
    assert layout["imgs"] == 0 and layout["boxes"] == 1
    assert layout["width"] <= layout["view"]       # a 120,000-character word does not widen the page
    dom, _ = chromium(tmp_path, out, "--dump-dom")
    text = " ".join(re.sub(r"<[^>]+>", " ", dom).split())
    assert "outage-monitor collect ioda --entity country/TJ --from 2020-09-15T14:40Z --until 2020-09-17T15:40Z" in text


def test_the_incident_report_fits_the_page_and_names_every_event_in_a_table(iran_report, tmp_path):
    path, _ = iran_report
    layout = _measure(tmp_path, path)
    assert layout["imgs"] == 1 and layout["boxes"] == 0 and layout["width"] <= layout["view"]
    evidence = json.loads(path.with_name("iran-html.evidence.json").read_text())
    dom, _ = chromium(tmp_path, path, "--dump-dom")
    for event in evidence["events"]:   # the chart shows numbers and shortened titles; the table the titles
        assert event["title_text"] in " ".join(dom.split())
