"""Reading records out of JSON Lines and JSON arrays (no database needed)."""

from __future__ import annotations

import gzip
import io
import json
import sys
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest import reader
from app.ingest.reader import InputError, open_input, read_records


def records(payload: bytes) -> list[tuple[int, bytes]]:
    return list(read_records(io.BytesIO(payload)))


# --- JSON Lines -----------------------------------------------------------------------------
def test_json_lines_are_numbered_by_line_and_blank_lines_are_skipped():
    payload = b'{"a":1}\n\n   \n{"b":2}\n\t\n{"c":3}\n'

    assert records(payload) == [(1, b'{"a":1}'), (4, b'{"b":2}'), (6, b'{"c":3}')]


def test_a_last_line_without_a_newline_is_still_read():
    assert records(b'{"a":1}\n{"b":2}') == [(1, b'{"a":1}'), (2, b'{"b":2}')]


def test_windows_line_endings_and_surrounding_spaces_are_trimmed():
    assert records(b'  {"a":1} \r\n\r\n{"b":2}\r\n') == [(1, b'{"a":1}'), (3, b'{"b":2}')]


def test_a_bad_line_is_one_record_and_does_not_disturb_the_next():
    payload = b'{"a":1}\nnot json at all\n{"unterminated": "x\n{"b":2}\n'

    assert records(payload) == [
        (1, b'{"a":1}'),
        (2, b"not json at all"),
        (3, b'{"unterminated": "x'),
        (4, b'{"b":2}'),
    ]


@pytest.mark.parametrize("payload", [b"", b"\n\n", b"  \t\r\n  "], ids=["empty", "newlines", "white space"])
def test_an_empty_input_has_no_records(payload):
    assert records(payload) == []


# --- JSON arrays ----------------------------------------------------------------------------
def test_array_elements_are_numbered_in_order():
    payload = b'  \n[{"a":1}, {"b":[1,2,{"c":3}]} ,\n{"d":"x"}]\n'

    assert records(payload) == [(1, b'{"a":1}'), (2, b'{"b":[1,2,{"c":3}]}'), (3, b'{"d":"x"}')]


def test_commas_brackets_and_escaped_quotes_inside_strings_do_not_split_an_element():
    element = rb'{"note":"a, b ] } [ { \" still \\ inside, ]"}'
    payload = b"[" + element + b',{"next":true}]'

    assert records(payload) == [(1, element), (2, b'{"next":true}')]


@pytest.mark.parametrize("payload", [b"[]", b"  [ \n ]  \n"], ids=["compact", "spaced"])
def test_an_empty_array_has_no_records(payload):
    assert records(payload) == []


def test_a_malformed_element_is_one_record_and_the_rest_are_read():
    payload = b'[{"a":1}, nonsense, {"b": 2, oops}, {"c":3}]'

    assert records(payload) == [(1, b'{"a":1}'), (2, b"nonsense"), (3, b'{"b": 2, oops}'), (4, b'{"c":3}')]


def test_a_truncated_array_gives_its_tail_as_one_record():
    payload = b'[{"a":1}, {"b":2}, {"c": [1, 2'

    assert records(payload) == [(1, b'{"a":1}'), (2, b'{"b":2}'), (3, b'{"c": [1, 2')]


def test_an_array_cut_inside_a_string_gives_its_tail_as_one_record():
    payload = b'[{"a":1}, {"b":"never closed'

    assert records(payload) == [(1, b'{"a":1}'), (2, b'{"b":"never closed')]


def test_text_after_the_end_of_an_array_is_reported_as_a_record():
    payload = b'[{"a":1}]\ntrailing words'

    assert records(payload) == [(1, b'{"a":1}'), (2, b"trailing words")]


# --- any chunk boundary reads the same ------------------------------------------------------
tricky_text = st.text(alphabet=st.sampled_from(list('ab ,:[]{}"\\\n\t/é🚚')), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=8,
)
objects = st.dictionaries(tricky_text, json_values, max_size=4)


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(objects, max_size=8),
    as_array=st.booleans(),
    chunk=st.integers(1, 40),
    spacing=st.sampled_from(["", " ", "\n", " \r\n\t "]),
)
def test_records_come_out_whole_whatever_the_chunk_size(items, as_array, chunk, spacing):
    texts = [json.dumps(item, ensure_ascii=False).encode() for item in items]
    gap = spacing.encode()
    if as_array:
        payload = gap + b"[" + gap + (b"," + gap).join(texts) + gap + b"]" + gap
    else:
        payload = b"\n".join(texts) + b"\n"

    with mock.patch.object(reader, "CHUNK", chunk):
        got = records(payload)

    assert [json.loads(raw) for _, raw in got] == items
    assert [n for n, _ in got] == list(range(1, len(items) + 1))


# --- opening inputs -------------------------------------------------------------------------
def test_a_gzip_file_is_read_as_its_contents(tmp_path):
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a":1}\n{"b":2}\n'))

    with open_input(str(path)) as stream:
        assert list(read_records(stream)) == [(1, b'{"a":1}'), (2, b'{"b":2}')]


def test_a_file_named_gz_that_is_not_gzip_cannot_be_read(tmp_path):
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(b'{"a":1}\n')

    with pytest.raises(InputError, match="events.jsonl.gz"):
        open_input(str(path))


def test_a_missing_file_cannot_be_read_and_is_named(tmp_path):
    path = tmp_path / "monday.jsonl"

    with pytest.raises(InputError, match="monday.jsonl"):
        open_input(str(path))


def test_a_folder_cannot_be_read_and_is_named(tmp_path):
    with pytest.raises(InputError, match="folder"):
        open_input(str(tmp_path))


def test_a_dash_means_standard_input():
    assert open_input("-") is sys.stdin.buffer
