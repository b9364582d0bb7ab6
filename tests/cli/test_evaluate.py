"""`outage-monitor evaluate --bundled`: every bundled real series against its documented outages."""

from __future__ import annotations

import json

from monitor.cli import main


def test_bundled_evaluation_finds_every_documented_outage(tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/none.db"
    assert main(["--db", db, "evaluate", "--bundled", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = result["bundled"]
    assert {r["series"].split(",")[0].split(" (")[0] for r in rows} == {"Iran 2019", "Venezuela 2019", "Bago 2021",
                                                                        "Kenya 2016"}
    assert all(r["matched"] == r["references"] and r["references"] >= 1 for r in rows)
    iran = next(r for r in rows if r["series"].startswith("Iran"))
    assert iran["start_error_min"] <= 10  # IODA's checked 14:00 start; BGP first fell at 14:05 (5-min bins)
    assert result["quiet"]["per_entity_month"] <= 0.5
    assert not (tmp_path / "none.db").exists()  # no store needed, none made


def test_evaluate_without_a_reference_is_a_one_line_error(tmp_path, capsys):
    assert main(["--db", f"sqlite:///{tmp_path}/m.db", "evaluate"]) == 2
    assert "needs --reference SOURCE (or --bundled)" in capsys.readouterr().err
