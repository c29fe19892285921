from collections import Counter

from marketo_stream.sandbox import truth
from marketo_stream.schema import fixed_table as fixed_schema
from marketo_stream.schema import schema_file_names
from marketo_stream.schema.fixed import schemas_dir
from marketo_stream.tables import FIXED_TABLES, LEAD_TABLE, Schema, activity_table, custom_object_table, fixed_table


def test_every_fixed_table_in_the_catalog_has_exactly_one_schema_file_and_a_key() -> None:
    fixed = [spec.name for spec in (*FIXED_TABLES, LEAD_TABLE) if spec.schema is Schema.FIXED]
    assert fixed == [spec.name for spec in FIXED_TABLES], "the fixed catalog holds the tables with fixed schemas"
    assert [name for name, n in Counter(fixed).items() if n > 1] == []
    files = Counter(path.stem.lower() for path in schemas_dir().iterdir() if path.suffix == ".avsc")
    assert [name for name, n in files.items() if n > 1] == [], "one file per table, whatever the case"
    for name in fixed:
        assert fixed_schema(name).key_fields, name


def test_every_schema_file_is_a_table_of_the_fixed_catalog() -> None:
    assert set(schema_file_names()) == {spec.name for spec in FIXED_TABLES}
    assert [p.name for p in schemas_dir().iterdir() if p.suffix != ".avsc"] == []


def test_activity_and_custom_object_tables_are_named_by_the_schema_layers_one_mapping() -> None:
    assert activity_table(1, "Visit Webpage").name == "activity_visit_webpage"
    assert activity_table(100001, "Attended Webinar (custom)").name == "activity_attended_webinar_custom"
    assert custom_object_table("car_c").name == "custom_object_car_c"
    assert not activity_table(1, "Visit Webpage").compacted


def test_unknown_tables_are_refused_with_the_known_names() -> None:
    assert fixed_table("lead") is LEAD_TABLE
    try:
        fixed_table("nope")
    except KeyError as exc:
        assert "program" in str(exc)
    else:
        raise AssertionError("expected KeyError")


def test_the_sandbox_serves_a_ground_truth_for_every_fixed_table() -> None:
    """The sandbox imports nothing of the catalog (it stands for Marketo), so its own table list is held to it here."""
    assert {spec.name for spec in (*FIXED_TABLES, LEAD_TABLE)} <= set(truth.table_names())
