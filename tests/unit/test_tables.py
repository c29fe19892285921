from marketo_stream.schema import FIXED_TABLES as FIXED_SCHEMAS
from marketo_stream.schema import fixed_table as fixed_schema
from marketo_stream.tables import FIXED_TABLES, LEAD_TABLE, Schema, activity_table, custom_object_table, fixed_table


def test_every_fixed_table_in_the_catalog_has_a_schema_file_and_a_key() -> None:
    names = {spec.name for spec in FIXED_TABLES}
    assert names == set(FIXED_SCHEMAS)
    for spec in FIXED_TABLES:
        assert spec.schema is Schema.FIXED
        assert fixed_schema(spec.name).key_fields, spec.name


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
