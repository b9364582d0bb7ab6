"""monitor.text: the rules for text reaching a terminal, a spreadsheet, the store or a log."""

from __future__ import annotations

import base64
import json
import logging
import unicodedata
from urllib.parse import quote, quote_plus

import pytest

from monitor import text
from monitor.text import (MIN_SECRET_RUN, LogSanitiser, NestingError, csv_cell, json_depth, json_text, load_json,
                          mask_secrets, one_line, printable, shorten, storable)

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m\x00\x9b\u202eevil\u2066\ufeff"
SECRET = "RIPEKEYMARKER-7f3a9c2e"


@pytest.fixture(autouse=True)
def no_remembered_secrets():
    """Each test sees only the secrets it passes (the registry is process-wide)."""
    saved = set(text._remembered)
    text._remembered.clear()
    yield
    text._remembered.clear()
    text._remembered.update(saved)


def controls(s: str) -> list[str]:
    """Characters a terminal acts on (controls, bidi and other format characters), tab and \\n aside."""
    return [c for c in s if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf")
            and c not in "\u200c\u200d"]


def test_printable_replaces_what_drives_a_terminal():
    shown = printable(HOSTILE)
    assert not controls(shown)
    assert "owned" in shown and "red" in shown and "evil" in shown  # the text stays readable
    assert printable("a\nb\r\nc\td") == "a b  c d"
    assert printable("a\r\nb\rc\td", keep_lines=True) == "a\nb\nc\td"  # no bare CR: it would overwrite a line


def test_printable_keeps_scripts_and_joiners():
    persian = "انتخابات\u200cمجلس"  # ZWNJ is part of Persian spelling
    assert printable(persian) == persian
    assert printable("日本語 ✓ é") == "日本語 ✓ é"


def test_one_line_collapses_and_shortens():
    assert one_line("a\n\n b\x1b[2J", 100) == "a b\ufffd[2J"
    assert one_line("x" * 300, 20) == "x" * 17 + "..."
    assert shorten("abc", 3) == "abc" and shorten("abcd", 3) == "..."


def test_json_text_is_the_same_data_and_inert():
    doc = {"title": HOSTILE + "日本", "n": 1}
    out = json_text(doc)
    assert json.loads(out) == doc
    assert not controls(out)
    assert "日本" in out


def test_storable_cleans_what_a_store_refuses():
    assert storable("a\x00b\x1bc\ud800d\ttab\nline") == "a\ufffdb\ufffdc\ufffdd\ttab\nline"
    assert storable("plain") == "plain" and storable(None) is None and storable(3) == 3
    assert storable("\u202e bidi is data") == "\u202e bidi is data"  # escaped on output, not changed in store
    storable("x\ud800").encode("utf-8")  # PostgreSQL needs valid UTF-8


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\",\"y\")", "@SUM(1)", "+1+1", "-1+cmd|' /C calc'!A0",
                                  "\t=1", "\r=1", "  =1", "\uff1d1"])
def test_csv_cell_neutralises_formulas(cell):
    assert csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["plain", "a=b", "", 3, -1.5, None, "2019-11-16T00:00:00Z"])
def test_csv_cell_leaves_other_values(cell):
    assert csv_cell(cell) == cell


def leaked(shown: str, secret: str) -> list[str]:
    """Runs of MIN_SECRET_RUN characters of any form of `secret` found in `shown`."""
    forms = [secret, quote_plus(secret), quote(secret, safe=""), base64.b64encode(secret.encode()).decode()]
    return [f[i:i + MIN_SECRET_RUN] for f in forms for i in range(len(f) - MIN_SECRET_RUN + 1)
            if f[i:i + MIN_SECRET_RUN] in shown]


@pytest.mark.parametrize("secret", [SECRET, "p@ss w0rd&=/+ü-2x9Q7", "cf-Tok3n_AbCdEfGhIjKlMnOp"])
def test_mask_then_cut_leaves_nothing_of_a_secret_at_any_offset(secret):
    """A server echoing the secret (as sent, URL-encoded or base64) after `offset` characters,
    and the text then cut at `cut`: no run of 8 characters of it survives, wherever it lands."""
    for form in {secret, quote_plus(secret), base64.b64encode(secret.encode()).decode()}:
        for offset in range(0, 230, 3):
            body = "x" * offset + f"Authorization: Key {form} more text"
            for cut in (150, 200, 210):
                assert not leaked(shorten(mask_secrets(body, [f"Key {secret}"]), cut), secret), (form, offset, cut)


def test_mask_catches_a_secret_already_cut_at_either_end():
    """Defence in depth: text cut before masking (another code path) still loses every 8-run."""
    for start in range(0, len(SECRET) - MIN_SECRET_RUN + 1):
        for end in range(start + MIN_SECRET_RUN, len(SECRET) + 1):
            shown = mask_secrets("prefix " + SECRET[start:end] + " suffix", [SECRET])
            assert not leaked(shown, SECRET) and shown.startswith("prefix ") and shown.endswith(" suffix")


def test_mask_uses_remembered_secrets_and_ignores_short_values():
    text.remember_secret(SECRET)
    text.remember_secret("abc")
    assert mask_secrets(f"echo {SECRET[2:]}") == "echo ***"
    assert mask_secrets("abc def") == "abc def"
    assert mask_secrets("no secret here") == "no secret here"


def test_log_sanitiser_cleans_any_record():
    text.remember_secret(SECRET)
    record = logging.LogRecord("matplotlib.font_manager", logging.WARNING, __file__, 1,
                               "Glyph %d (%r) missing: %s", (27, "\x1b", HOSTILE + SECRET), None)
    assert LogSanitiser().filter(record)
    shown = logging.Formatter("%(message)s").format(record)
    assert not controls(shown) and SECRET[:MIN_SECRET_RUN] not in shown and "\n" not in shown
    try:
        raise ValueError("bad\x1b[2J" + SECRET)
    except ValueError:
        import sys
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    LogSanitiser().filter(record)
    shown = logging.Formatter("%(message)s").format(record)
    assert "Traceback" in shown and not controls(shown) and SECRET[:MIN_SECRET_RUN] not in shown


@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}"), ('[{"a":', "}]")])
@pytest.mark.parametrize("depth", [text.MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_load_json_refuses_deep_nesting(opener, closer, depth):
    with pytest.raises(NestingError, match=f"nested more than {text.MAX_JSON_DEPTH} levels"):
        load_json(opener * depth + "1" + closer * depth)


def test_load_json_takes_ordinary_documents():
    doc = {"data": [[{"values": [1, 2, None]}]], "x": "y"}
    assert load_json(json.dumps(doc)) == doc
    assert json_depth(doc) == 5 and json_depth(3) == 0  # dict, list, list, dict, list
    assert load_json("[" * 64 + "]" * 64) is not None
    with pytest.raises(ValueError):
        load_json("[1,")
