"""Incident reports and digests as self-contained HTML or Markdown.

    from monitor.report import ReportParams, find_outage, load_incident, render_incident, write_report
    outage = find_outage(store, entity="country/IR", at=parse_time("2019-11-17"))
    write_report("iran.html", render_incident(load_incident(store, outage, ReportParams()), fmt="html", name="iran"))
"""

from monitor.report.context import DigestData, IncidentData, find_outage, latest_run, load_digest, load_incident
from monitor.report.params import ReportParams
from monitor.report.render import Rendered, render_digest, render_incident, report_format, write_report

__all__ = ["DigestData", "IncidentData", "Rendered", "ReportParams", "find_outage", "latest_run", "load_digest",
           "load_incident", "render_digest", "render_incident", "report_format", "write_report"]
