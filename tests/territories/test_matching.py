"""Table-driven matching: each rule kind, zip patterns, bounds, hierarchy, every tie-break, exclusions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from territories import services
from territories.engine import TerritoryIndex, parse_zip_entry
from territories.matching import CACHE_KEY, territory_match
from territories.models import Territory, TerritoryModel


def build(specs):
    """Create territories from (name, fields) in order; `parent` names an earlier one."""
    made = {}
    for name, given in specs:
        fields = dict(given)
        if "parent" in fields:
            fields["parent"] = made[fields["parent"]]
        created_at = fields.pop("created_at", None)
        made[name] = services.territory_create(actor=None, name=name, **fields)
        if created_at is not None:
            Territory.objects.filter(pk=made[name].pk).update(created_at=created_at)
    return made


CASES = [
    # id, territories, record, expected winner (None: no territory)
    ("country matches", [("NA", {"countries": ["US", "CA"]})], {"country": "US"}, "NA"),
    ("country case-insensitive", [("NA", {"countries": ["US"]})], {"country": "us"}, "NA"),
    ("country fails", [("NA", {"countries": ["US", "CA"]})], {"country": "DE"}, None),
    ("country missing fails", [("NA", {"countries": ["US"]})], {"state": "CA"}, None),
    ("state matches", [("West", {"states": ["CA", "WA"]})], {"state": "WA"}, "West"),
    ("state fails", [("West", {"states": ["CA", "WA"]})], {"state": "NY"}, None),
    ("industry case-insensitive", [("Tech", {"industry": "Technology"})], {"industry": "TECHNOLOGY "}, "Tech"),
    ("industry fails", [("Tech", {"industry": "technology"})], {"industry": "retail"}, None),
    ("zip exact", [("SF", {"zip_codes": ["94107"]})], {"postal_code": "94107"}, "SF"),
    ("zip exact with plus-four", [("SF", {"zip_codes": ["94107"]})], {"postal_code": "94107-1234"}, "SF"),
    ("zip exact fails", [("SF", {"zip_codes": ["94107"]})], {"postal_code": "94108"}, None),
    ("zip prefix", [("SF", {"zip_codes": ["941*"]})], {"postal_code": "94110"}, "SF"),
    ("zip prefix fails", [("SF", {"zip_codes": ["941*"]})], {"postal_code": "94210"}, None),
    ("zip range low edge", [("SF", {"zip_codes": ["94100-94199"]})], {"postal_code": "94100"}, "SF"),
    ("zip range high edge", [("SF", {"zip_codes": ["94100-94199"]})], {"postal_code": "94199"}, "SF"),
    ("zip range outside", [("SF", {"zip_codes": ["94100-94199"]})], {"postal_code": "94200"}, None),
    ("zip alphanumeric prefix", [("London", {"zip_codes": ["EC1*"]})], {"postal_code": "ec1a 1bb"}, "London"),
    ("employees lower bound inclusive", [("Mid", {"min_employee_count": 100, "max_employee_count": 500})],
     {"employee_count": 100}, "Mid"),
    ("employees upper bound inclusive", [("Mid", {"min_employee_count": 100, "max_employee_count": 500})],
     {"employee_count": 500}, "Mid"),
    ("employees above", [("Mid", {"min_employee_count": 100, "max_employee_count": 500})],
     {"employee_count": 501}, None),
    ("employees open upper bound", [("Big", {"min_employee_count": 1000})], {"employee_count": 250000}, "Big"),
    ("employees open lower bound", [("Small", {"max_employee_count": 50})], {"employee_count": 0}, "Small"),
    ("employees unknown fails a bound", [("Small", {"max_employee_count": 50})], {}, None),
    ("revenue inclusive", [("Ent", {"min_annual_revenue": "1000000.00"})], {"annual_revenue": "1000000"}, "Ent"),
    ("revenue below", [("Ent", {"min_annual_revenue": "1000000.00"})], {"annual_revenue": 999999.99}, None),
    ("rules are ANDed", [("WT", {"states": ["CA"], "industry": "technology"})],
     {"state": "CA", "industry": "retail"}, None),
    ("no rules takes everything", [("All", {})], {"country": "JP"}, "All"),
    # hierarchy
    ("deepest wins", [("NA", {"countries": ["US"]}), ("West", {"parent": "NA", "states": ["CA"]})],
     {"country": "US", "state": "CA"}, "West"),
    ("child needs its parent", [("NA", {"countries": ["US"]}), ("West", {"parent": "NA", "states": ["CA"]})],
     {"country": "MX", "state": "CA"}, None),
    ("grandchild three levels", [("NA", {"countries": ["US"]}), ("West", {"parent": "NA", "states": ["CA"]}),
                                 ("Bay", {"parent": "West", "zip_codes": ["94*"]})],
     {"country": "US", "state": "CA", "postal_code": "94107"}, "Bay"),
    ("falls back to parent", [("NA", {"countries": ["US"]}), ("West", {"parent": "NA", "states": ["CA"]})],
     {"country": "US", "state": "NY"}, "NA"),
    # tie-breaks, each step
    ("more criteria wins", [("A", {"countries": ["US"]}), ("B", {"countries": ["US"], "industry": "tech"})],
     {"country": "US", "industry": "tech"}, "B"),
    ("depth beats criteria", [("A", {"countries": ["US"], "states": ["CA"], "industry": "tech"}),
                              ("P", {"countries": ["US"]}), ("C", {"parent": "P"})],
     {"country": "US", "state": "CA", "industry": "tech"}, "C"),
    ("higher priority wins", [("A", {"countries": ["US"], "priority": 1}), ("B", {"countries": ["US"], "priority": 5})],
     {"country": "US"}, "B"),
    ("criteria beat priority", [("A", {"countries": ["US"], "priority": 99}),
                                ("B", {"countries": ["US"], "states": ["CA"], "priority": 0})],
     {"country": "US", "state": "CA"}, "B"),
    ("older wins", [("Young", {"countries": ["US"], "created_at": timezone.now()}),
                    ("Old", {"countries": ["US"], "created_at": timezone.now() - timedelta(days=30)})],
     {"country": "US"}, "Old"),
    ("inactive never matches", [("Off", {"countries": ["US"], "is_active": False}), ("All", {})],
     {"country": "US"}, "All"),
    ("child of inactive never matches", [("Off", {"countries": ["US"], "is_active": False}),
                                          ("Kid", {"parent": "Off", "states": ["CA"]})],
     {"country": "US", "state": "CA"}, None),
]


@pytest.mark.django_db
@pytest.mark.parametrize("territories,record,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_match(territories, record, expected):
    # Given the territories of the active model
    build(territories)
    # When a record is matched
    result = territory_match(record)
    # Then the expected territory wins, and the explanation names it
    assert (result.territory.name if result.territory else None) == expected
    if expected:
        assert result.reason.startswith(f"territory {expected}")
        assert any(c["name"] == expected and c["outcome"].startswith("won") for c in result.explanation)
    else:
        assert result.reason == "no territory matches"


@pytest.mark.django_db
def test_same_creation_time_ties_break_on_id_so_a_record_always_gets_a_territory():
    now = timezone.now()
    made = build([("First", {"countries": ["US"], "created_at": now}), ("Second", {"countries": ["US"], "created_at": now})])
    result = territory_match({"country": "US"})
    assert result.territory.pk == min(t.pk for t in made.values())
    assert "lower id" in result.explanation[0]["outcome"]


@pytest.mark.django_db
def test_planning_model_territories_never_match():
    build([("Live", {"countries": ["US"]})])
    plan = TerritoryModel.objects.create(name="Draft", state="planning")
    services.territory_create(actor=None, name="Draft West", model=plan, countries=["US"], states=["CA"])
    assert territory_match({"country": "US", "state": "CA"}).territory.name == "Live"


@pytest.mark.django_db
def test_explanation_lists_candidates_with_rules_and_why_the_winner_won():
    build([("North America", {"countries": ["US", "CA"]}),
           ("US West Tech", {"parent": "North America", "states": ["CA", "WA"], "industry": "technology"})])
    result = territory_match({"country": "US", "state": "CA", "industry": "Technology"})
    assert result.territory.name == "US West Tech"
    assert result.reason == "territory US West Tech: state CA, industry technology"
    by_name = {c["name"]: c for c in result.explanation}
    assert by_name["US West Tech"]["outcome"].startswith("won: deeper in the hierarchy")
    assert by_name["North America"]["outcome"].startswith("lost to US West Tech")
    assert [r["detail"] for r in by_name["US West Tech"]["rules"]] == [
        "state CA is in CA, WA", "industry technology is technology"]

    ny = territory_match({"country": "US", "state": "NY", "industry": "technology"})
    assert ny.territory.name == "North America"
    failed = {c["name"]: c for c in ny.explanation}["US West Tech"]
    assert failed["matched"] is False
    assert failed["outcome"] == "did not match: state NY is not in CA, WA"


@pytest.mark.django_db
def test_index_is_cached_and_dropped_when_a_territory_changes(django_capture_on_commit_callbacks):
    from django.core.cache import cache

    made = build([("West", {"states": ["CA"]})])
    assert territory_match({"state": "OR"}).territory is None
    assert cache.get(CACHE_KEY) is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.territory_update(actor=None, territory=made["West"], states=["CA", "OR"])
    assert territory_match({"state": "OR"}).territory.name == "West"


@pytest.mark.parametrize("entry,parsed", [
    ("94107", ("exact", "94107", "")), ("941*", ("prefix", "941", "")), ("94100-94199", ("range", "94100", "94199")),
    ("94107-1234", ("exact", "94107-1234", "")), (" sw1a 1aa ", ("exact", "SW1A1AA", "")),
])
def test_zip_entries_parse(entry, parsed):
    assert parse_zip_entry(entry) == parsed


@pytest.mark.parametrize("entry", ["", "*", "9*4", "94199-94100"])
def test_bad_zip_entries_are_refused(entry):
    with pytest.raises(ValueError):
        parse_zip_entry(entry)


def test_engine_matches_one_record_among_a_thousand_territories():
    rows = [{"id": i, "name": f"T{i}", "states": [f"S{i % 50}"], "zip_codes": [f"{i:03d}*"]} for i in range(1, 1001)]
    index = TerritoryIndex(rows)
    assert index.match_id({"state": "S7", "postal_code": "00712"}) == 7
    assert index.match_id({"state": "S8", "postal_code": "00712"}) is None
