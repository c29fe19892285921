"""The chunked reader gives exactly the rows and quarantine entries the line-by-line reader gave, on hostile files."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from marketo_stream.bulk import csvfile
from marketo_stream.bulk.csvfile import ExportRows, QuarantinedRow, count_records, read_rows
from tests.bulk.line_reader import read_rows_line_by_line

HEADER = b"marketoGUID,leadId,text,attributes\n"
PIECES = [
    b"plain",
    b"null",
    b"",
    b'"a, ""quoted"" value"',
    b'"two\r\nlines"',
    b'"three\nphysical\nlines"',
    "one\u2028two\u2029three".encode(),
    "Käufer — 日本 😀".encode(),
    b"nul\x00inside",
    b"caf\xe9",  # Latin-1, not UTF-8
    b"\xff\xfe",
    b"lone\rreturn",
    b'"quoted lone\rreturn"',
    b"x" * 300,
]
ATTRIBUTES = [
    b'"{""Score"":5,""Reason"":""a,b""}"',
    b'"[{""name"":""Score"",""value"":5}]"',
    b'"{not json"',
    b'"[1,2]"',
    b"5",
    b"null",
    b"",
    b'"{""big"":123456789012345678901234567890}"',
    b'"{""text"":""line\r\nbreak \\u2028 \\ud83d\\ude00""}"',
    b'"{""lone"":""\\ud800""}"',
    b'"{""a"":1,""a"":2}"',
    '"{""ü"":""München""}"'.encode(),
]


def hostile_file(chance: random.Random, rows: int) -> bytes:
    out = [HEADER]
    for n in range(rows):
        roll = chance.random()
        if roll < 0.03:
            out.append(b"\n")  # a blank line
            continue
        cells = [str(n).encode(), chance.choice([b"7", b"null", b"x"]), chance.choice(PIECES)]
        cells.append(chance.choice(ATTRIBUTES))
        if roll < 0.06:
            cells.append(b"extra")
        elif roll < 0.08:
            cells.pop()
        line = b",".join(cells)
        out.append(line + chance.choice([b"\n", b"\n", b"\n", b"\r\n"]))
    if chance.random() < 0.3:
        out.append(b'99,1,"never closed\n')
    elif chance.random() < 0.3:
        out.append(b"100,1,last,null")  # no final newline
    return b"".join(out)


def read_both(path: Path) -> tuple[tuple[list[Any], list[QuarantinedRow]], tuple[list[Any], list[QuarantinedRow]]]:
    fast: list[QuarantinedRow] = []
    slow: list[QuarantinedRow] = []
    return (list(read_rows(path, quarantine=fast.append)), fast), (
        list(read_rows_line_by_line(path, slow.append)),
        slow,
    )


@pytest.mark.parametrize("chunk_bytes", [1, 7, 100, 4096, 1 << 20])
@pytest.mark.parametrize("seed", range(12))
def test_hostile_files_read_as_the_line_by_line_reader_read_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, chunk_bytes: int
) -> None:
    monkeypatch.setattr(csvfile, "CHUNK_BYTES", chunk_bytes)
    path = tmp_path / "export.csv"
    path.write_bytes(hostile_file(random.Random(seed), 150))
    (rows, caught), (expected_rows, expected_caught) = read_both(path)
    assert rows == expected_rows
    assert caught == expected_caught
    assert count_records(path) == sum(1 for _ in read_rows_line_by_line(path, lambda _: None)) + len(expected_caught)


def test_clean_files_take_the_fast_path_and_dirty_chunks_the_careful_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    careful: list[int] = []
    original = csvfile._careful_lines

    def spy(chunk: bytes, first: int, bad: list[int]) -> Any:
        careful.append(first)
        return original(chunk, first, bad)

    monkeypatch.setattr(csvfile, "_careful_lines", spy)
    monkeypatch.setattr(csvfile, "CHUNK_BYTES", 64)
    path = tmp_path / "export.csv"
    clean = b"".join(b"%d,1,text,null\n" % n for n in range(40))
    path.write_bytes(HEADER + clean + b"41,1,caf\xe9,null\n" + clean)
    caught: list[QuarantinedRow] = []
    assert len(list(read_rows(path, quarantine=caught.append))) == 80
    assert [(q.line, q.reason) for q in caught] == [(42, "invalid UTF-8")]
    assert len(careful) == 1, "only the chunk holding the bad byte is read line by line"


def test_json_the_fast_parser_refuses_is_read_as_the_json_module_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(HEADER + b'1,2,x,"{""score"":NaN,""lone"":""\\ud800"",""big"":1E400}"\n')
    (row,) = read_rows(path)
    assert math.isnan(row["attributes"]["score"])
    assert row["attributes"]["lone"] == "\ud800"
    assert row["attributes"]["big"] == math.inf


def test_rows_come_as_lists_in_header_order_with_json_columns_parsed(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(HEADER + b'1,null,,"{""Score"":5}"\n2,3,x,null\n')
    rows = ExportRows(path)
    assert rows.header == ("marketoGUID", "leadId", "text", "attributes")
    assert rows.json_columns == ("attributes",)
    values = list(rows)
    assert values == [["1", "null", "", {"Score": 5}], ["2", "3", "x", None]]
    assert rows.row(values[0]) == {"marketoGUID": "1", "leadId": None, "text": None, "attributes": {"Score": 5}}
