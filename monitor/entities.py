"""Entities (`TYPE/CODE`, IODA's vocabulary) and datasource names.

Region codes: IODA's numeric ids (`region/4488`), ISO 3166-2 subdivision codes (`region/IR-07`,
upper-cased, their country is the part before the dash) or a researcher's own id (`region/bago`,
`region/mm_bago-2021`: letters, digits, `_`, `.`, `-`, at most 64, kept as written; its country
comes from the stored entity places, e.g. given by `signals import --country`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.errors import InputError

ENTITY_TYPES = ("continent", "country", "region", "asn", "geoasn")

# IODA's own datasources; users may import any other name matching DATASOURCE_RE.
KNOWN_DATASOURCES = ("bgp", "ping-slash24", "merit-nt", "gtr")
DATASOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")

ISO_3166_2_RE = re.compile(r"^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$")
_CODE_RE = {
    "continent": re.compile(r"^[A-Z]{2}$"),
    "country": re.compile(r"^[A-Z]{2}$"),
    "region": re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"),
    "asn": re.compile(r"^[0-9]{1,10}$"),
    # IODA writes geoasn codes as <region-or-country>-<asn>; accept any short token.
    "geoasn": re.compile(r"^[A-Za-z0-9\-]{1,32}$"),
}


@dataclass(frozen=True, order=True)
class Entity:
    """A place or network that signals describe, e.g. `country/TJ` or `asn/44244`."""

    type: str
    code: str

    def __str__(self) -> str:
        return f"{self.type}/{self.code}"

    @classmethod
    def parse(cls, text: str) -> "Entity":
        """Parse `TYPE/CODE`; country and continent codes are upper-cased, `AS123` accepted for asn."""
        if not isinstance(text, str) or text.count("/") != 1:
            raise InputError(f"malformed entity {text!r}: expected TYPE/CODE, e.g. country/TJ or asn/44244")
        etype, code = (part.strip() for part in text.split("/"))
        etype = etype.lower()
        if etype not in ENTITY_TYPES:
            raise InputError(f"malformed entity {text!r}: type must be one of {', '.join(ENTITY_TYPES)}")
        if etype in ("country", "continent") or (etype == "region" and ISO_3166_2_RE.match(code)):
            code = code.upper()
        if etype == "asn" and code.upper().startswith("AS"):
            code = code[2:]
        if not _CODE_RE[etype].match(code):
            raise InputError(f"malformed entity {text!r}: bad {etype} code {code!r}")
        return cls(etype, code)

    @property
    def country(self) -> str | None:
        """The ISO alpha-2 country the entity itself names (a country, an ISO 3166-2 region), else
        None: an ASN's or a numeric region's country comes from stored metadata (entity places)."""
        if self.type == "country":
            return self.code
        if self.type == "region" and ISO_3166_2_RE.match(self.code):
            return self.code[:2]
        return None


def parse_entity(text: str) -> str:
    """Validate and normalise an entity string; returns the canonical `TYPE/CODE`."""
    return str(Entity.parse(text))


def parse_datasource(name: str) -> str:
    """Validate a datasource name (lower-case letters, digits, `-`, `_`, `.`)."""
    if not isinstance(name, str) or not DATASOURCE_RE.match(name.strip()):
        raise InputError(f"malformed datasource {name!r}: use lower-case letters, digits, '-', '_' or '.'")
    return name.strip()
