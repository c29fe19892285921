"""Marketo rows (CSV strings or REST JSON) become Avro-ready dicts that fastavro encodes."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from marketo_stream.schema import RowConverter, ValueConversionError, activity_table, lead_table
from tests.schema.test_tables import LEAD_FIELDS, VISIT_WEBPAGE

LEADS = lead_table(LEAD_FIELDS)
VISITS = activity_table(VISIT_WEBPAGE)
MAY_21 = int(datetime(2015, 5, 21, 22, 45, 13, tzinfo=UTC).timestamp() * 1000)


def _encodes(schema: dict[str, Any], record: dict[str, Any]) -> None:
    fastavro.schemaless_writer(io.BytesIO(), fastavro.parse_schema(schema), record)


def test_a_csv_lead_row_converts_to_typed_values() -> None:
    row = {
        "id": "318581",
        "email": "null",
        "firstName": "Abraham",
        "createdAt": "2015-05-21T22:45:13Z",
        "dateOfBirth": "1970-01-11",
        "annualRevenue": "1604.47",
        "leadScore": "12.0",
        "unsubscribed": "false",
        "Favourite_Colour__c": "",
    }
    record = RowConverter(LEADS.value_schema)(row)
    assert record == {
        "id": 318581,
        "email": None,
        "first_name": "Abraham",
        "created_at": MAY_21,
        "date_of_birth": 10,
        "annual_revenue": Decimal("1604.47"),
        "lead_score": 12,
        "unsubscribed": False,
        "favourite_colour_c": "",
    }
    _encodes(LEADS.value_schema, record)


def test_a_rest_lead_row_with_json_types_and_missing_fields_converts() -> None:
    record = RowConverter(LEADS.value_schema)({"id": 7, "unsubscribed": True, "annualRevenue": 10, "leadScore": 3})
    assert record["id"] == 7 and record["unsubscribed"] is True
    assert record["annual_revenue"] == Decimal("10.00")
    assert record["first_name"] is None and record["created_at"] is None


@pytest.mark.parametrize(
    "text",
    ["2015-05-21T22:45:13Z+0000", "2015-05-21T22:45:13+0000", "2015-05-21T22:45:13Z", "2015-05-21T15:45:13-07:00"],
)
def test_every_marketo_datetime_form_means_the_same_instant(text: str) -> None:
    assert RowConverter(LEADS.value_schema)({"id": 1, "createdAt": text})["created_at"] == MAY_21


def test_a_datetime_without_offset_is_utc_and_a_date_only_value_is_midnight() -> None:
    convert = RowConverter(LEADS.value_schema)
    assert convert({"id": 1, "createdAt": "2015-05-21T22:45:13"})["created_at"] == MAY_21
    assert convert({"id": 1, "createdAt": "1970-01-02"})["created_at"] == 86_400_000


@pytest.mark.parametrize(
    "attributes",
    [
        '{"Client IP Address":"10.0.19.252","Query Parameters":"","Webpage URL":"/munchkintest2.html"}',
        [
            {"name": "Client IP Address", "value": "10.0.19.252"},
            {"name": "Query Parameters", "value": ""},
            {"name": "Webpage URL", "value": "/munchkintest2.html"},
        ],
        {"Client IP Address": "10.0.19.252", "Query Parameters": "", "Webpage URL": "/munchkintest2.html"},
    ],
    ids=["csv-json-object", "rest-name-value-list", "mapping"],
)
def test_activity_attributes_are_read_from_each_marketo_shape(attributes: object) -> None:
    row = {
        "marketoGUID": "102988",
        "leadId": 1,
        "activityDate": "2023-01-16T23:32:19Z",
        "activityTypeId": 1,
        "primaryAttributeValueId": "71",
        "primaryAttributeValue": "localhost/munchkintest2.html",
        "campaignId": "null",
        "attributes": attributes,
    }
    record = RowConverter(VISITS.value_schema)(row)
    assert record["client_ip_address"] == "10.0.19.252"
    assert record["query_parameters"] == ""
    assert record["webpage_url"] == "/munchkintest2.html"
    assert record["primary_attribute_value_id"] == 71 and record["campaign_id"] is None
    _encodes(VISITS.value_schema, record)


def test_structured_values_in_string_columns_become_compact_json() -> None:
    merge = {"id": 32, "name": "Merge Leads", "attributes": [{"name": "Merge IDs", "dataType": "string"}]}
    table = activity_table(merge)
    record = RowConverter(table.value_schema)({"marketoGUID": "9", "attributes": {"Merge IDs": [1, 2]}})
    assert record["merge_ids"] == "[1,2]"


def test_a_value_that_does_not_fit_names_the_column() -> None:
    with pytest.raises(ValueConversionError) as raised:
        RowConverter(LEADS.value_schema)({"id": 1, "unsubscribed": "maybe"})
    assert raised.value.column == "unsubscribed" and raised.value.value == "maybe"


def test_a_row_without_its_key_is_refused() -> None:
    with pytest.raises(ValueConversionError, match="key"):
        RowConverter(VISITS.value_schema)({"leadId": 1, "marketoGUID": "null"})


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("12345678.91", "12345678.91"),
        (12345678.91, "12345678.91"),
        (0.1, "0.10"),
        (7, "7.00"),
        ("-0.005", "-0.00"),
        ("0.015", "0.02"),
        ("9999999999999999.99", "9999999999999999.99"),
    ],
)
def test_a_currency_value_becomes_an_exact_decimal_of_two_places(given: object, expected: str) -> None:
    table = lead_table([{"name": "id", "dataType": "integer"}, {"name": "budget", "dataType": "currency"}])
    converted = RowConverter(table.value_schema)({"id": 1, "budget": given})["budget"]
    assert converted == Decimal(expected) and str(converted) == expected


@pytest.mark.parametrize("given", ["10000000000000000.00", "abc", "NaN", "1e400"])
def test_a_currency_value_that_fits_no_decimal_18_2_is_refused_naming_the_column(given: str) -> None:
    table = lead_table([{"name": "id", "dataType": "integer"}, {"name": "budget", "dataType": "currency"}])
    with pytest.raises(ValueConversionError, match="budget"):
        RowConverter(table.value_schema)({"id": 1, "budget": given})
