"""Schemas generated from Marketo metadata: types, keys, nullability, evolution, and the fixed tables."""

from __future__ import annotations

import json
import logging
from typing import Any

import fastavro
import pytest

from marketo_stream.schema import (
    activity_table,
    avro_type,
    custom_object_table,
    fixed_table,
    lead_table,
    schema_file_names,
)

LEAD_FIELDS = [
    {"name": "id", "displayName": "Id", "dataType": "integer"},
    {"name": "email", "displayName": "Email Address", "dataType": "email"},
    {"name": "firstName", "displayName": "First Name", "dataType": "string"},
    {"name": "createdAt", "displayName": "Created At", "dataType": "datetime"},
    {"name": "dateOfBirth", "displayName": "Date of Birth", "dataType": "date"},
    {"name": "annualRevenue", "displayName": "Annual Revenue", "dataType": "currency"},
    {"name": "leadScore", "displayName": "Lead Score", "dataType": "score"},
    {"name": "unsubscribed", "displayName": "Unsubscribed", "dataType": "boolean"},
    {"name": "Favourite_Colour__c", "displayName": "Favourite Colour", "dataType": "picklist"},
]

VISIT_WEBPAGE = {
    "id": 1,
    "name": "Visit Webpage",
    "primaryAttribute": {"name": "Webpage ID", "dataType": "integer"},
    "attributes": [
        {"name": "Client IP Address", "dataType": "string"},
        {"name": "Query Parameters", "dataType": "string"},
        {"name": "Webpage URL", "dataType": "string"},
    ],
}

CAR = {
    "name": "car_c",
    "idField": "marketoGUID",
    "fields": [
        {"name": "marketoGUID", "displayName": "Marketo GUID", "dataType": "string"},
        {"name": "leadId", "displayName": "Lead", "dataType": "integer"},
        {"name": "vIN", "displayName": "VIN", "dataType": "string"},
        {"name": "price", "displayName": "Price", "dataType": "currency"},
    ],
}


def _field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


@pytest.mark.parametrize(
    ("marketo", "avro"),
    [
        ("datetime", {"type": "long", "logicalType": "timestamp-millis"}),
        ("date", {"type": "int", "logicalType": "date"}),
        ("integer", "long"),
        ("Integer", "long"),
        ("reference", "long"),
        ("float", "double"),
        ("currency", {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 2}),
        ("percent", "double"),
        ("boolean", "boolean"),
        ("string", "string"),
        ("text", "string"),
        ("email", "string"),
        ("url", "string"),
        ("phone", "string"),
        ("textarea", "string"),
    ],
)
def test_marketo_types_map_to_avro_types(marketo: str, avro: object) -> None:
    assert avro_type(marketo) == avro


def test_an_unknown_marketo_type_becomes_a_string_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert avro_type("hologram", "lead.x") == "string"
    assert "hologram" in caplog.text and "lead.x" in caplog.text


def test_lead_table_is_keyed_by_id_and_every_other_column_is_nullable_with_default_null() -> None:
    table = lead_table(LEAD_FIELDS)
    fastavro.parse_schema(table.value_schema)
    assert table.key_schema["fields"] == [{"name": "id", "type": "long"}]
    assert _field(table.value_schema, "id")["type"] == "long"
    others = [f for f in table.value_schema["fields"] if f["name"] != "id"]
    assert all(f["type"][0] == "null" and f["default"] is None for f in others)
    assert _field(table.value_schema, "favourite_colour_c")["marketo_name"] == "Favourite_Colour__c"
    assert _field(table.value_schema, "first_name")["doc"] == "First Name"
    assert _field(table.value_schema, "lead_score")["type"] == ["null", "long"]
    assert table.compacted


def test_activity_table_has_the_standard_columns_then_one_per_attribute() -> None:
    table = activity_table(VISIT_WEBPAGE)
    fastavro.parse_schema(table.value_schema)
    assert table.name == "activity_visit_webpage"
    assert [f["name"] for f in table.value_schema["fields"]] == [
        "marketo_guid",
        "lead_id",
        "activity_date",
        "activity_type_id",
        "campaign_id",
        "primary_attribute_value_id",
        "primary_attribute_value",
        "client_ip_address",
        "query_parameters",
        "webpage_url",
    ]
    assert table.key_schema["fields"] == [{"name": "marketo_guid", "type": "string"}]
    assert _field(table.value_schema, "client_ip_address")["marketo_attribute"] is True
    assert table.value_schema["marketo_primary_attribute"] == {"name": "Webpage ID", "dataType": "integer"}
    assert not table.compacted


