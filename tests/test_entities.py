import pytest

from monitor.entities import Entity, parse_datasource, parse_entity
from monitor.errors import InputError


@pytest.mark.parametrize("text,canonical", [
    ("country/TJ", "country/TJ"), ("country/tj", "country/TJ"), ("asn/44244", "asn/44244"),
    ("asn/AS44244", "asn/44244"), ("region/4488", "region/4488"), ("continent/AS", "continent/AS"),
    (" country / IR ", "country/IR"), ("region/IR-07", "region/IR-07"), ("region/ir-07", "region/IR-07"),
    ("region/bago", "region/bago"), ("region/mm_bago-2021", "region/mm_bago-2021"),
])
def test_entities_normalise(text, canonical):
    assert parse_entity(text) == canonical


@pytest.mark.parametrize("text", ["TJ", "country/TJK", "countries/TJ", "asn/abc", "region/-x", "region/a b",
                                  "region/" + "x" * 65, "a/b/c", ""])
def test_malformed_entity_is_one_line_naming_it(text):
    with pytest.raises(InputError) as info:
        parse_entity(text)
    assert repr(text) in str(info.value) and "\n" not in str(info.value)


def test_entity_parts():
    e = Entity.parse("country/IR")
    assert (e.type, e.code, e.country, str(e)) == ("country", "IR", "IR", "country/IR")
    assert Entity.parse("asn/1").country is None
    assert Entity.parse("region/IR-07").country == "IR"  # ISO 3166-2: the country is in the code
    assert Entity.parse("region/4488").country is None and Entity.parse("region/bago").country is None


def test_datasource_names():
    assert parse_datasource("ping-slash24") == "ping-slash24"
    assert parse_datasource("my.own_signal-2") == "my.own_signal-2"
    for bad in ["", "Ping", "a b", "x" * 70, "-x"]:
        with pytest.raises(InputError):
            parse_datasource(bad)
