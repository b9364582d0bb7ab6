"""Feed text is data, never markup: a hostile calendar entry cannot inject script, a link or
formatting into a report, in HTML or in Markdown."""

import json
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from monitor.report import ReportParams, find_outage, load_digest, load_incident, render_digest, render_incident
from monitor.report.render import md_escape, md_link, safe_url

SCRIPT = "<script>alert(1)</script>"
HOSTILE_URLS = ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "java\nscript:alert(1)", "data:text/html,<b>x</b>",
                "vbscript:msgbox(1)", "//evil.example/x", "http:/no-host", "https://ok.example/a b",
                'https://ok.example/"onmouseover="alert(1)']


class _Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.fixture
def hostile_store(sqlite_store, iran, data_dir):
    hostile = iran.event_row("evil", SCRIPT, "2019-11-15T00:00Z", "2019-11-16T00:00Z", url="javascript:alert(1)",
                             description='<img src=x onerror="alert(2)">')
    others = [iran.event_row(f"u{i}", f"event {i} [x](javascript:alert(3)) *b* | {SCRIPT}", "2019-11-20T00:00Z",
                             "2019-11-20T01:00Z", kind="other", url=url) for i, url in enumerate(HOSTILE_URLS)]
    iran.fill(sqlite_store, data_dir, events=[hostile, *others])   # the hostile event is the flagged one
    return sqlite_store


def _incident(store, fmt):
    outage = find_outage(store, outage_id="detected:country/IR:1573921200")
    return render_incident(load_incident(store, outage, ReportParams()), ReportParams(), fmt, "x").text


def _digest(store, fmt):
    data = load_digest(store, pd.Timestamp("2019-11-01T00:00Z"), pd.Timestamp("2019-12-01T00:00Z"), ["IR"])
    return render_digest(data, ReportParams(), fmt, "d").text


@pytest.mark.parametrize("render", [_incident, _digest])
def test_html_has_no_active_content_from_the_feed(hostile_store, render):
    html = render(hostile_store, "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html            # shown, as text
    assert SCRIPT not in html and "<img src=x" not in html
    tags = _Tags()
    tags.feed(html)
    assert "script" not in {t for t, _ in tags.tags}
    for tag, attrs in tags.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if "href" in attrs:
            assert re.match(r"^(https?://[^\s\"]+|data:text/csv;base64,)", attrs["href"]), attrs["href"]
        if tag == "img":
            assert attrs["src"].startswith("data:image/")
    assert "javascript:" not in " ".join(a.get("href", "") for _, a in tags.tags).lower()
    csp = [a["content"] for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]


def test_hostile_url_is_shown_as_plain_text_not_a_link(hostile_store):
    html = _incident(hostile_store, "html")
    row = re.search(r"<td class=\"t\">(&lt;script.*?)</td>", html).group(1)
    assert "<a " not in row and "(link not shown: javascript:alert(1))" in row


def test_markdown_has_no_raw_html_links_or_formatting_from_the_feed(hostile_store):
    for md in (_incident(hostile_store, "md"), _digest(hostile_store, "md")):
        assert not re.search(r"(?<!\\)<(script|img)", md)       # `\<` is a literal `<` in Markdown
        links = re.findall(r"(?<!\\)\]\(<?([^)>]*)>?\)", md)
        assert links and all(re.match(r"^(https?://|[\w.-]+\.png$)", u) for u in links), links
    assert "\\<script\\>alert(1)\\</script\\>" in _incident(hostile_store, "md")


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_safe_url_refuses_everything_but_absolute_http(url):
    assert safe_url(url) is None


def test_safe_url_and_markdown_helpers_keep_good_links():
    assert safe_url(" https://ok.example/a?b=1#c ") == "https://ok.example/a?b=1#c"
    assert safe_url(None) is None and safe_url(float("nan")) is None
    assert md_link("a [b]", "https://ok.example/(x)") == "[a \\[b\\]](<https://ok.example/%28x%29>)"
    assert md_link("t", "javascript:alert(1)") == "t (javascript:alert(1))"
    assert md_escape("a\n# b | *c* & <d>") == "a \\# b \\| \\*c\\* &amp; \\<d\\>"


CONTROL = "Rally\x00 at\x1b]0;pwned\x07 the \u202etxt.exe\u202c square\x9b"
LONG = "A very long title " + "word " * 30_000


@pytest.fixture
def noisy_store(sqlite_store, iran, data_dir):
    """A flagged event whose title carries NUL, an escape sequence, bidi overrides and 150,000 characters."""
    noisy = iran.event_row("noisy", CONTROL + " " + LONG, "2019-11-15T00:00Z", "2019-11-16T00:00Z")
    iran.fill(sqlite_store, data_dir, events=[noisy])
    return sqlite_store


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_control_characters_never_reach_a_report_raw_and_long_titles_are_shortened(noisy_store, fmt):
    outage = find_outage(noisy_store, outage_id="detected:country/IR:1573921200")
    rendered = render_incident(load_incident(noisy_store, outage, ReportParams()), ReportParams(), fmt, "x")
    digest = render_digest(load_digest(noisy_store, pd.Timestamp("2019-11-01T00:00Z"),
                                       pd.Timestamp("2019-12-01T00:00Z"), ["IR"]), ReportParams(), fmt, "d")
    for text in (rendered.text, digest.text):
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
        assert "Rally\ufffd at\ufffd" in text and "the \ufffdtxt.exe" in text   # shown, as a visible mark
        assert "word " * 40 not in text                  # shortened in the report...
    evidence = json.loads(rendered.attachments[f"x-{fmt}.evidence.json"])
    event = next(e for e in evidence["events"] if e["coinciding"])
    assert event["title"].endswith("word") and len(event["title"]) > 150_000   # ...whole in the evidence
    assert event["title_text"].endswith("…") and len(event["title_text"]) <= 160


def test_report_csvs_neutralise_spreadsheet_formulas(sqlite_store, iran, data_dir):
    """A digest's CSV is what a journalist opens in a spreadsheet: a title that starts a formula stays text."""
    formula = iran.event_row("f", '=HYPERLINK("http://evil.example","click")', "2019-11-15T00:00Z",
                             "2019-11-16T00:00Z")
    iran.fill(sqlite_store, data_dir, events=[formula])
    data = load_digest(sqlite_store, pd.Timestamp("2019-11-01T00:00Z"), pd.Timestamp("2019-12-01T00:00Z"), ["IR"])
    rendered = render_digest(data, ReportParams(), "html", "d")
    csv = pd.read_csv(pd.io.common.StringIO(rendered.attachments["d-html.csv"].decode()))
    assert csv["events"].str.startswith("'=HYPERLINK").any()
    assert not csv["events"].str.startswith("=").any()
