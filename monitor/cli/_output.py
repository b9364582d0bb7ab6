"""Printing frames for people (table) and programs (csv, json), shared by the commands.

Text cells come from feeds and calendars, so each format is made safe for where it ends up: tables
have control and format characters replaced (`text.printable`); CSV cells also lose them (line
breaks kept) and a leading formula character is neutralised (`text.csv_cell`, OWASP); JSON escapes
them (`text.json_text`), which keeps the data exact.
"""

from __future__ import annotations

import sys

import pandas as pd

from monitor.store.convert import _jsonable
from monitor.text import csv_cell, json_text, printable
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
        sys.stdout.write(json_text(frame_records(df)) + "\n")
    elif fmt == "csv":
        shown = _text_cells(df, lambda v: csv_cell(printable(v, keep_lines=True)))
        for col in shown.columns:
            if isinstance(shown[col].dtype, pd.DatetimeTZDtype):
                shown[col] = shown[col].map(iso)
        shown.to_csv(sys.stdout, index=False, lineterminator="\n")
    elif df.empty:
        print(empty)
    else:
        shown = _text_cells(df, printable)
        for col in shown.columns:
            if isinstance(shown[col].dtype, pd.DatetimeTZDtype):
                shown[col] = shown[col].dt.strftime("%Y-%m-%d %H:%M UTC").fillna("-")
        print(shown.to_string(index=False))


def _text_cells(df: pd.DataFrame, clean) -> pd.DataFrame:
    """A copy with `clean` applied to every text cell and column name."""
    out = df.copy()
    out.columns = [clean(c) if isinstance(c, str) else c for c in out.columns]
    for i in range(out.shape[1]):
        dtype = out.dtypes.iloc[i]
        if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
            out.isetitem(i, pd.Series([clean(v) if isinstance(v, str) else v for v in out.iloc[:, i]],
                                      index=out.index, dtype=object))
    return out
