"""Outside text made safe to show (text/safetext.py): `is_clean` answers as
`clean` acts, and `dumps` keeps readable text readable."""

from __future__ import annotations

import json

import pytest

from astra_auth.text.safetext import clean, dumps, is_clean


@pytest.mark.parametrize(("text", "clean_as_it_is"), [
    ("plain text", True),
    ("two\nlines", True),                 # a line break is allowed in a block of text
    ("é, 中文, ÿ, Ā and \u00a0", True),
    ("", True),
    ("soft\u00adhyphen\nand a line", True),  # unprintable, but not unsafe
    ("a\x1b[31mred", False),
    ("tab\there", False),
    ("bell\x07", False),
    ("del\x7f", False),
    ("c1\x85", False),
    ("\u202eevil", False),
    ("mark\u200e", False),
    ("isolate\u2066", False),
    ("line\nthen\x1b", False),
])
def test_is_clean_says_whether_clean_would_change_the_text(text, clean_as_it_is):
    assert is_clean(text) is clean_as_it_is
    assert (clean(text) == text) is clean_as_it_is


@pytest.mark.parametrize(("text", "shown"), [
    ("a\x1bb", "a\\x1bb"), ("\x9f", "\\x9f"), ("\u202e", "\\u202e"), ("ÿ\x00", "ÿ\\x00"),
    ("a\nb", "a\nb"),
])
def test_clean_shows_each_unsafe_character_as_its_escape(text, shown):
    assert clean(text) == shown


def test_one_line_escapes_the_line_break_too():
    assert clean("a\nb", one_line=True) == "a\\x0ab"


def test_dumps_keeps_readable_text_as_it_is():
    assert dumps({"name": "José", "city": "東京"}) == '{"name": "José", "city": "東京"}'
    assert dumps("\u202e\x85\u2028") == '"\\u202e\\u0085\\u2028"'
    assert json.loads(dumps("\u202e\x85\u2028")) == "\u202e\x85\u2028"
    assert dumps("plain") == '"plain"'
    assert dumps({"a": 1}, indent=2) == '{\n  "a": 1\n}'
