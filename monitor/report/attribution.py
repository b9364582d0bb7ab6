"""Who the data in a report comes from and on what terms: the attribution every report carries.

Keyed by the names used in the store: datasources of signals, sources of outages and of events.
Where a licence is not confirmed, the text says so rather than guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

IODA_COPYRIGHT = ("This data is Copyright (c) 2021-2025 Georgia Tech Research Corporation. "
                  "All Rights Reserved.")


@dataclass(frozen=True)
class Attribution:
    """One data provider: a short credit for charts and the full notice for the methods section."""

    key: str
    credit: str
    provider: str
    url: str | None
    terms: str


_IODA = Attribution("ioda", "IODA (Georgia Tech)", "IODA, Internet Intelligence Lab, Georgia Tech",
                    "https://ioda.inetintel.cc.gatech.edu/",
                    "Terms of use of the data are not published; every IODA API response carries the "
                    "copyright line quoted below.")
_RIPE_ATLAS = Attribution("ripe-atlas", "RIPE Atlas (RIPE NCC)", "RIPE NCC, RIPE Atlas",
                          "https://atlas.ripe.net/",
                          "RIPE Atlas data by RIPE NCC, used under the RIPE Atlas Terms and Conditions "
                          "(attribution to RIPE NCC required).")
_RIPESTAT = Attribution("ripestat", "RIPEstat (RIPE NCC)", "RIPE NCC, RIPEstat", "https://stat.ripe.net/",
                        "RIPEstat data by RIPE NCC, used under the RIPEstat terms of service.")
_CLOUDFLARE = Attribution("cloudflare-radar", "Cloudflare Radar", "Cloudflare Radar",
                          "https://radar.cloudflare.com/", "Cloudflare Radar data, CC BY-NC 4.0.")
_STOP = Attribution("stop", "Access Now #KeepItOn STOP", "Access Now, #KeepItOn STOP (Shutdown Tracker "
                    "Optimization Project)", "https://www.accessnow.org/keepiton/",
                    "#KeepItOn STOP data, Access Now. Published for public use with attribution; "
                    "licence not stated.")
_IODA_LIST = Attribution("ioda-outages", "IODA hand-checked outages (Georgia Tech)",
                         "IODA / Georgia Tech Internet Intelligence Lab: manually investigated outages "
                         "(Bischof et al., \"Destination Unreachable\", SIGCOMM '23, "
                         "doi:10.1145/3603269.3604883)", "https://github.com/InetIntel/internet_outages",
                         "Research data; no licence stated, cite the paper.")
_ACLED = Attribution("acled", "ACLED", "Armed Conflict Location & Event Data Project (ACLED)",
                     "https://acleddata.com/", "Used under ACLED's terms of use, which require attribution.")
_STARTER = Attribution("starter", "outage-monitor starter calendar", "outage-monitor starter calendar "
                       "(data/events/; every row cites its own source URL)",
                       None, "See data/events/README.md for each entry's source.")
_MONASH = Attribution("monash", "Monash IP Observatory", "Monash IP Observatory", "https://www.monash.edu/",
                      "Monash IP Observatory data, GNU GPL v3 as stated by its repository.")

_BY_NAME = {
    "ping-slash24": _IODA, "bgp": _IODA, "merit-nt": _IODA, "gtr": _IODA, "ucsd-nt": _IODA,
    "ioda-events": _IODA, "ioda-alerts": _IODA, "ioda-outages": _IODA_LIST,
    "cloudflare-radar": _CLOUDFLARE, "stop": _STOP, "acled": _ACLED, "starter": _STARTER,
}
_BY_PREFIX = (("ping-slash24", _IODA), ("gtr", _IODA), ("ripe-atlas", _RIPE_ATLAS), ("atlas", _RIPE_ATLAS),
              ("ripestat", _RIPESTAT), ("cloudflare", _CLOUDFLARE), ("monash", _MONASH))


def attribution(name: str) -> Attribution | None:
    """The provider behind a datasource or source name, or None when it is the user's own data."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    return next((a for prefix, a in _BY_PREFIX if name.startswith(prefix)), None)


def attributions(names) -> tuple[list[Attribution], list[str]]:
    """Distinct providers for the given names, and the names nobody is known to provide."""
    found: dict[str, Attribution] = {}
    unknown = []
    for name in sorted({n for n in names if n}):
        a = attribution(name)
        if a is None:
            unknown.append(name)
        else:
            found.setdefault(a.key, a)
    return list(found.values()), unknown


def credit_line(names) -> str:
    """`Data: IODA (Georgia Tech); RIPE Atlas (RIPE NCC)` for a chart's corner."""
    found, unknown = attributions(names)
    parts = [a.credit for a in found] + unknown
    return "Data: " + "; ".join(parts) if parts else ""
