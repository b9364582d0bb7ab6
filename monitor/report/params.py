"""Report options: the `[report]` section of the config file."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from monitor.errors import InputError

CHART_FORMATS = ("png", "svg")


@dataclass(frozen=True)
class ReportParams:
    """How reports are drawn and how much context they show.

    chart_format  png (works in every mail client) or svg (sharp, larger)
    dpi           PNG resolution
    margin        signal shown before and after an incident's outage
    baseline      the stretch before an outage whose median is the per-signal baseline for depth
    nearby        other (not coinciding) events listed within this distance of an outage
    table_rows    raw-number rows shown either side of an outage's start and end
    alpha         adjusted p-value under which a coincidence count is called significant
    max_gaps      gaps listed in the methods section (the longest first)
    """

    chart_format: str = "png"
    dpi: int = 110
    margin: pd.Timedelta = pd.Timedelta("1D")
    baseline: pd.Timedelta = pd.Timedelta("1D")
    nearby: pd.Timedelta = pd.Timedelta("3D")
    table_rows: int = 8
    alpha: float = 0.05
    max_gaps: int = 10

    def __post_init__(self):
        if self.chart_format not in CHART_FORMATS:
            raise InputError(f"chart_format {self.chart_format!r}: use one of {', '.join(CHART_FORMATS)}")
        if not 0 < self.alpha < 1:
            raise InputError(f"alpha {self.alpha!r}: must be between 0 and 1")
        if self.dpi < 30 or self.table_rows < 0 or self.max_gaps < 0:
            raise InputError("dpi must be >= 30, table_rows and max_gaps >= 0")
