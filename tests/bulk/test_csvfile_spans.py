"""Cutting an export file into byte spans read apart: together they give exactly the rows and quarantined rows
one reader gives, quoted line breaks and stray quotes included."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from marketo_stream.bulk.csvfile import (
    ByteSpan,
    ChunkBoundaryError,
    ChunkRows,
    ExportRows,
    QuarantinedRow,
    record_spans,
)
from tests.bulk.test_csvfile_chunks import hostile_file

HEADER = b"marketoGUID,text,attributes\n"


def header_end(path: Path) -> tuple[tuple[str, ...], int, int]:
    """The header, the byte where the records start and their first physical line."""
    rows = ExportRows(path)
    data = path.read_bytes()
    end = 0
    for _ in range(rows.header_lines):
        end = data.index(b"\n", end) + 1
    return rows.header, end, rows.header_lines + 1


def read_whole(path: Path) -> tuple[list[Any], list[QuarantinedRow]]:
    caught: list[QuarantinedRow] = []
    return list(ExportRows(path, quarantine=caught.append)), caught


def read_in_spans(path: Path, span_bytes: int) -> tuple[list[Any], list[QuarantinedRow], list[ByteSpan], int]:
    """As the row workers read: span by span; a span found to end inside a record is read again with everything
    after it, as the file's last span. Returns rows, quarantined rows, the spans read, and the records counted."""
    header, start, first_line = header_end(path)
    rows: list[Any] = []
    caught: list[QuarantinedRow] = []
    read: list[ByteSpan] = []
    counted = 0
    for span in record_spans(path, start, first_line, span_bytes):
        mine: list[QuarantinedRow] = []
        chunk = ChunkRows(path, header, span, quarantine=mine.append)
        try:
            got = list(chunk)
        except ChunkBoundaryError:
            rest_caught: list[QuarantinedRow] = []
            remainder = ByteSpan(span.start, path.stat().st_size, span.first_line, True)
            rest = ChunkRows(path, header, remainder, quarantine=rest_caught.append)
            rows += list(rest)
            caught += rest_caught
            read.append(rest.span)
            return rows, caught, read, counted + rest.counted
        rows += got
        caught += mine
        read.append(span)
        counted += chunk.counted
    return rows, caught, read, counted


def test_spans_end_only_where_records_end_even_inside_multi_line_values(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    records = [b'%03d,"line one\nline two\n""quoted""\nline four",null\n' % n for n in range(50)]
    path.write_bytes(HEADER + b"".join(records))
    _, start, first_line = header_end(path)
    spans = list(record_spans(path, start, first_line, 40))
    assert spans[0].start == len(HEADER) and spans[-1].end == path.stat().st_size and spans[-1].last
    data = path.read_bytes()
    for span in spans:
        piece = data[span.start : span.end]
        assert piece.count(b"\n") % 4 == 0, "whole records only: each holds four physical lines"
    assert [s.first_line for s in spans] == [2 + 4 * (s.start - len(HEADER)) // len(records[0]) for s in spans], (
        "first lines count the line breaks inside quoted values"
    )


@pytest.mark.parametrize("span_bytes", [1, 13, 200, 4096])
@pytest.mark.parametrize("seed", range(10))
def test_hostile_files_read_in_spans_give_what_one_reader_gives(tmp_path: Path, seed: int, span_bytes: int) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(hostile_file(random.Random(seed), 200))
    rows, caught, spans, counted = read_in_spans(path, span_bytes)
    whole_rows, whole_caught = read_whole(path)
    assert rows == whole_rows
    assert caught == whole_caught, "same reasons, same physical line numbers"
    assert counted == len(whole_rows) + len(whole_caught)
    assert len(spans) > 1 or span_bytes == 4096


STRAY = b'7,bare "quote in an unquoted value,null\n'


@pytest.mark.parametrize("span_bytes", [1, 30, 100])
def test_a_stray_quote_is_caught_at_the_next_cut_and_the_rest_read_in_one_piece(
    tmp_path: Path, span_bytes: int
) -> None:
    path = tmp_path / "export.csv"
    before = b"".join(b'%d,"two\nlines",null\n' % n for n in range(5))
    after = b"".join(b'%d,"two\nlines",null\n' % n for n in range(10, 15))
    path.write_bytes(HEADER + before + STRAY + after)
    rows, caught, spans, _ = read_in_spans(path, span_bytes)
    assert (rows, caught) == read_whole(path)
    assert [row[0] for row in rows] == [*map(str, range(5)), "7", *map(str, range(10, 15))]
    assert spans[-1].last


def test_a_span_cut_inside_a_quoted_value_raises_instead_of_reading_half_records(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(HEADER + b'1,"a\nb",null\n2,x,null\n')
    header, start, first_line = header_end(path)
    inside = ByteSpan(start, start + len(b'1,"a\n'), first_line, False)
    with pytest.raises(ChunkBoundaryError):
        list(ChunkRows(path, header, inside, quarantine=lambda _: None))
    whole_first = ByteSpan(start, start + len(b'1,"a\nb",null\n'), first_line, False)
    assert list(ChunkRows(path, header, whole_first)) == [["1", "a\nb", None]]


def test_a_record_equal_to_the_end_marker_is_data_when_it_is_not_last(tmp_path: Path) -> None:
    """The marker ends a span only as the very last record: one inside the data is an ordinary one-column row."""
    from marketo_stream.bulk.csvfile import CHUNK_END

    path = tmp_path / "export.csv"
    path.write_bytes(HEADER + CHUNK_END.encode() + b"\n1,x,null\n")
    header, start, first_line = header_end(path)
    span = ByteSpan(start, path.stat().st_size, first_line, False)
    caught: list[QuarantinedRow] = []
    with pytest.raises(ChunkBoundaryError):
        list(ChunkRows(path, header, span, quarantine=caught.append))
