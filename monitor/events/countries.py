"""Country names and codes to ISO 3166 alpha-2, and a country's local time zone.

Names come from pycountry (ISO 3166-1: codes, names, official and common names, compared without
accents, case or punctuation) plus a small table of the spellings that STOP, IODA and ACLED use and
ISO does not. A name that is in neither is an InputError: a wrong country is worse than a skipped row.
"""

from __future__ import annotations

import importlib.resources
import re
import unicodedata
from functools import lru_cache

import pycountry

from monitor.errors import InputError

# Spellings seen in STOP, IODA's outage list and ACLED (folded as by _fold), mapped by hand.
ALIASES: dict[str, str] = {
    "iran (islamic republic of)": "IR",
    "venezuela (bolivarian republic of)": "VE",
    "bolivia (plurinational state of)": "BO",
    "congo (democratic republic of the)": "CD",
    "democratic republic of the congo": "CD",
    "democratic republic of congo": "CD",
    "democratic republic of (drc)": "CD",
    "dr congo": "CD",
    "drc": "CD",
    "republic of congo": "CG",
    "republic of the congo": "CG",
    "palestine": "PS",
    "palestinian territories": "PS",
    "occupied palestinian territory": "PS",
    "turkey": "TR",
    "russia": "RU",
    "south korea": "KR",
    "north korea": "KP",
    "macedonia": "MK",
    "swaziland": "SZ",
    "cape verde": "CV",
    "great britain": "GB",
    "uk": "GB",
    "usa": "US",
    "united states of america (usa)": "US",
    "ivory coast": "CI",
    "ivory coast (cote d'ivoire)": "CI",
    "kyrgyz republic": "KG",
    "kyrgyz republic (kyrgyzstan)": "KG",
    "burma": "MM",
    "myanmar/burma": "MM",
    "bonaire/sint eustatius/saba": "BQ",
    "saint martin": "MF",
    "micronesia": "FM",
    "federated states of micronesia": "FM",
    "east timor": "TL",
    # Somaliland has no ISO code; ISO 3166 counts its territory as Somalia's.
    "somaliland": "SO",
}

# Multi-zone countries whose first zone.tab line is not the capital's zone (see country_timezone).
CAPITAL_ZONES: dict[str, str] = {
    "AU": "Australia/Sydney",    # Canberra keeps Sydney's clock; zone.tab starts with Lord Howe
    "BR": "America/Sao_Paulo",   # Brasilia; zone.tab starts with Noronha
    "CA": "America/Toronto",     # Ottawa; zone.tab starts with St John's
    "FM": "Pacific/Pohnpei",     # Palikir; zone.tab starts with Chuuk
    "PS": "Asia/Hebron",         # Ramallah (West Bank); Gaza keeps Asia/Gaza
    "RU": "Europe/Moscow",       # zone.tab starts with Kaliningrad
    "UA": "Europe/Kyiv",         # zone.tab starts with Simferopol
    "UZ": "Asia/Tashkent",       # zone.tab starts with Samarkand
}

_CODE_RE = re.compile(r"^[A-Za-z]{2}$")


def _fold(name: str) -> str:
    """Lower case, accents removed, '&' as 'and', separators as single spaces."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace("&", " and ")
    text = re.sub(r"[\s_\-,./'\u2019]+", " ", text)
    return text.strip()


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    """Folded ISO names and codes -> alpha-2, then the aliases."""
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "numeric", "name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                index.setdefault(_fold(value), country.alpha_2)
    index.update({_fold(name): code for name, code in ALIASES.items()})
    return index


def country_code(name_or_code: str) -> str:
    """ISO 3166 alpha-2 for a code (TJ, TJK, 762) or a known name; InputError when unmapped."""
    if not isinstance(name_or_code, str | int) or not str(name_or_code).strip():
        raise InputError(f"unknown country {name_or_code!r}: empty")
    text = str(name_or_code).strip()
    if text.isdigit():
        text = text.zfill(3)
    code = _index().get(_fold(text))
    if code is None:
        hint = "an ISO 3166 code" if _CODE_RE.match(text) else "an ISO 3166 code or a known name"
        raise InputError(f"unknown country {text!r}: use {hint}")
    return code


@lru_cache(maxsize=1)
def _zone_table() -> dict[str, str]:
    """Country -> first zone listed for it in tzdata's zone.tab."""
    text = importlib.resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text("ascii")
    zones: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            cc, _coords, zone = line.split("\t")[:3]
            zones.setdefault(cc, zone)
    return zones


def country_timezone(cc: str) -> str:
    """The IANA zone used for a country's local days and times.

    One zone per country: the only zone where there is one; for countries with several, the
    capital's zone (CAPITAL_ZONES where zone.tab lists another first, else zone.tab's first line,
    which is the capital's or most populous region's zone). Events far from the capital in
    multi-zone countries (Russia, Indonesia, Brazil...) should carry their own `timezone`.
    """
    code = country_code(cc)
    zone = CAPITAL_ZONES.get(code) or _zone_table().get(code)
    if zone is None:
        raise InputError(f"no time zone known for country {code!r} in tzdata's zone.tab")
    return zone
