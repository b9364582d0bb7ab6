"""The tidy signal format for bring-your-own data: CSV with columns time,entity,datasource,value.

`time` is ISO 8601 with a UTC offset (or `Z`), or unix seconds; an empty value is a gap (no data).
Parsing is vectorised so a million-row file reads in seconds; bad rows are reported by line.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd

from monitor.entities import parse_datasource, parse_entity
from monitor.errors import InputError, ParseError
from monitor.frames import SIGNAL_COLUMNS
from monitor.timeutil import iso

_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
_EPOCH = r"^-?\d{1,11}(?:\.0*)?$"


def read_tidy_csv(source, name: str, entity: str | None = None, datasource: str | None = None,
                  strict: bool = True) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Parse a tidy signal CSV into a signal frame.

    Returns (frame, bad) where bad lists (line number, reason) of rows left out. With `strict`
    any bad row raises ParseError naming the first one, so nothing of the file gets written.
    """
    try:
        raw = pd.read_csv(source, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error) as exc:
        raise ParseError(f"not a readable CSV ({str(exc).strip().splitlines()[0]})", name) from exc
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror or exc}", name) from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    raw = _supply(raw, "entity", entity, name)
    raw = _supply(raw, "datasource", datasource, name)
    missing = [c for c in SIGNAL_COLUMNS if c not in raw.columns]
    if missing:
        raise ParseError(f"missing column(s) {', '.join(missing)}; expected time,entity,datasource,value", name)
    lines = np.arange(len(raw)) + 2  # header is line 1
    reasons = pd.Series("", index=raw.index, dtype=object)

    times, time_bad = _parse_times(raw["time"].str.strip())
    reasons[time_bad] = "bad time " + raw["time"][time_bad].map(repr) + \
        " (ISO 8601 with offset, or unix seconds)"
    entities = _canonical(raw["entity"], parse_entity, reasons, "entity")
    datasources = _canonical(raw["datasource"], parse_datasource, reasons, "datasource")
    text = raw["value"].str.strip()
    values = pd.to_numeric(text.where(text != "", None), errors="coerce")
    value_bad = (values.isna() & (text != "") & (text.str.lower() != "nan")) | np.isinf(values.fillna(0))
    reasons[value_bad & (reasons == "")] = "bad value " + text[value_bad].map(repr)

    key = pd.DataFrame({"e": entities, "d": datasources, "t": times})
    repeated = key.duplicated(keep="first") & (reasons == "")
    if repeated.any():
        first_line = pd.Series(lines, index=raw.index).groupby([key["e"], key["d"], key["t"]]).transform("first")
        reasons[repeated] = "repeats the entity, datasource and time of line " + first_line[repeated].astype(str)
    bad_mask = (reasons != "").to_numpy()
    bad = [(int(line), f"{reason}") for line, reason in zip(lines[bad_mask], reasons[bad_mask])]
    if bad and strict:
        more = f" (and {len(bad) - 1} more bad rows)" if len(bad) > 1 else ""
        raise ParseError(f"line {bad[0][0]}: {bad[0][1]}{more}; nothing written (use --skip-bad to "
                         "import the good rows)", name)
    good = ~bad_mask
    frame = pd.DataFrame({"entity": entities[good].to_numpy(dtype=object),
                          "datasource": datasources[good].to_numpy(dtype=object),
                          "time": times[good].to_numpy(), "value": values[good].astype("float64").to_numpy()})
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame[SIGNAL_COLUMNS], bad


def _supply(raw: pd.DataFrame, column: str, value: str | None, name: str) -> pd.DataFrame:
    if value is None:
        return raw
    if column in raw.columns:
        raise ParseError(f"has a {column} column; --{column} only supplies a missing one", name)
    return raw.assign(**{column: value})


def _parse_times(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Vectorised: unix seconds or ISO 8601 with offset -> UTC; returns (times, bad mask)."""
    is_epoch = text.str.match(_EPOCH)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    if is_epoch.any():
        secs = pd.to_numeric(text[is_epoch], errors="coerce")
        out[is_epoch] = pd.to_datetime(secs, unit="s", utc=True, errors="coerce")
    iso_rows = ~is_epoch & text.str.contains(_OFFSET, regex=True)
    if iso_rows.any():
        out[iso_rows] = pd.to_datetime(text[iso_rows], utc=True, format="ISO8601", errors="coerce")
    fractional = out.notna() & (out.dt.microsecond != 0)
    bad = out.isna() | fractional
    return out.dt.floor("s"), bad


def _canonical(column: pd.Series, parse, reasons: pd.Series, what: str) -> pd.Series:
    """Validate each distinct name once; record a reason for rows whose name is malformed."""
    mapping = {}
    for value in column.unique():
        try:
            mapping[value] = parse(value)
        except InputError as exc:
            mapping[value] = None
            rows = (column == value) & (reasons == "")
            reasons[rows] = str(exc)
    return column.map(mapping)


def write_tidy(df: pd.DataFrame, fmt: str = "csv") -> str:
    """A signal frame -> CSV or JSON text, times as ISO 8601 UTC (`Z`), gaps empty/null, lossless."""
    if fmt == "json":
        records = [{"time": iso(t), "entity": e, "datasource": d, "value": None if np.isnan(v) else float(v)}
                   for e, d, t, v in zip(df["entity"], df["datasource"], df["time"], df["value"])]
        return json.dumps(records, indent=1) + "\n"
    if fmt != "csv":
        raise InputError(f"unknown format {fmt!r}: use csv or json")
    out = pd.DataFrame({"time": df["time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"), "entity": df["entity"],
                        "datasource": df["datasource"], "value": df["value"]})
    buf = io.StringIO()
    out.to_csv(buf, index=False, na_rep="", float_format=None, lineterminator="\n")
    return buf.getvalue()
