"""The DataFrame contracts between collectors, the store and the analysis.

Every frame's time columns are timezone-aware UTC (`datetime64[..., UTC]`).
Functions that take or return one of these frames keep exactly these columns (extra columns allowed
where stated).
"""

from __future__ import annotations

import pandas as pd

# A signal: one value of one datasource for one entity at one time. NaN value = no data (a gap),
# never zero.
SIGNAL_COLUMNS = ["entity", "datasource", "time", "value"]

# An outage: an interval where an entity lost connectivity.
#   entity       "country/IR"
#   country      ISO alpha-2 or None (known for country entities and most reference sources)
#   start, end   UTC; end is exclusive (first bin after the outage) or None when still ongoing
#   datasources  list[str], the signals that agree
#   depth        0..1, fraction of the baseline lost (overall; per-datasource in `detail`)
#   score        0..1, see SCORE_MEANING (detected outages; reference sources may leave it NaN)
#   method       how it was found ("median-ratio", "kleinberg", "ioda", "cloudflare-radar", ...)
#   source       "detected" for ours; the reference source name otherwise ("ioda-events", ...)
#   outage_id    stable id: "<source>:<entity>:<start epoch>" for detected, source-native otherwise
#   detail       dict (JSON-serialisable): per-datasource depth, thresholds, raw record, ...
#                Detected outages always have: "datasources" (per datasource: start, end, open,
#                depth, area, alerts, level, method), "severity" ("partial" < 0.5 depth <= "major"
#                < 0.9 <= "near-total"), "long_running" (bool, longer than 7 days), "nodata_minutes"
#                ({datasource: minutes without data inside the outage}), "ongoing", "seen_until".
OUTAGE_COLUMNS = ["outage_id", "source", "entity", "country", "start", "end", "datasources",
                  "depth", "score", "method", "detail"]

# The score of a detected outage, in one sentence (reports print it next to the scores).
SCORE_HALF_HOURS = 3.0
SCORE_MEANING = ("score (0 to 1) = 1 - product over the agreeing datasources of "
                 "(1 - depth x (1 - 2^(-hours/3))): a total loss on one datasource for 3 hours (about "
                 "the median outage in IODA's hand-checked list) scores 0.5, and more depth, more hours "
                 "or another agreeing datasource only raise it")

EVENT_KINDS = ("election", "results", "protest", "opposition_event", "exam", "coup",
               "shutdown_report", "other")

# An event from a calendar.
#   uid        stable id within its source (iCalendar UID[+instance], CSV uid or a content hash)
#   source     the calendar it came from ("starter", "stop", "ioda-outages", "acled", a file's name)
#   kind       one of EVENT_KINDS
#   country    ISO 3166 alpha-2; region optional free text
#   start, end UTC; all-day events span whole local days of their country / calendar zone
#   all_day    bool
#   raw        JSON text of the original record, for provenance
EVENT_COLUMNS = ["uid", "source", "kind", "country", "region", "start", "end", "all_day",
                 "title", "url", "description", "raw"]

# A coincidence: an outage and an event related in time.
#   relation        "during" | "before" (outage starts before the event: pre-emptive)
#                   | "after" (outage starts after the event begins: reaction)
#   offset_minutes  outage start minus event start, in minutes (negative = outage first)
COINCIDENCE_COLUMNS = ["outage_id", "entity", "outage_start", "outage_end", "event_source",
                       "event_uid", "event_title", "event_kind", "event_start", "country",
                       "relation", "offset_minutes"]

# A RIPE Atlas connection-log record (measurement 7000), kept raw for burst detection.
#   entity   the watched entity the probe belongs to ("country/KE", "asn/36866")
#   event    "connect" | "disconnect"
PROBE_EVENT_COLUMNS = ["entity", "probe_id", "asn", "time", "event"]

# Where an entity is, from the sources' own metadata (store table entity_places).
#   entity   "asn/44244", "region/IR-07", ...
#   country  ISO alpha-2 or None; name: the source's name for it ("Irancell", "Tehran") or None
#   source   where it came from ("ioda", "ripestat", "import")
PLACE_COLUMNS = ["entity", "country", "name", "source"]

_TIME_COLUMNS = {"time", "start", "end", "outage_start", "outage_end", "event_start"}


def empty(columns: list[str]) -> pd.DataFrame:
    """An empty frame with the given contract's columns and UTC time dtypes."""
    return pd.DataFrame({c: pd.Series(dtype="datetime64[s, UTC]" if c in _TIME_COLUMNS else object)
                         for c in columns})
