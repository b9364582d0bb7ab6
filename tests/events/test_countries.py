"""Country names and codes -> ISO alpha-2, and one IANA zone per country."""

from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from monitor.errors import InputError
from monitor.events.countries import ALIASES, CAPITAL_ZONES, country_code, country_timezone


@pytest.mark.parametrize("text, code", [
    ("TJ", "TJ"), ("tj", "TJ"), ("TJK", "TJ"), ("762", "TJ"), (762, "TJ"), (4, "AF"),
    ("Tajikistan", "TJ"), (" tajikistan ", "TJ"),
    ("Iran (Islamic Republic of)", "IR"), ("Iran", "IR"),
    ("Congo (Democratic Republic of the)", "CD"), ("DRC", "CD"), ("Democratic Republic of (DRC)", "CD"),
    ("Congo", "CG"), ("Republic of Congo", "CG"),
    ("Palestine", "PS"), ("Palestine, State of", "PS"), ("Palestinian Territories", "PS"),
    ("Türkiye", "TR"), ("Turkey", "TR"), ("Russian Federation", "RU"), ("Russia", "RU"),
    ("Côte d'Ivoire", "CI"), ("Cote d'Ivoire", "CI"), ("Ivory Coast (Cote d'Ivoire)", "CI"),
    ("Curacao", "CW"), ("Reunion", "RE"), ("Antigua & Barbuda", "AG"), ("Timor Leste", "TL"),
    ("Myanmar/Burma", "MM"), ("Venezuela (Bolivarian Republic of)", "VE"), ("Somaliland", "SO"),
])
def test_country_code_accepts_codes_names_and_dataset_spellings(text, code):
    assert country_code(text) == code


@pytest.mark.parametrize("text", ["Atlantis", "European Union", "XX", "", "  ", "Kosovo", "Congo-ish"])
def test_unmapped_names_raise_instead_of_guessing(text):
    with pytest.raises(InputError, match="unknown country"):
        country_code(text)


def test_every_country_name_in_the_bundled_lists_maps_except_non_countries(data_dir):
    """The real STOP and IODA names all map; only 'European Union' (not a country) is refused."""
    stop = pd.read_csv(data_dir / "accessnow-stop/stop_combined_2016-2025_snapshot-2026-05-20.csv", dtype=str,
                       keep_default_na=False)
    ioda = pd.read_csv(data_dir / "ioda-outages/ioda_investigated_outages_cleaned_phase1+2.csv", dtype=str,
                       keep_default_na=False)
    names = {n.strip() for cell in stop["country"] for n in cell.split(";")} | set(ioda["Country"])
    refused = set()
    for name in names:
        try:
            country_code(name)
        except InputError:
            refused.add(name)
    assert refused == {"European Union"}
    assert len(names) > 200


def test_aliases_point_at_real_iso_codes():
    for code in ALIASES.values():
        assert country_code(code) == code


@pytest.mark.parametrize("cc, zone", [
    ("TJ", "Asia/Dushanbe"), ("IR", "Asia/Tehran"), ("MM", "Asia/Yangon"), ("BY", "Europe/Minsk"),
    ("RU", "Europe/Moscow"), ("US", "America/New_York"), ("BR", "America/Sao_Paulo"), ("CD", "Africa/Kinshasa"),
    ("ID", "Asia/Jakarta"), ("KZ", "Asia/Almaty"), ("UA", "Europe/Kyiv"), ("Iran", "Asia/Tehran"),
])
def test_country_timezone_is_the_capitals_zone(cc, zone):
    assert country_timezone(cc) == zone


def test_capital_overrides_and_all_zones_exist_in_tzdata():
    for cc in CAPITAL_ZONES:
        ZoneInfo(country_timezone(cc))
    for cc in ("TJ", "KG", "AF", "SO", "PS", "CW", "NC"):
        ZoneInfo(country_timezone(cc))


def test_country_timezone_of_unknown_country_raises():
    with pytest.raises(InputError, match="unknown country 'Atlantis'"):
        country_timezone("Atlantis")
