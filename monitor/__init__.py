"""outage-monitor: find internet outages in public connectivity data and test whether they
coincide with political events.

The public facade for notebooks; everything here is a plain function over pandas DataFrames.
"""

from __future__ import annotations

__version__ = "0.1.0"
