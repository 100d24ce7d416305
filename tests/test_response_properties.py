"""Property-based: whatever a token endpoint answers ends in one category, never a crash."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from astra_auth.commands.shared.verbose import answer_lines
from astra_auth.core.errors import ExitCode
from astra_auth.core.failure import Category
from astra_auth.oauth.token_response import RawResponse, Token, classify_response
from astra_auth.text.redact import Redactor

SECRET = "s3cr3t-Value:%+/é"
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=15), children, max_size=5),
    max_leaves=15,
)
token_like = st.fixed_dictionaries(
    {},
    optional={
        "access_token": st.one_of(st.text(max_size=30), st.integers(), st.none()),
        "token_type": st.one_of(st.sampled_from(["Bearer", "bearer", "mac", ""]), st.integers()),
        "expires_in": st.one_of(st.integers(), st.text(max_size=6), st.floats(allow_nan=False)),
        "scope": st.one_of(st.text(max_size=20), st.integers()),
        "refresh_token": st.one_of(st.text(max_size=20), st.none()),
        "error": st.one_of(st.sampled_from(["invalid_client", "invalid_grant", "weird_code", ""]),
                           st.integers()),
        "error_description": st.one_of(st.text(max_size=40), st.just(f"echo {SECRET}")),
    },
)
bodies = st.one_of(
    st.binary(max_size=300),
    token_like.map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.just(b"<!DOCTYPE html><html><title>Login</title></html>"),
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    status=st.integers(min_value=100, max_value=599),
    headers=st.lists(st.tuples(header_text, header_text), max_size=6),
    body=bodies,
    truncated=st.booleans(),
    broken=st.one_of(st.none(), st.text(max_size=20)),
    undecodable=st.one_of(st.none(), st.text(max_size=20)),
)
def test_every_answer_ends_in_a_token_or_exactly_one_category(status, headers, body, truncated,
                                                               broken, undecodable):
    raw = RawResponse(status, "Reason", headers, body, truncated, broken, undecodable)
    redactor = Redactor(SECRET)
    judged = classify_response(raw, redactor)
    if not isinstance(judged, Token):
        failure = judged
        assert isinstance(failure.category, Category)
        if failure.category == "connection_error":  # only a body cut off on the way
            assert broken
        else:
            assert failure.exit_code in (ExitCode.REJECTED, ExitCode.BAD_RESPONSE)
        assert failure.http_status == status
        for text in (failure.message, failure.oauth_error or "",
                     failure.oauth_error_description or ""):
            assert SECRET not in text
        json.dumps(failure.to_json())
    else:
        assert 200 <= status < 300
        assert judged.access_token and judged.token_type
    shown = "\n".join(answer_lines(raw, redactor))
    assert SECRET not in shown



# The characters safetext escapes, written out here (not taken from the module).
UNSAFE_CHARS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                          "\u2066-\u2069]")


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
       | st.text(st.sampled_from("ab\n\x1b\x7f\x85\u061c\u200e\u202e\u2066\u00a0é"),
                 max_size=12))
def test_clean_escapes_exactly_the_unsafe_characters(text):
    from astra_auth.text.safetext import clean, dumps

    def escape(match):
        code = ord(match.group())
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    assert clean(text) == UNSAFE_CHARS.sub(escape, text)
    one_line = re.compile(UNSAFE_CHARS.pattern[:-1] + "\n]")
    assert clean(text, one_line=True) == one_line.sub(escape, text)
    assert json.loads(dumps(text)) == text
    assert not re.search("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]",
                         dumps(text))
