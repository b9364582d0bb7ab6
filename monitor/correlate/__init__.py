"""Correlation: flag outages that coincide with political events and say how unlikely that is by
chance. `correlate` is the pure entry point, `run_correlation` the stored one."""

from monitor.correlate.params import CorrelateParams
from monitor.correlate.run import CorrelationResult, correlate, run_correlation
from monitor.correlate.significance import SUMMARY_COLUMNS

__all__ = ["CorrelateParams", "CorrelationResult", "SUMMARY_COLUMNS", "correlate", "run_correlation"]
