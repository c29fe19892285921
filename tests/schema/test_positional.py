"""The generated bulk-row converter gives RowConverter's values and errors for every row, with column policies."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from marketo_stream.schema import RowConverter, ValueConversionError, activity_table, lead_table
from marketo_stream.schema.positional import positional_converter
from marketo_stream.schema.types import CURRENCY
from marketo_stream.transform import ColumnPolicy, hashers, hmac_hex, row_transform

LEAD = lead_table(
    [
        {"name": "id", "dataType": "integer"},
        {"name": "email", "dataType": "email"},
        {"name": "createdAt", "dataType": "datetime"},
        {"name": "dateOfBirth", "dataType": "date"},
        {"name": "annualRevenue", "dataType": "currency"},
        {"name": "leadScore", "dataType": "score"},
        {"name": "unsubscribed", "dataType": "boolean"},
        {"name": "notes", "dataType": "text"},
    ]
)
PURCHASE = activity_table(
    {
        "id": 100002,
        "name": "Purchase Product",
        "primaryAttribute": {"name": "Product SKU", "dataType": "string"},
        "attributes": [
            {"name": "Amount", "dataType": "currency"},
            {"name": "Quantity", "dataType": "integer"},
            {"name": "Gift", "dataType": "boolean"},
            {"name": "Order Date", "dataType": "datetime"},
            {"name": "Ship Date", "dataType": "date"},
            {"name": "Coupon", "dataType": "string"},
        ],
    }
)
TEXT: dict[str, list[str]] = {
    "integer": ["1", "-7", "9007199254740993", "42.7", "1e3", " 12 ", "1_000", "abc", "", "null"],
    "datetime": [
        "2015-05-21T22:45:13Z",
        "2015-05-21T22:45:13.250Z",
        "2015-05-21T22:45:13Z+0000",
        "2015-05-21T15:45:13-07:00",
        "2015-05-21T22:45:13",
        "2015-05-21",
        "2015-13-21T22:45:13Z",
        "",
        "null",
    ],
    "date": ["1970-01-11", "1906-12-09", "2015-05-21T22:45:13Z", "1970-02-30", "", "null"],
    "currency": ["1604.47", "-0.5", "3", "1e308", "-inf", "€5", "", "null"],
    "boolean": ["true", "false", "TRUE", " Yes ", "n", "1", "0", "maybe", "", "null"],
    "string": ["Ada", "", "null", "Käufer — 日本", "a,b\r\nc", " "],
}
TEXT["score"] = TEXT["integer"]
TEXT["email"] = TEXT["text"] = TEXT["string"]
JSON: dict[str, list[Any]] = {
    "integer": [5, -5, 5.9, "17", "17.5", True, "x", None, [1]],
    "datetime": ["2026-09-01T10:11:12Z", 1_790_000_000_000, "yesterday", None],
    "date": ["2026-09-01", 20_000, "2026-09-31", None],
    "currency": [13.37, 13, "13.5", True, "x", None],
    "boolean": [True, False, 1, 0, "true", "nope", 2, None],
    "string": ["SAVE10", "", "null", 10, 1.5, True, {"a": [1]}, ["x"], None],
}


def marketo_types(table: Any) -> dict[str, str]:
    return {f["marketo_name"]: f["marketo_type"] for f in table.value_schema["fields"] if "marketo_name" in f}


def random_row(chance: random.Random, table: Any, header: list[str], p_odd: float) -> list[Any]:
    types = marketo_types(table)
    attributes = {
        f["marketo_name"]: chance.choice(JSON[f["marketo_type"]])
        for f in table.value_schema["fields"]
        if f.get("marketo_attribute") and chance.random() < 0.8
    }
    row: list[Any] = []
    for name in header:
        if name == "attributes":
            row.append(chance.choice([attributes, attributes, None, [{"name": "Coupon", "value": "X"}]]))
        elif name in types:
            values = TEXT[types[name]]
            row.append(chance.choice(values if chance.random() < p_odd else values[:2]))
        else:
            row.append(chance.choice(["whatever", "", "null"]))
    return row


def expected(table: Any, header: list[str], row: list[Any], policy: ColumnPolicy) -> list[Any] | str:
    """RowConverter over the row as the dict reader gives it, then the policy; or the error it raises."""
    plain = {name: None if v == "" or v == "null" else v for name, v in zip(header, row, strict=True)}
    try:
        converted = row_transform(policy)(RowConverter(table.value_schema)(plain))
    except ValueConversionError as exc:
        return str(exc)
    return [converted.get(f["name"]) for f in table.value_schema["fields"] if f["name"] not in policy.blocked]


def converted(convert: Any, row: list[Any]) -> list[Any] | str:
    try:
        result: list[Any] = convert(row)
    except ValueConversionError as exc:
        return str(exc)
    return result


HEADERS = {
    "lead": (LEAD, ["id", "email", "createdAt", "dateOfBirth", "annualRevenue", "leadScore", "unsubscribed", "notes"]),
    "lead, shuffled, extra and missing columns": (
        LEAD,
        ["notes", "company", "unsubscribed", "id", "createdAt", "annualRevenue", "leadScore", "email"],
    ),
    "activity": (
        PURCHASE,
        [
            "marketoGUID",
            "leadId",
            "activityDate",
            "activityTypeId",
            "campaignId",
            "primaryAttributeValueId",
            "primaryAttributeValue",
            "attributes",
        ],
    ),
    "activity without attributes": (PURCHASE, ["marketoGUID", "activityDate", "leadId"]),
}
POLICIES = {
    "none": ColumnPolicy(),
    "blocked and hashed": ColumnPolicy(
        blocked=frozenset({"email", "campaign_id", "coupon"}),
        hashed=frozenset({"id", "notes", "marketo_guid", "amount", "order_date"}),
        secret=b"s3cret",
    ),
}


@pytest.mark.parametrize("policy_name", POLICIES)
@pytest.mark.parametrize("case", HEADERS)
@pytest.mark.parametrize("p_odd", [0.0, 0.3, 1.0])
def test_random_rows_convert_as_row_converter_and_the_policy_convert_them(
    case: str, policy_name: str, p_odd: float
) -> None:
    table, header = HEADERS[case]
    known = {f["name"] for f in table.value_schema["fields"]}
    base = POLICIES[policy_name]
    policy = ColumnPolicy(base.blocked & known, base.hashed & known, base.secret)
    convert = positional_converter(table.value_schema, header, omit=policy.blocked, finish=hashers(policy))
    chance = random.Random(f"{case}{policy_name}{p_odd}")
    outcomes = set()
    for _ in range(400):
        row = random_row(chance, table, header, p_odd)
        want = expected(table, header, row, policy)
        assert converted(convert, row) == want, row
        outcomes.add(isinstance(want, str))
    if p_odd == 1.0:
        assert outcomes == {True, False}, "both conversions and rejections were compared"


def test_a_bad_value_is_rejected_naming_its_column() -> None:
    header = ["id", "leadScore", "unsubscribed"]
    convert = positional_converter(LEAD.value_schema, header)
    with pytest.raises(ValueConversionError) as caught:
        convert(["7", "12", "maybe"])
    assert (caught.value.column, caught.value.marketo_name, caught.value.value) == (
        "unsubscribed",
        "unsubscribed",
        "maybe",
    )
    with pytest.raises(ValueConversionError, match=r"'id'.*key column is missing"):
        convert(["null", "12", "true"])


def test_uncommon_forms_take_the_careful_path_and_convert_all_the_same() -> None:
    header = ["id", "leadScore", "unsubscribed", "createdAt"]
    convert = positional_converter(LEAD.value_schema, header)
    names = [f["name"] for f in LEAD.value_schema["fields"]]
    values = dict(zip(names, convert(["7", "12.9", " TRUE ", "2015-05-21T22:45:13Z+0000"]), strict=True))
    assert (values["id"], values["lead_score"], values["unsubscribed"]) == (7, 12, True)
    assert values["created_at"] == 1432248313000


def test_blocked_columns_are_left_out_and_hashed_ones_hashed() -> None:
    policy = ColumnPolicy(blocked=frozenset({"notes"}), hashed=frozenset({"id", "email"}), secret=b"k")
    header = ["id", "email", "notes"]
    convert = positional_converter(LEAD.value_schema, header, omit=policy.blocked, finish=hashers(policy))
    names = [f["name"] for f in LEAD.value_schema["fields"] if f["name"] != "notes"]
    values = dict(zip(names, convert(["7", "ada@example.com", "private"]), strict=True))
    assert values["id"] == hmac_hex(b"k", 7)
    assert values["email"] == hmac_hex(b"k", "ada@example.com")
    assert "notes" not in values and "private" not in str(values)


def test_currency_columns_and_attributes_become_decimals_on_the_fast_path() -> None:
    schema = {
        "type": "record",
        "name": "Purchase",
        "marketo_key": ["id"],
        "fields": [
            {"name": "id", "type": "long", "marketo_name": "id"},
            {"name": "budget", "type": ["null", CURRENCY], "marketo_name": "budget"},
            {"name": "amount", "type": ["null", CURRENCY], "marketo_name": "Amount", "marketo_attribute": True},
        ],
    }
    convert = positional_converter(schema, ["id", "budget", "attributes"])
    assert convert(["1", "12345678.91", {"Amount": 3.5}]) == [1, Decimal("12345678.91"), Decimal("3.50")]
    assert convert(["2", "null", None]) == [2, None, None]
    assert convert(["3", "", {"Amount": "0.015"}]) == [3, None, Decimal("0.02")]
