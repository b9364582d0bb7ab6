"""Parameters of the correlator: the config section `[correlate]`.

Windows say how far from an event an outage may start and still count as related:
`before` is how long before the event a pre-emptive cut may begin (an exam or an election day needs
hours), `after` how long after the event begins a reaction may come (a speech: minutes to hours; a
protest: hours). Per-kind defaults below; `[correlate.windows.<kind>]` overrides them, and
`window_before` / `window_after` (the CLI's `--window-before/--window-after`) set every kind at once.

```toml
[correlate]
permutations = 10000
seed = 20200916
[correlate.windows.exam]
before = "3h"
```
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from monitor.errors import InputError
from monitor.frames import EVENT_KINDS
from monitor.timeutil import parse_duration

MAX_PERMUTATIONS = 100_000  # shifts evaluated per row: memory grows with episodes x shifts

# kind -> (before, after). Shutdown reports are outages, never calendar events, so they have none.
DEFAULT_WINDOWS: dict[str, tuple[str, str]] = {
    "election": ("1D", "2D"),        # cut the night before polling day; results day follows
    "results": ("1D", "2D"),
    "protest": ("2h", "12h"),        # cuts come as crowds gather and in the evening after
    "opposition_event": ("2h", "3h"),  # a live speech: cut minutes to hours after it starts
    "exam": ("6h", "1h"),            # cuts start before the papers are handed out
    "coup": ("1D", "2D"),
    "other": ("2h", "6h"),
}


@dataclass(frozen=True)
class CorrelateParams:
    """How coincidences are flagged and how their significance is tested.

    `permutations` caps the shifts of the calendar the test evaluates (all of them are evaluated;
    when more fit in the span, the shift unit grows). `seed` is kept so that existing configs and
    stored runs stay readable: the shift test is exhaustive and draws nothing at random.
    """

    windows: dict = field(default_factory=dict)        # kind -> {"before": "6h", "after": "1h"}
    window_before: pd.Timedelta | None = None          # overrides every kind's `before`
    window_after: pd.Timedelta | None = None           # overrides every kind's `after`
    permutations: int = 10000                          # shifts of the calendar evaluated (at most)
    seed: int = 20200916                               # unused (the test is exhaustive), see above
    alpha: float = 0.05                                # one family per run, Benjamini-Hochberg
    min_outages: int = 3                               # episodes; fewer: "too few to test"
    min_events: int = 3                                # fewer: "too few events to conclude"

    def __post_init__(self):
        resolved = {kind: tuple(parse_duration(v, what=f"{kind} window") for v in pair)
                    for kind, pair in DEFAULT_WINDOWS.items()}
        if not isinstance(self.windows, dict):
            raise InputError("windows: expected a table of kind -> {before, after}")
        for kind, table in self.windows.items():
            resolved[kind] = self._override(kind, table, resolved.get(kind))
        object.__setattr__(self, "_resolved", resolved)
        self._check()

    @staticmethod
    def _override(kind: str, table, current) -> tuple[pd.Timedelta, pd.Timedelta]:
        if kind not in EVENT_KINDS or kind == "shutdown_report":
            raise InputError(f"windows: unknown event kind {kind!r}")
        if not isinstance(table, dict) or set(table) - {"before", "after"}:
            raise InputError(f"windows.{kind}: expected a table with 'before' and/or 'after'")
        before, after = current
        if "before" in table:
            before = _duration(table["before"], f"windows.{kind}.before")
        if "after" in table:
            after = _duration(table["after"], f"windows.{kind}.after")
        return before, after

    def _check(self) -> None:
        if isinstance(self.permutations, bool) or not isinstance(self.permutations, int) \
                or not 1 <= self.permutations <= MAX_PERMUTATIONS:
            raise InputError(f"permutations must be a positive integer up to {MAX_PERMUTATIONS:,}, "
                             f"got {self.permutations!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise InputError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not 0 < self.alpha < 1:
            raise InputError(f"alpha must be between 0 and 1, got {self.alpha!r}")
        if self.min_outages < 1 or self.min_events < 1:
            raise InputError("min_outages and min_events must be at least 1")
        for what in ("window_before", "window_after"):
            value = getattr(self, what)
            if value is not None and pd.Timedelta(value) < pd.Timedelta(0):
                raise InputError(f"{what} must not be negative")

    def window(self, kind: str) -> tuple[pd.Timedelta, pd.Timedelta]:
        """(before, after) for an event kind, with the global overrides applied."""
        before, after = self._resolved.get(kind, self._resolved["other"])
        return (pd.Timedelta(self.window_before) if self.window_before is not None else before,
                pd.Timedelta(self.window_after) if self.window_after is not None else after)

    def to_dict(self) -> dict:
        """JSON-ready parameters as stored with a run (windows resolved for every kind)."""
        windows = {kind: {"before": duration_text(self.window(kind)[0]),
                          "after": duration_text(self.window(kind)[1])}
                   for kind in self._resolved}
        return {"windows": windows, "permutations": self.permutations, "seed": self.seed,
                "alpha": self.alpha,
                "min_outages": self.min_outages, "min_events": self.min_events}


def _duration(value, what: str) -> pd.Timedelta:
    if isinstance(value, pd.Timedelta):
        return value
    if not isinstance(value, str):
        raise InputError(f"{what}: expected a duration such as '2h', got {value!r}")
    return parse_duration(value, what=what)


def duration_text(td: pd.Timedelta) -> str:
    """A Timedelta as the shortest duration text parse_duration reads back: '1D', '6h', '90m', '30s'."""
    seconds = int(pd.Timedelta(td).total_seconds())
    for unit, size in (("D", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
