"""Printing frames for people (table) and programs (csv, json), shared by the commands."""

from __future__ import annotations

import json
import sys

import pandas as pd

from monitor.store.convert import _jsonable
from monitor.timeutil import iso


def frame_records(df: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts; times as ISO 8601 UTC."""
    out = []
    for row in df.to_dict("records"):
        out.append({k: iso(v) if isinstance(v, pd.Timestamp) else (None if v is pd.NaT else _jsonable(v))
                    for k, v in row.items()})
    return out


def print_frame(df: pd.DataFrame, fmt: str = "table", empty: str = "(nothing)") -> None:
    """Print a frame as an aligned table, CSV or JSON on stdout."""
    if fmt == "json":
        json.dump(frame_records(df), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    elif fmt == "csv":
        shown = df.copy()
        for col in shown.columns:
            if isinstance(shown[col].dtype, pd.DatetimeTZDtype):
                shown[col] = shown[col].map(iso)
        shown.to_csv(sys.stdout, index=False, lineterminator="\n")
    elif df.empty:
        print(empty)
    else:
        shown = df.copy()
        for col in shown.columns:
            if isinstance(shown[col].dtype, pd.DatetimeTZDtype):
                shown[col] = shown[col].dt.strftime("%Y-%m-%d %H:%M UTC").fillna("-")
        print(shown.to_string(index=False))
