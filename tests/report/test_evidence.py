"""Every report the demo and the README's report commands write states only figures of its evidence
file: each number in the HTML and Markdown is one of the evidence's (as shown there), so the text can
never say something the evidence file does not hold."""

import html as htmllib
import json
import re
import shlex
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.demo import run_demo
from monitor.report.evidence import SCHEMA, numbers

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TOP_KEYS = {"schema", "kind", "title", "summary", "files", "parameters", "methods"}


def readme_commands(section: str, verb: str) -> list[list[str]]:
    """The `outage-monitor VERB ...` lines of a README section's code blocks, as argument lists."""
    body = README[README.index(f"## {section}"):]
    body = body[:body.index("\n## ", 4)]
    lines = [line.split("  #")[0].strip() for block in re.findall(r"```sh\n(.*?)```", body, flags=re.S)
             for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith(f"outage-monitor {verb} ")]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """The demo's reports, then every report command of the README's "Plots and reports" (after the
    README's imports and correlation runs those reports rest on), written into one folder."""
    out = tmp_path_factory.mktemp("reports")
    db = f"sqlite:///{out / 'demo.db'}"
    run_demo(db, out / "demo", explicit=True)
    setup = [["events", "import", str(ROOT / "data/events/exams.csv")],
             ["events", "import", str(ROOT / "data/ioda-outages/ioda_investigated_outages_cleaned_phase1+2.csv"),
              "--format", "ioda-outages", "--skip-bad"]]
    setup += [args for args in readme_commands("Correlate outages with events", "correlate")]
    for args in setup:
        assert main(["--db", db, "-q", *args]) == 0, args
    written = readme_commands("Plots and reports", "report")
    assert len(written) >= 5
    for args in written:
        i = args.index("--out")
        args[i + 1] = str(out / args[i + 1])
        assert main(["--db", db, *args]) == 0, args
    return out


def _pages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".html", ".md"))


def visible(page: Path) -> str:
    """What a reader sees: HTML without tags, style and data URIs (image alt text kept); Markdown as is."""
    text = page.read_text(encoding="utf-8")
    if page.suffix == ".md":
        return text
    text = re.sub(r"<style.*?</style>", " ", text, flags=re.S)
    text = re.sub(r"<meta[^>]*>", " ", text)
    alts = " ".join(re.findall(r'alt="([^"]*)"', text))
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", text) + " " + alts)


def evidence_of(page: Path) -> dict:
    return json.loads(page.with_name(f"{page.stem}-{page.suffix[1:]}.evidence.json").read_text(encoding="utf-8"))


def test_every_figure_of_every_report_is_in_its_evidence_file(reports):
    pages = _pages(reports)
    assert len(pages) >= 9
    for page in pages:
        evidence = evidence_of(page)
        assert evidence["schema"] == SCHEMA and TOP_KEYS <= set(evidence)
        shown = numbers(visible(page))
        assert len(shown) > 20, page.name        # the check has figures to check
        held = numbers(json.dumps(evidence, ensure_ascii=False))
        assert shown - held == set(), page.name


def test_the_figure_check_catches_a_figure_the_evidence_lacks(reports, tmp_path):
    page = next(p for p in _pages(reports) if p.name == "iran.html")
    edited = tmp_path / page.name
    edited.write_text(page.read_text(encoding="utf-8").replace("In short</h2>", "In short</h2><p>41,312 dead</p>"))
    (tmp_path / f"{page.stem}-html.evidence.json").write_text(json.dumps(evidence_of(page)))
    assert numbers(visible(edited)) - numbers(json.dumps(evidence_of(edited))) == {"41,312"}


def test_the_tajikistan_report_says_it_has_no_measurement_and_how_to_get_it(reports):
    page = reports / "tajikistan.html"
    text = " ".join(visible(page).split())
    evidence = evidence_of(page)
    assert "<img" not in page.read_text() and "chart" not in evidence["files"]
    assert text.count("No measurement.") == 1
    command = evidence["no_data"]["command"]
    assert command == "outage-monitor collect ioda --entity country/TJ --from 2020-09-15T14:40Z --until 2020-09-17T15:40Z"
    assert command in text
    chance = evidence["chance"]
    assert [c["kind"] for c in chance] == ["opposition_event"] and 0 < chance[0]["share"] < 1
    assert chance[0]["share_text"] in text and "not a p-value" in text
    assert len(evidence["summary"]) in (2, 3, 4) and evidence["summary"][0] in text


def test_kenya_report_is_honest_about_what_ripe_atlas_measures(reports):
    page = next(p for p in (reports / "demo").glob("incident-country-KE-*.html"))
    text = " ".join(visible(page).split())
    evidence = evidence_of(page)
    assert "No ripe-atlas signal" not in text and evidence["methods"]["absent"] == []
    units = {s["datasource"]: s["unit"] for s in evidence["signals"]}
    assert units == {"atlas-connected": "probes connected", "atlas-disconnects": "disconnections per bin"}
    assert [d["name"] for d in evidence["detector_depths"]] == ["ripe-atlas"]
    assert "not the whole country's internet" in evidence["summary"][0]


def test_html_and_markdown_digests_of_one_name_keep_their_own_files(reports):
    html, md = evidence_of(reports / "digest.html"), evidence_of(reports / "digest.md")
    assert not set(html["files"].values()) & set(md["files"].values())
    for files in (html["files"], md["files"]):
        assert all((reports / name).exists() for name in files.values())
