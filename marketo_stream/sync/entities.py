"""Entity tables read through REST listings: publish what changed, tombstone what disappeared.

Each entity table keeps, in state, a short fingerprint of every row it last published, by key. A listing
publishes only rows whose fingerprint changed, and a complete listing turns every key it no longer shows
into a tombstone. Listings that cover part of a table (one program's members, one lead's roles) pass a
``scope``: only keys inside it can be found missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from marketo_stream.jsontext import dumps_sorted
from marketo_stream.schema import ValueConversionError
from marketo_stream.sync.context import RunInputs, Tally
from marketo_stream.sync.published import PublishedTable, Row
from marketo_stream.sync_state import EntityState
from marketo_stream.tables import Deletes

Scope = Callable[[Row, str], bool]
"""(published key, tag) → whether the key lies inside the listing's scope."""


def tag_by(column: str) -> Callable[[Row], str]:
    """Tags each row with the text of one of its columns, empty where the column is null."""

    def tag(value: Row) -> str:
        found = value.get(column)
        return "" if found is None else str(found)

    return tag


def key_text(key: Row) -> str:
    """The key's values in name order as JSON: the state's name for the row, so its form never changes (keys of
    integers, nearly all of them, are written directly, as ``json.dumps`` writes them)."""
    values = [key[name] for name in sorted(key)]
    if all(value.__class__ is int for value in values):
        return f"[{','.join(map(str, values))}]"
    return json.dumps(values, separators=(",", ":"), default=str)


def fingerprint(value: Row) -> str:
    """A hash of the value's JSON, keys sorted."""
    return hashlib.blake2b(dumps_sorted(value, unknown_as_text=True), digest_size=8).hexdigest()


class EntityListing:
    """One entity table's rows for this run; ``finish`` tombstones what a complete listing did not show."""

    def __init__(
        self,
        inputs: RunInputs,
        tally: Tally,
        table: PublishedTable,
        state: EntityState,
        tag: Callable[[Row], str] | None = None,
        gone: Callable[[Row], bool] | None = None,
    ) -> None:
        self.writer = inputs.writer
        self.now = inputs.now
        self.tally = tally
        self.table = table
        self.tag = tag
        """Derives a short tag stored with the fingerprint (e.g. the lead id of a role) for scoping deletes."""
        self.gone = gone
        """Whether a converted row belongs to a lead deleted or merged away: such a row is never published, and
        the key is tombstoned if it was (whichever listing or activity names it)."""
        self.state = state
        self.also: Callable[[], Mapping[str, Mapping[str, Any] | None]] | None = None
        """State documents committed with every checkpoint of this table (e.g. what its children must still do)."""
        self.keys: dict[str, Row] = {}
        """Published keys seen in this listing, by key text."""
        self.published = 0
        self.rejected = 0
        """Rows that did not convert: while there are any, no key is taken for deleted."""

    def put(self, marketo_row: Mapping[str, Any]) -> Row | None:
        """Publishes the row if it changed; returns its published key (None when the row was rejected or belongs
        to a gone lead)."""
        try:
            value = self.table.convert(marketo_row)
        except ValueConversionError as exc:
            self.tally.reject(self.table.name, marketo_row, exc)
            self.rejected += 1
            return None
        key = self.table.key_of(value)
        text = key_text(key)
        if self.gone is not None and self.gone(value):
            if text in self.state.rows:
                self.writer.delete(self.table, key, published_key=True)
                self.state.drop(text)
                self.tally.tombstones[self.table.name] += 1
            return None
        self.keys[text] = key
        mark = fingerprint(value)
        if self.tag is not None:
            mark = f"{self.tag(value)}|{mark}"
        if self.state.rows.get(text) != mark:
            self.writer.upsert(self.table, key, value)
            self.state.put(text, mark)
            self.tally.records[self.table.name] += 1
            self.published += 1
        self.writer.checkpoint(self.documents)
        return key

    def put_all(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.put(row)

    def remove(self, key: Row) -> None:
        """A key known to be gone (a Remove from List activity): a tombstone, whether or not the key was ever
        published (a compacted topic ignores a tombstone for a key it never held)."""
        text = key_text(key)
        self.writer.delete(self.table, key)
        self.state.drop(text)
        self.tally.tombstones[self.table.name] += 1

    def finish(
        self, scope: Scope | None = None, *, complete: bool = True, also: Mapping[str, Any] | None = None
    ) -> int:
        """Tombstones for published keys inside ``scope`` that this listing did not show; commits, with ``also`` (state
        documents that must be committed with this table's, e.g. the effects it used up). A table whose catalog
        entry declares no delete detection (``Deletes.NONE``: a history, a snapshot) never loses keys."""
        gone = 0
        complete = complete and not self.rejected and self.table.spec.deletes is not Deletes.NONE
        if complete:
            for text, mark in list(self.state.rows.items()):
                if text in self.keys:
                    continue
                key = self._key_from_text(text)
                if scope is not None and not scope(key, mark.partition("|")[0] if "|" in mark else ""):
                    continue
                self.writer.delete(self.table, key, published_key=True)
                self.state.drop(text)
                self.tally.tombstones[self.table.name] += 1
                gone += 1
        if scope is None and complete:
            self.state.complete = True
            self.state.read_at = self.now
        self.writer.commit({**self.documents(), **(also or {})})
        return gone

    def documents(self) -> dict[str, Mapping[str, Any] | None]:
        mine: dict[str, Mapping[str, Any] | None] = dict(self.state.documents(self.table.name))
        return mine if self.also is None else {**mine, **self.also()}

    def known_keys(self) -> list[Row]:
        return [self._key_from_text(text) for text in self.state.rows]

    def _key_from_text(self, text: str) -> Row:
        names = sorted(f["name"] for f in self.table.avro.key_schema["fields"])
        return dict(zip(names, json.loads(text), strict=True))
