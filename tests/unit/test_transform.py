import pytest

from marketo_stream.errors import ConfigError
from marketo_stream.schema import lead_table
from marketo_stream.transform import ColumnPolicy, apply_to_table, hmac_hex, policy_for, row_transform

LEAD = lead_table(
    [
        {"name": "id", "dataType": "integer"},
        {"name": "email", "dataType": "email"},
        {"name": "firstName", "dataType": "string"},
        {"name": "score", "dataType": "integer"},
    ]
)


def test_a_blocked_column_is_absent_from_the_schema_and_the_rows() -> None:
    policy = policy_for(LEAD, blocked_columns={"lead": ["firstName"]}, hashed_columns={}, secret=None)
    table = apply_to_table(LEAD, policy)
    assert "first_name" not in [f["name"] for f in table.value_schema["fields"]]
    assert row_transform(policy)({"id": 1, "first_name": "Ada", "email": "a@x"}) == {"id": 1, "email": "a@x"}


def test_a_hashed_column_becomes_a_string_hmac_equal_for_equal_inputs() -> None:
    policy = policy_for(LEAD, blocked_columns={}, hashed_columns={"lead": ["email", "id"]}, secret="s3cret")
    table = apply_to_table(LEAD, policy)
    types = {f["name"]: f["type"] for f in table.value_schema["fields"]}
    assert types["email"] == ["null", "string"]
    assert table.key_schema["fields"] == [{"name": "id", "type": "string", "marketo_hashed": True}]
    transform = row_transform(policy)
    a = transform({"id": 7, "email": "ada@example.com", "score": 3})
    b = transform({"id": 7, "email": "ada@example.com", "score": 4})
    assert a["email"] == b["email"] == hmac_hex(b"s3cret", "ada@example.com")
    assert "ada@example.com" not in str(a)
    assert a["id"] == transform({"id": 7})["id"], "a tombstone's key hashes like its record's"
    assert a["score"] == 3


def test_key_columns_cannot_be_blocked() -> None:
    policy = ColumnPolicy(blocked=frozenset({"id"}))
    with pytest.raises(ConfigError, match="key column"):
        apply_to_table(LEAD, policy)


def test_unknown_columns_and_a_missing_secret_are_config_errors_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"block.columns.lead: no column 'nope'"):
        policy_for(LEAD, blocked_columns={"lead": ["nope"]}, hashed_columns={}, secret=None)
    policy = policy_for(LEAD, blocked_columns={}, hashed_columns={"lead": ["email"]}, secret=None)
    with pytest.raises(ConfigError, match=r"hash\.secret"):
        row_transform(policy)