def test_an_attribute_colliding_with_a_standard_column_gets_the_suffix() -> None:
    new_lead = {"id": 12, "name": "New Lead", "attributes": [{"name": "Lead ID", "dataType": "integer"}]}
    fields = activity_table(new_lead).value_schema["fields"]
    assert _field({"fields": fields}, "lead_id")["marketo_name"] == "leadId"
    assert _field({"fields": fields}, "lead_id_2")["marketo_name"] == "Lead ID"


def test_custom_object_table_is_keyed_by_its_id_field() -> None:
    describe = CAR
    table = custom_object_table(describe)
    assert table.name == "custom_object_car_c"
    assert table.key_schema["fields"] == [{"name": "marketo_guid", "type": "string"}]
    assert [f["name"] for f in table.value_schema["fields"]] == ["marketo_guid", "lead_id", "v_in", "price"]


def test_a_new_field_keeps_published_names_and_order_and_is_appended() -> None:
    v1 = lead_table(LEAD_FIELDS)
    v2 = lead_table([{"name": "First Name", "dataType": "string"}, *reversed(LEAD_FIELDS)], previous=v1.value_schema)
    names_v1 = [f["name"] for f in v1.value_schema["fields"]]
    names_v2 = [f["name"] for f in v2.value_schema["fields"]]
    assert names_v2 == [*names_v1, "first_name_2"]
    assert v2.key_schema == v1.key_schema


def test_generation_is_deterministic() -> None:
    assert json.dumps(lead_table(LEAD_FIELDS).value_schema) == json.dumps(lead_table(LEAD_FIELDS).value_schema)


@pytest.mark.parametrize("name", schema_file_names())
def test_every_fixed_table_parses_and_its_key_columns_are_required(name: str) -> None:
    table = fixed_table(name)
    fastavro.parse_schema(table.value_schema)
    fastavro.parse_schema(table.key_schema)
    for field in table.value_schema["fields"]:
        if field["name"] in table.key_fields:
            assert "null" not in (field["type"] if isinstance(field["type"], list) else [field["type"]])
        else:
            assert field["type"][0] == "null" and field["default"] is None, field


def test_a_table_without_a_schema_file_is_refused_naming_the_files_there_are() -> None:
    with pytest.raises(KeyError, match="program_membership"):
        fixed_table("no_such_table")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("program_membership", ("lead_id", "program_id")),
        ("list_membership", ("list_id", "lead_id")),
        ("opportunity_membership", ("marketo_guid",)),
        ("program_tag", ("program_id", "tag_type")),
        ("program_cost", ("program_id", "start_date", "note")),
        ("email_template_history", ("id", "updated_at")),
        ("campaign", ("id",)),
    ],
)
def test_fixed_tables_have_their_documented_keys(name: str, key: tuple[str, ...]) -> None:
    assert fixed_table(name).key_fields == key


def test_list_valued_activity_attributes_are_published_as_json_text() -> None:
    from marketo_stream.schema import RowConverter

    merge = {
        "id": 32,
        "name": "Merge Leads",
        "attributes": [
            {"name": "Merge IDs", "dataType": "integer"},
            {"name": "Merged in Sales", "dataType": "boolean"},
        ],
    }
    table = activity_table(merge)
    types = {f["name"]: f["type"] for f in table.value_schema["fields"]}
    assert types["merge_ids"] == ["null", "string"]
    row = {"marketoGUID": "1", "leadId": "5", "activityDate": "2026-01-01T00:00:00Z", "activityTypeId": "32",
           "attributes": '{"Merge IDs": [11, 12], "Merged in Sales": false}'}  # fmt: skip
    assert RowConverter(table.value_schema)(row)["merge_ids"] == "[11,12]"
