"""The body screen's look for JSON escapes no string may hold (U+0000, lone surrogates), against its definition."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.inputs import has_suspect_escape

# The definition, as one pattern: an escape of U+0000 or of a surrogate after an even run of backslashes (none
# counts), so that its own backslash is not itself escaped. Correct, and slow on long bodies: every position is
# a start.
DEFINITION = re.compile(rb"(?<!\\)(?:\\\\)*\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")

# Bytes that make and break escapes, so that short strings cover the cases.
PIECES = st.sampled_from([b"\\", b"u", b"0", b"00", b"0000", b"d", b"D", b"8", b"b", b"f", b"F", b"c", b"x", b'"'])


@settings(max_examples=3000, deadline=None)
@given(st.lists(PIECES, max_size=16).map(b"".join))
def test_it_finds_exactly_what_the_definition_finds(body: bytes) -> None:
    assert has_suspect_escape(body) == bool(DEFINITION.search(body))


def test_escapes_found_and_literal_text_left() -> None:
    assert has_suspect_escape(b'{"a": "x\\u0000"}')
    assert has_suspect_escape(b'{"a": "\\ud800"}')
    assert has_suspect_escape(b'{"a": "\\\\\\uDFFF"}')  # an escaped backslash, then the escape
    assert not has_suspect_escape(b'{"a": "\\\\u0000"}')  # a backslash, then the letters u0000
    assert not has_suspect_escape(b'{"a": "\\u00f8 \\u0001 \\ue000"}')  # escapes a string may hold
    # What json makes of a real list with ø, æ and å escaped (ensure_ascii) holds none.
    assert not has_suspect_escape(json.dumps({"name": "Ibux 400 mg, tøm æ å" * 200}).encode())
