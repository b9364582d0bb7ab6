"""Outage detection: signals and RIPE Atlas probe events in, outage intervals out (pure), and the
same over the store. See rules (per-signal median-ratio rule), bursts (Kleinberg), fusion
(alerts -> outages), run (end to end) and evaluate (against reference outages)."""

from monitor.detect.evaluate import EvaluateParams, evaluate, evaluate_store
from monitor.detect.params import PRESETS, BurstParams, DetectParams, RuleParams
from monitor.detect.run import detect_alerts, detect_outages, run_detection

__all__ = ["PRESETS", "BurstParams", "DetectParams", "EvaluateParams", "RuleParams", "detect_alerts",
           "detect_outages", "evaluate", "evaluate_store", "run_detection"]
