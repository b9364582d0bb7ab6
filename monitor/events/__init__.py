"""Event calendars: one event model (EVENT_COLUMNS) fed by iCalendar feeds, curated CSV/YAML lists,
ACLED, Access Now's STOP list and IODA's hand-checked outage list.

Each format module has a pure parser (text or records -> `ParseResult`); `import_events` reads a file
or URL, parses it and syncs it into the store in one transaction.
"""

from monitor.events.countries import country_code, country_timezone
from monitor.events.importer import FORMATS, ImportSummary, import_events
from monitor.events.model import ParseResult, Skipped

__all__ = ["FORMATS", "ImportSummary", "ParseResult", "Skipped", "country_code", "country_timezone",
           "import_events"]
