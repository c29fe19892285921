"""Topic records as raw bytes, to look for plaintext that must not be there and to compare key bytes."""

from __future__ import annotations

from typing import Any

from tests.sync.topics import TopicReader


class RawTopicReader(TopicReader):
    """``read`` gives ``{"raw": bytes}`` for each key and value instead of decoding them."""

    def decode(self, payload: bytes) -> dict[str, Any]:
        return {"raw": payload}


def raw_records(bootstrap: str, topic: str) -> list[tuple[bytes, bytes | None]]:
    """(key bytes, value bytes or None for a tombstone), in offset order."""
    reader = RawTopicReader(bootstrap, registry=None)  # type: ignore[arg-type]
    return [(r.key["raw"], r.value["raw"] if r.value is not None else None) for r in reader.read(topic)]
