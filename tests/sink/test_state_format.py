"""The state envelope is versioned: this version reads its own format and refuses newer ones."""

from __future__ import annotations

import pytest

from marketo_stream.sink import StateFormatError
from marketo_stream.sink.state import STATE_FORMAT, decode_state, encode_state


def test_state_round_trips_inside_a_versioned_envelope() -> None:
    payload = encode_state({"done": [[0, 10]], "cursor": "GIYD"})
    assert b'"format":%d' % STATE_FORMAT in payload
    assert decode_state("lead", payload) == {"done": [[0, 10]], "cursor": "GIYD"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"format": 2, "state": {}}', "format 2"),
        (b'{"state": {}}', "no format"),
        (b"not json", "not JSON"),
        (b'{"format": 1, "state": []}', "no state object"),
    ],
)
def test_unreadable_state_is_refused_with_the_key_and_the_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(StateFormatError, match=reason) as raised:
        decode_state("lead", payload)
    assert raised.value.key == "lead"
