"""Sync state in a compacted topic: a versioned JSON envelope per key, read back with read_committed.

A state record's key is the state key as UTF-8; its value is ``{"format": 1, "state": {...}}``. A null
value (tombstone) resets the key. On start the topic is read from the beginning of every partition to its
end: only committed transactions are visible, and the last value per key wins. A record written by a newer
format is refused (``StateFormatError``) rather than misread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marketo_stream.jsontext import dumps_sorted, loads
from marketo_stream.sink.errors import StateFormatError
from marketo_stream.sink.readback import committed_records

STATE_FORMAT = 1


def encode_state(state: Mapping[str, Any]) -> bytes:
    """Compact JSON, keys sorted, by msgspec: an entity table's fingerprint shards are rewritten at every commit
    that changed them, which makes this the one state path that runs at volume."""
    return dumps_sorted({"format": STATE_FORMAT, "state": state})


def decode_state(key: str, payload: bytes) -> dict[str, Any]:
    try:
        envelope = loads(payload)
    except ValueError as exc:
        raise StateFormatError(key, f"not JSON: {exc}") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("format"), int):
        raise StateFormatError(key, "no format version in the envelope")
    if envelope["format"] > STATE_FORMAT:
        raise StateFormatError(
            key, f"written in state format {envelope['format']}, this version reads up to {STATE_FORMAT}; upgrade"
        )
    state = envelope.get("state")
    if not isinstance(state, dict):
        raise StateFormatError(key, "the envelope holds no state object")
    return state


def read_state(client: Mapping[str, Any], topic: str, timeout_s: float) -> dict[str, dict[str, Any]]:
    """Every key's last committed state in ``topic``; ``client`` holds the librdkafka settings (servers,
    security) of every client."""
    states: dict[str, dict[str, Any]] = {}
    for raw_key, value in committed_records(client, topic, timeout_s):
        key = raw_key.decode()
        if value is None:
            states.pop(key, None)
        else:
            states[key] = decode_state(key, value)
    return states
