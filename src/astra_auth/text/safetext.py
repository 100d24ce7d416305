"""Outside text made safe to show: control characters and bidi overrides escaped.

A provider, an API or a hand-edited file can put ESC sequences into an error
description, a token type, a JWT claim or a header.  Printed raw, they write the
clipboard (OSC 52), fake a link (OSC 8), clear the screen or retitle the window;
bidi overrides make text read differently from what it is (CVE-2021-42574).
Every piece of text the tool prints passes through `clean` (the consoles in
`iostreams` apply it to every segment they write), and JSON goes through `dumps`.
The characters are shown escaped (`\\x1b`, `\\u202e`), not dropped, so that the
user sees that something was there.  Imports nothing heavy.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# C0 controls but \n, DEL, C1 controls; the bidi embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069), the marks U+200E/U+200F and the
# Arabic letter mark U+061C.  Every one of them is a character that
# str.isprintable() refuses (Cc or Cf), which gives the fast path below.
_UNSAFE = "\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# What JSON must escape beyond what json.dumps already does (C0 and, with
# ensure_ascii=False, nothing else).
_JSON_UNSAFE = "[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"


# Compiled on first use: these classes of wide ranges take ~1 ms to compile,
# which every command paid at start though most print only plain text.
@functools.cache
def _pattern(one_line: bool) -> re.Pattern[str]:
    return re.compile(f"[{_UNSAFE}\n]" if one_line else f"[{_UNSAFE}]")


@functools.cache
def _json_pattern() -> re.Pattern[str]:
    return re.compile(_JSON_UNSAFE)


def _surely_clean(text: str, one_line: bool) -> bool:
    """True when `text` has no unsafe character, decided without a regex:
    everything unsafe is unprintable (a line break is too, so it is set aside
    where it is allowed)."""
    return (text if one_line else text.replace("\n", "")).isprintable()


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def clean(text: str, *, one_line: bool = False) -> str:
    """`text` with every unsafe character shown as its escape; `one_line` also
    escapes line breaks (a provider's value shown inside one line)."""
    if _surely_clean(text, one_line):
        return text
    pattern = _pattern(one_line)
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)


def is_clean(text: str) -> bool:
    return _surely_clean(text, False) or _pattern(False).search(text) is None


def dumps(value: Any, **kwargs: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, **kwargs)`, with C1 controls, bidi
    controls and the JSON-but-not-JavaScript line separators escaped as \\uXXXX:
    still the same JSON value, but nothing a terminal acts on."""
    import json

    text = json.dumps(value, ensure_ascii=False, **kwargs)
    if text.isascii() and "\x7f" not in text:  # json.dumps escaped C0 already
        return text
    return _json_pattern().sub(lambda m: f"\\u{ord(m.group()):04x}", text)
