"""JSON for volume: msgspec's speed, the json module's reach and messages, and stable bytes for equal values."""

from __future__ import annotations

import json
import math

import pytest

from marketo_stream.jsontext import dumps_sorted, loads
from marketo_stream.sync.entities import fingerprint, key_text


def test_what_msgspec_refuses_is_read_as_the_json_module_reads_it() -> None:
    assert math.isnan(loads('{"score": NaN}')["score"])
    assert loads(b'{"id": 123456789012345678901234567890}') == {"id": 123456789012345678901234567890}


def test_text_that_is_not_json_raises_the_json_modules_value_error() -> None:
    with pytest.raises(ValueError, match="Expecting"):
        loads(b'{"a": 1,')


def test_keys_are_sorted_so_equal_values_give_equal_bytes() -> None:
    assert dumps_sorted({"b": 1, "a": {"d": None, "c": "é"}}) == '{"a":{"c":"é","d":null},"b":1}'.encode()
    assert fingerprint({"b": 1, "a": 2}) == fingerprint({"a": 2, "b": 1}) != fingerprint({"a": 2, "b": 3})


def test_a_type_json_lacks_is_refused_unless_written_as_text() -> None:
    with pytest.raises(TypeError):
        dumps_sorted({"z": complex(1, 2)})
    assert dumps_sorted({"z": complex(1, 2)}, unknown_as_text=True) == b'{"z":"(1+2j)"}'


@pytest.mark.parametrize("key", [{"id": 7}, {"lead_id": 3, "list_id": 1002}, {"guid": "ab-ç", "id": 1}, {"f": True}])
def test_key_text_is_the_json_of_the_values_in_name_order_as_state_has_always_named_rows(key: dict) -> None:
    assert key_text(key) == json.dumps([key[name] for name in sorted(key)], separators=(",", ":"))
