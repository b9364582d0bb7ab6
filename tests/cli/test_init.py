"""monitor/cli/__init__.py: what reaches a terminal from the command line's own machinery."""

from __future__ import annotations

import io
import sys
import unicodedata

from monitor.cli import main

ESCAPES = "\x1b]0;owned\x07\x1b[2J\u202e"


def _acted_on(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf")]


class _FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stdout_on_a_terminal_is_cleaned_whatever_a_command_prints(tmp_path, monkeypatch):
    """`events import` prints the file name it read: a name holding escapes must not act on a terminal."""
    feed = tmp_path / f"evil{ESCAPES}.csv"
    feed.write_text("uid,country,start,end,kind,title,url\nu1,IR,2019-11-16,2019-11-16,protest,t,\n", encoding="utf-8")
    screen = _FakeTerminal()
    monkeypatch.setattr(sys, "stdout", screen)
    assert main(["--db", f"sqlite:///{tmp_path}/t.db", "events", "import", str(feed), "--name", "evil"]) == 0
    assert sys.stdout is screen, "stdout is given back after the command"
    assert "evil" in screen.getvalue() and not _acted_on(screen.getvalue()), screen.getvalue()


def test_usage_errors_quote_values_as_one_safe_line(tmp_path, capsys):
    code = None
    try:
        main(["--db", f"sqlite:///{tmp_path}/t.db", "events", "list", "--country", f"X{ESCAPES}\nfake line"])
    except SystemExit as exc:  # argparse exits with 2 after printing usage and the error
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and "fake line" in err
    assert not _acted_on(err) and "\nfake line" not in err


def test_errors_are_one_masked_line(tmp_path, capsys, monkeypatch):
    """A MonitorError whose text holds line breaks and escapes is printed as one printable line."""
    bad = tmp_path / "bad.csv"
    bad.write_text(f"uid,country,start,end,kind,title,url\nu1,IR,2019-11-16,nope{ESCAPES}\nx,protest,t,\n",
                   encoding="utf-8")
    assert main(["--db", f"sqlite:///{tmp_path}/t.db", "events", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("outage-monitor: error: ") and not _acted_on(err), err
