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

import re
from typing import Any

# C0 controls but \n, DEL, C1 controls; the bidi embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069), the marks U+200E/U+200F and the
# Arabic letter mark U+061C.
_UNSAFE = "\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[{_UNSAFE}]")
UNSAFE_ONE_LINE = re.compile(f"[{_UNSAFE}\n]")
# What JSON must escape beyond what json.dumps already does (C0 and, with
# ensure_ascii=False, nothing else).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def clean(text: str, *, one_line: bool = False) -> str:
    """`text` with every unsafe character shown as its escape; `one_line` also
    escapes line breaks (a provider's value shown inside one line)."""
    pattern = UNSAFE_ONE_LINE if one_line else UNSAFE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)


def is_clean(text: str) -> bool:
    return UNSAFE.search(text) is None


def dumps(value: Any, **kwargs: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, **kwargs)`, with C1 controls, bidi
    controls and the JSON-but-not-JavaScript line separators escaped as \\uXXXX:
    still the same JSON value, but nothing a terminal acts on."""
    import json

    text = json.dumps(value, ensure_ascii=False, **kwargs)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
