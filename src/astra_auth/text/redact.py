"""Masking secrets in anything that may be shown.

A provider may echo a submitted secret back in `error_description`, an API may
put a header into an HTML page: whatever text came from outside, or was built
from a request, passes through `Redactor.redact` before it is shown.  Mask
first, then cut (`Redactor.cut`): a secret that straddles the cut never shows
its first half.

What is masked
--------------
- Any run of `RUN` (8) or more characters of a secret, in any case: the whole
  secret, a prefix, a suffix or a part from its middle, holding three of its
  letters or digits or more (a line of the secret's own `-------` is not one).
- In every form a provider may give it, and in mixtures of them: HTML character
  references (named, and decimal or hex with any number of leading zeros and
  with or without the `;`: HTML Living Standard §13.2.5.72-80); percent-encoding
  (RFC 3986 §2.1), of every character or of some; backslash escapes, in JSON
  (RFC 8259 §7, surrogate pairs included) or elsewhere (`\\xHH`, `\\U0010FFFF`,
  `\\u{...}`, octal, `\\n`...); an escape of an escape (`%2541`, up to three
  deep); Base64 and base64url (RFC 4648 §4, §5) of a text that holds it, at any
  of the three byte alignments and from any starting point in the run; hex, of
  bytes alone or separated (`5a:71`); UTF-16 and UTF-32 of Latin-1 text inside
  hex or Base64 (their zero bytes count as separators); compatibility forms (fullwidth `Ｚ`,
  `ℤ`, ligatures: Unicode NFKD, UAX #15); and spaced out, with anything that is
  not a letter or digit between its characters (`Z q 8 v`, `Z-q-8`, zero-width
  spaces, a form's `+`).  Where the secret itself has such a character between
  two others (`pass word`), the text must have one there too: `password` does not
  match `pass word`.
- The mask covers the whole encoded span in the original text (an entity, a
  `%XX`, the Base64 characters and their `=` padding), so no part of the
  encoded form is left beside it.
- A secret shorter than `RUN` characters is masked whole, in the same forms.
  One shorter than `SHORT` is masked only where it stands alone as a word
  (masking every "p" of a one-letter password would garble every message), and
  its Base64 and hex forms only where they stand alone and have 4 characters or
  more.  A secret with fewer than 3 letters or digits is masked as it is (case
  folded, decoded), not spaced out.

How
---
The text is read through views, each derived from the one before with a map
back to it: the text; its escapes decoded (again, while any are left, three
times at most); each of those folded (NFKD, case folded); the folded text with
every character that is not a letter or digit removed ("squeezed"), where the
secrets are looked for; and the bytes that each Base64 or hex run stands for,
read the same way (Base64 inside Base64 too, two deep).  A secret's letters are
looked for by their pieces of three, at every sixth position of the squeezed
text (any eight letters in a row hold one such piece; closer where the secret's
own separators let fewer letters make a run of eight), and each find is checked
and extended letter by letter.  Only the standard library is used (re, html,
unicodedata, binascii); benchmarks/redact.py measures it on 1 MiB.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import html
import itertools
import re
import threading
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote_plus

MASK = "••••••"
RUN = 8  # this many characters of a secret in a row are masked wherever they stand
SHORT = 4  # a secret shorter than this is masked only where it stands alone

_LETTERS = 3  # the fewest letters or digits of a secret that a masked run holds
_LEVELS = 3  # escapes of escapes decoded
_DEPTH = 2  # Base64 or hex inside Base64 or hex
_SKIP = 8  # separators passed over to find the secret's own at the edge of a run
_BLOCK = 4096  # the squeezed view's way back is built a block at a time, where needed

_SEPARATORS = re.compile(r"[\W_]+")
_SEPARATOR = re.compile(r"[\W_]")
_LATIN1_SEPARATORS = "".join(chr(c) for c in range(256) if _SEPARATOR.fullmatch(chr(c)))
_ASCII_DROP = {ord(c): None for c in _LATIN1_SEPARATORS if c.isascii()}
_LATIN1_DROP = _LATIN1_SEPARATORS.encode("latin-1")

# One escaped character (or a run of escaped bytes) of HTML, URLs, JSON, C or
# Python.  Each alternative starts with its own character, so that the search
# skips ahead to the next `&`, `%` or backslash.
_UNIT = re.compile(r"""
    &(?: \#[xX]0*[0-9a-fA-F]{1,6}(?![0-9a-fA-F]);?
       | \#0*[0-9]{1,7}(?![0-9]);?
       | [A-Za-z][A-Za-z0-9]{1,31}; )
  | %[0-9a-fA-F]{2}(?:%[0-9a-fA-F]{2})*
  | \\(?: (?P<x>x[0-9a-fA-F]{2}(?:\\x[0-9a-fA-F]{2})*)
         | u\{(?P<brace>[0-9a-fA-F]{1,6})\}
         | U(?P<long>[0-9a-fA-F]{8})
         | [uU](?P<high>[dD][89abAB][0-9a-fA-F]{2})\\[uU](?P<low>[dD][c-fC-F][0-9a-fA-F]{2})
         | [uU](?P<short>[0-9a-fA-F]{4})
         | (?P<octal>[0-7]{1,3})
         | (?P<char>[^\n]) )
""", re.VERBOSE)
_ESCAPED = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "a": "\a",
            "e": "\x1b"}

_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{11,}(={0,2})")
_HEX_RUN = re.compile(r"[0-9a-fA-F]{8,}")
_HEX_PAIRS = re.compile(r"[0-9a-fA-F]{2}(?:[\s:-][0-9a-fA-F]{2}){3,}")
# Printable characters in a byte view read as UTF-8 (not the bytes that are not
# UTF-8, which decoding turned into surrogates): text, to be read as text.
_TEXT_STRETCH = re.compile("[\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\U0010ffff]{8,}")
_URLSAFE = str.maketrans("-_", "+/")
_B64_CHAR = r"A-Za-z0-9+/_\-"


# ---------------------------------------------------------------------------
# Views and the way back


class _Map(Protocol):
    def span(self, i: int) -> tuple[int, int]:
        """The span of the source that character `i` came from."""
        ...


class _Pieces:
    """Where each character of a derived text came from in its source: a copied
    stretch maps character for character, a decoded unit (`%5A`, `&#x5A;`) maps
    each character it gave to the whole unit."""

    __slots__ = ("_at", "_source", "_end")

    def __init__(self) -> None:
        self._at: list[int] = []
        self._source: list[int] = []
        self._end: list[int] = []  # -1: a copied stretch

    def copied(self, at: int, source: int) -> None:
        if self._end and self._end[-1] < 0 and at - self._at[-1] == source - self._source[-1]:
            return  # the stretch before goes on
        self._at.append(at)
        self._source.append(source)
        self._end.append(-1)

    def unit(self, at: int, start: int, end: int) -> None:
        self._at.append(at)
        self._source.append(start)
        self._end.append(end)

    def units(self) -> list[tuple[int, int]]:
        """The spans of the source that were decoded, in order."""
        return [(start, end) for start, end in zip(self._source, self._end, strict=True) if end >= 0]

    def span(self, i: int) -> tuple[int, int]:
        k = bisect_right(self._at, i) - 1
        start, end = self._source[k], self._end[k]
        if end < 0:
            start += i - self._at[k]
            return start, start + 1
        return start, end


class _View:
    """A text derived from the original, and the way back to it."""

    __slots__ = ("text", "_parent", "_map")

    def __init__(self, text: str, parent: _View | None = None, back: _Map | None = None
                 ) -> None:
        self.text = text
        self._parent = parent
        self._map = back  # None: character for character

    def escapes(self) -> list[tuple[int, int]]:
        """The spans of the parent that were escapes, decoded to make this text."""
        return self._map.units() if isinstance(self._map, _Pieces) else []

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that `self.text[start:end]` came from."""
        view = self
        while view._parent is not None:
            if view._map is not None:
                start, end = view._map.span(start)[0], view._map.span(end - 1)[1]
            view = view._parent
        return start, end


class _Blocks:
    """A text made from its source a block at a time, and the way back to the
    source, built for a block when a find there needs it."""

    __slots__ = ("text", "_source", "_starts", "_pieces", "_back")

    def __init__(self, source: str, make: Callable[[str], str],
                 back: Callable[[str, int, int], _Pieces]) -> None:
        blocks = [make(source[k:k + _BLOCK]) for k in range(0, len(source), _BLOCK)]
        self.text = "".join(blocks)
        self._source = source
        self._starts = [0]
        for block in blocks[:-1]:
            self._starts.append(self._starts[-1] + len(block))
        self._pieces: dict[int, _Pieces] = {}
        self._back = back

    def span(self, i: int) -> tuple[int, int]:
        b = bisect_right(self._starts, i) - 1
        pieces = self._pieces.get(b)
        if pieces is None:
            pieces = self._pieces[b] = self._back(self._source, b * _BLOCK, (b + 1) * _BLOCK)
        return pieces.span(i - self._starts[b])


def _squeeze(text: str) -> str:
    """`text` without its separators."""
    if text.isascii():
        return text.translate(_ASCII_DROP)
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        return text.translate({ord(c): None if _SEPARATOR.fullmatch(c) else ord(c)
                               for c in set(text)})
    return data.translate(None, _LATIN1_DROP).decode("latin-1")


def _squeezed_back(source: str, start: int, end: int) -> _Pieces:
    pieces = _Pieces()
    pieces.copied(0, start)
    at, done = 0, start
    for m in _SEPARATORS.finditer(source, start, end):
        at += m.start() - done
        done = m.end()
        pieces.copied(at, done)
    return pieces


class _Squeezed(_Blocks):
    """A folded text without its separators, and the way back."""

    __slots__ = ()

    def __init__(self, source: str) -> None:
        super().__init__(source, _squeeze, _squeezed_back)

    def gap_before(self, i: int) -> bool:
        """Whether the source has separators between characters i - 1 and i."""
        return self.span(i)[0] - self.span(i - 1)[0] > 1


# ---------------------------------------------------------------------------
# Decoding escapes


def _utf8_length(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 1


def _escaped_bytes(m: re.Match[str]) -> list[tuple[str, int, int]]:
    """`%C3%A9` or `\\xc3\\xa9`: UTF-8 where it is valid, else one character per byte."""
    text = m.group()
    width = 3 if text[0] == "%" else 4
    if len(text) == width and text[-2] < "8":  # one ASCII character
        return [(chr(int(text[-2:], 16)), m.start(), m.end())]
    data = bytes.fromhex("".join(text[i + width - 2:i + width]
                                 for i in range(0, len(text), width)))
    chars = []
    i = 0
    while i < len(data):
        size = _utf8_length(data[i])
        try:
            char = data[i:i + size].decode("utf-8")
        except UnicodeDecodeError:
            char, size = chr(data[i]), 1
        chars.append((char, m.start() + i * width, m.start() + (i + size) * width))
        i += size
    return chars


def _decoded(m: re.Match[str]) -> list[tuple[str, int, int]] | None:
    """What one escape stands for, as (characters, start, end); None: not an escape."""
    kind = m.lastgroup
    if kind == "char":
        char = m.group(kind)
        return [(_ESCAPED.get(char, char), m.start(), m.end())]
    if kind == "x":
        return _escaped_bytes(m)
    if kind is None:
        text = m.group()
        if text[0] == "%":
            return _escaped_bytes(m)
        char = html.unescape(text)
        return None if char == text else [(char, m.start(), m.end())]
    if kind == "low":
        code = 0x10000 + ((int(m.group("high"), 16) - 0xD800) << 10) \
            + int(m.group("low"), 16) - 0xDC00
    else:
        code = int(m.group(kind), 8 if kind == "octal" else 16)
    if code > 0x10FFFF:
        return None
    return [(chr(code), m.start(), m.end())]


def _unescape(text: str) -> tuple[str, _Pieces] | None:
    """`text` with its escapes decoded, or None when it has none."""
    parts: list[str] = []
    pieces = _Pieces()
    at = done = 0
    for m in _UNIT.finditer(text):
        chars = _decoded(m)
        if chars is None:
            continue
        if m.start() > done:
            pieces.copied(at, done)
            parts.append(text[done:m.start()])
            at += m.start() - done
        for char, start, end in chars:
            pieces.unit(at, start, end)
            parts.append(char)
            at += len(char)
        done = m.end()
    if not parts:
        return None
    if done < len(text):
        pieces.copied(at, done)
        parts.append(text[done:])
    return "".join(parts), pieces


# ---------------------------------------------------------------------------
# Folding: how a view and a secret are compared


def _fold_char(char: str) -> str:
    return unicodedata.normalize("NFKD", char).casefold()


def _fold(text: str, fold_char: Callable[[str], str]) -> tuple[str, _Map | None]:
    """`text` folded character by character, and the way back (None: one for one)."""
    if text.isascii():
        return text.lower(), None
    # Folding never shortens a character: the same length is one for one.
    whole = text.lower() if fold_char is str.lower else _fold_text(text)
    if len(whole) == len(text):
        return whole, None
    # Every character in the table: one missing from it costs str.translate a
    # raised and caught LookupError.
    table = {ord(c): fold_char(c) for c in set(text)}
    if all(len(f) == 1 for f in table.values()):
        return text.translate(table), None

    def back(source: str, start: int, end: int) -> _Pieces:
        pieces = _Pieces()
        at = 0
        for k, char in enumerate(source[start:end], start):
            size = len(table.get(ord(char), char))
            if size == 1:
                pieces.copied(at, k)
            else:
                pieces.unit(at, k, k + 1)
            at += size
        return pieces

    folded = _Blocks(text, lambda block: block.translate(table), back)
    return folded.text, folded


def _fold_text(text: str) -> str:
    return unicodedata.normalize("NFKD", text).casefold()


def _fold_as_text(text: str) -> tuple[str, _Map | None]:
    return _fold(text, _fold_char)


def _fold_as_bytes(text: str) -> tuple[str, _Map | None]:
    return _fold(text, str.lower)


# ---------------------------------------------------------------------------
# The secrets, as the views show them


@dataclass(frozen=True)
class _Form:
    """One secret as one kind of view shows it (folded text, or its UTF-8 bytes)."""

    text: str  # folded, separators and all
    origin: tuple[int, ...]  # for each character of `text`, its index in the secret
    at: tuple[int, ...]  # where each letter or digit is in `text`
    letters: str  # those letters and digits: what the squeezed view holds
    need: int  # characters of the secret a masked run covers: min(RUN, its length)
    window: int  # the fewest letters in a row that can cover `need`

    def could_cover(self, first: int, last: int) -> bool:
        """Whether letters first..last, with all the separators around them, cover
        `need` characters of the secret."""
        start = self.at[first - 1] + 1 if first else 0
        end = self.at[last + 1] - 1 if last + 1 < len(self.at) else len(self.text) - 1
        return self.origin[end] - self.origin[start] + 1 >= self.need

    def gap(self, k: int) -> bool:
        """Whether the secret has separators between letters k - 1 and k."""
        return self.at[k] - self.at[k - 1] > 1

    def before(self, k: int) -> str:
        """The separators just before letter k, nearest first."""
        return self.text[self.at[k - 1] + 1 if k else 0:self.at[k]][::-1]

    def after(self, k: int) -> str:
        """The separators just after letter k, nearest first."""
        end = self.at[k + 1] if k + 1 < len(self.at) else len(self.text)
        return self.text[self.at[k] + 1:end]


def _form(pieces: list[tuple[str, int]], length: int) -> _Form | None:
    text = "".join(piece for piece, _ in pieces)
    origin = tuple(i for piece, i in pieces for _ in piece)
    at = tuple(k for k, char in enumerate(text) if _SEPARATOR.fullmatch(char) is None)
    if len(at) < _LETTERS:
        return None
    form = _Form(text, origin, at, "".join(text[k] for k in at), min(RUN, length), len(at))
    window = len(at)
    for first in range(len(at)):
        last = first + _LETTERS - 1
        while last < len(at) and last - first + 1 < window and not form.could_cover(first, last):
            last += 1
        if last < len(at) and form.could_cover(first, last):
            window = min(window, last - first + 1)
    return dataclasses.replace(form, window=window)


def _text_form(secret: str) -> _Form | None:
    return _form([(_fold_char(char), i) for i, char in enumerate(secret)], len(secret))


def _bytes_forms(secret: str) -> list[_Form]:
    """The secret's UTF-8 bytes, and where it is Latin-1, its Latin-1 bytes (which
    are its UTF-16 and UTF-32 bytes without their zeros).  A byte view folds the
    case of ASCII letters only: a secret with other letters has a form for each
    case it may be shown in."""
    cases: list[Callable[[str], str]] = [str]
    if not secret.isascii():
        cases += [str.lower, str.upper, str.swapcase]
    forms: dict[str, _Form] = {}
    for case in cases:
        chars = [(case(char), i) for i, char in enumerate(secret)]
        codecs = ["utf-8"]
        if all(shown <= "\xff" for shown, _ in chars) and not secret.isascii():
            codecs.append("latin-1")
        for codec in codecs:
            form = _form([(shown.encode(codec, "surrogatepass").decode("latin-1").lower(), i)
                          for shown, i in chars], len(secret))
            if form is not None:
                forms.setdefault(form.text, form)
    return list(forms.values())


class _Index:
    """The forms of one kind of view, ready to be looked for."""

    def __init__(self, forms: list[_Form], words: Sequence[str] = (),
                 anywhere: Sequence[str] = ()) -> None:
        self.forms = forms
        # A form whose every masked run is the whole of it is found with str.find.
        self.whole = [i for i, form in enumerate(forms) if form.window == len(form.letters)]
        # The others by their pieces of `size` letters, at every `step`-th position
        # of the text: a run of `window` letters holds a whole piece when
        # size + step - 1 <= window.
        parts = [form for form in forms if form.window < len(form.letters)]
        window = min((form.window for form in parts), default=_LETTERS)
        self.size = 3 if window > 3 else 2
        self.step = window - self.size + 1
        self.pieces: dict[str, list[tuple[int, int]]] = {}
        for i, form in enumerate(forms):
            if form.window < len(form.letters):
                for j in range(len(form.letters) - self.size + 1):
                    self.pieces.setdefault(form.letters[j:j + self.size], []).append((i, j))
        self.words = _alternatives(list(words), r"(?<!\w)(?:{})(?!\w)")
        self.anywhere = _alternatives(list(anywhere), "{}")

    def __bool__(self) -> bool:
        return bool(self.forms) or self.words is not None or self.anywhere is not None


def _alternatives(forms: list[str], frame: str, flags: int = 0) -> re.Pattern[str] | None:
    if not forms:
        return None
    alternatives = "|".join(re.escape(f) for f in sorted(set(forms), key=len, reverse=True))
    return re.compile(frame.format(alternatives), flags)


def _blob_forms(secret: str) -> tuple[list[str], list[str]]:
    """A short secret's Base64 and hex forms, found where they stand alone."""
    b64: set[str] = set()
    for variant in {secret, secret.lower(), secret.upper()}:
        data = variant.encode("utf-8", "surrogatepass")
        for encoded in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
            b64 |= {encoded.decode(), encoded.decode().rstrip("=")}
    hexes = {secret.encode(codec, "surrogatepass").hex()
             for codec in ("utf-8", "utf-16-be", "utf-16-le")}
    return [f for f in b64 if len(f) >= 4], [f for f in hexes if len(f) >= 4]


class _Compiled:
    """Everything `Redactor.redact` looks for, built from one set of secrets."""

    def __init__(self, secrets: frozenset[str], literals: frozenset[str]) -> None:
        self.secrets = secrets
        self.literals = literals
        text_forms: list[_Form] = []
        bytes_forms: list[_Form] = []
        words: list[str] = []
        anywhere: list[str] = []
        b64: list[str] = []
        hexes: list[str] = []
        for secret in sorted(secrets):
            form = _text_form(secret) if len(secret) >= SHORT else None
            if form is None:
                folded = "".join(_fold_char(char) for char in secret)
                shown = [folded, folded.replace(" ", "+")]  # a form's space
                (words if len(secret) < SHORT else anywhere).extend(shown)
            else:
                text_forms.append(form)
                bytes_forms += _bytes_forms(secret)
            if len(secret) < RUN:
                more_b64, more_hex = _blob_forms(secret)
                b64 += more_b64
                hexes += more_hex
        self.text = _Index(text_forms, words, anywhere)
        self.bytes = _Index(bytes_forms)
        self.exact = _alternatives(list(literals), "{}")
        self.b64 = _alternatives(b64, rf"(?<![{_B64_CHAR}])(?:{{}})(?![{_B64_CHAR}=])")
        self.hex = _alternatives(hexes, r"(?<![0-9a-fA-F])(?:{})(?![0-9a-fA-F])",
                                 re.IGNORECASE)

    def scan(self, view: _View, depth: int, found: list[tuple[int, int]]) -> None:
        """Add to `found` the original span of every secret that the text `view`
        shows (`depth`: how many Base64 or hex decodings made it)."""
        levels = [view]
        while len(levels) <= (_LEVELS if depth == 0 else 1):
            decoded = _unescape(levels[-1].text)
            if decoded is None:
                break
            levels.append(_View(decoded[0], levels[-1], decoded[1]))
        # Each level is looked at: decoding shows what escapes hid, but may hide
        # what was there as it is (a secret that holds `%2B`, or that follows a
        # backslash: `\\n`).
        for number, level in enumerate(levels):
            _search(level, self.text, _fold_as_text, found)
            if number in (0, len(levels) - 1):
                self._literals(level, depth, found)
        if depth < _DEPTH:
            views = _byte_views(levels[-1])
            if len(levels) > 1:
                # Decoding may take the first characters of a run into an escape
                # (`\612d…`, `%612d…`): the runs beside one are read as shown too.
                views = itertools.chain(views, _byte_views(levels[0], levels[1].escapes()))
            for decoded_view in views:
                # The bytes as they are (binary, UTF-16...), and the text in them.
                _search(decoded_view, self.bytes, _fold_as_bytes, found)
                self._literals(decoded_view, depth + 1, found)
                text = _text_stretches(decoded_view)
                if text is not None:
                    self.scan(text, depth + 1, found)

    def _literals(self, view: _View, depth: int, found: list[tuple[int, int]]) -> None:
        for pattern in (self.exact, self.b64, self.hex) if depth == 0 else (self.exact,):
            if pattern is not None:
                found.extend(view.original(*m.span()) for m in pattern.finditer(view.text))


# ---------------------------------------------------------------------------
# Looking for the secrets in one view


def _search(level: _View, index: _Index, fold: Callable[[str], tuple[str, _Map | None]],
            found: list[tuple[int, int]]) -> None:
    if not index:
        return
    folded, back = fold(level.text)
    view = _View(folded, level, back)
    for pattern in (index.words, index.anywhere):
        if pattern is not None:
            found.extend(view.original(*m.span()) for m in pattern.finditer(folded))
    if index.forms:
        _Search(view, index, found).run()


class _Search:
    """The secrets' runs of letters in one squeezed view."""

    def __init__(self, view: _View, index: _Index, found: list[tuple[int, int]]) -> None:
        self.view = view
        self.squeezed = _Squeezed(view.text)
        self.index = index
        self.found = found
        # (form, offset) -> the runs found with that alignment
        self.seen: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def run(self) -> None:
        text = self.squeezed.text
        for number in self.index.whole:
            letters = self.index.forms[number].letters
            i = text.find(letters)
            while i >= 0:
                self._extend(number, i, 0, len(letters))
                i = text.find(letters, i + 1)
        table, size = self.index.pieces, self.index.size
        if table:
            hits = [i for i in range(0, len(text) - size + 1, self.index.step)
                    if text[i:i + size] in table]
            for i in hits:
                for number, j in table[text[i:i + size]]:
                    self._extend(number, i, j, size)

    def _extend(self, number: int, i: int, j: int, q: int) -> None:
        """Letters j..j+q of the form are at i..i+q of the text: find the whole run."""
        offset = i - j
        runs = self.seen.get((number, offset))
        if runs is not None and any(start <= i < end for start, end in runs):
            return  # inside a run already found
        form, text = self.index.forms[number], self.squeezed.text
        letters = form.letters
        start, end = j, j + q
        while start > 0 and start + offset > 0 and text[start + offset - 1] == letters[start - 1]:
            start -= 1
        while (end < len(letters) and end + offset < len(text)
               and text[end + offset] == letters[end]):
            end += 1
        if end - start < form.window or not form.could_cover(start, end - 1):
            return
        self.seen.setdefault((number, offset), []).append((start + offset, end + offset))
        # Where the secret has separators between two letters, the text has some too.
        first = start
        for k in range(start + 1, end + 1):
            if k == end or (form.gap(k) and not self.squeezed.gap_before(k + offset)):
                self._mask(form, first, k, offset)
                first = k

    def _mask(self, form: _Form, first: int, end: int, offset: int) -> None:
        """Mask letters first..end of the form (at first + offset... of the text)
        when, with the separators of the secret that the text shows beside them,
        they cover `form.need` characters of the secret."""
        if end - first < _LETTERS:
            return
        text = self.view.text
        start_at, taken_before = _edge(text, self.squeezed.span(first + offset)[0],
                                       form.before(first), -1)
        last_at, taken_after = _edge(text, self.squeezed.span(end - 1 + offset)[0],
                                     form.after(end - 1), 1)
        shown_first = form.at[first] - taken_before
        shown_last = form.at[end - 1] + taken_after
        if form.origin[shown_last] - form.origin[shown_first] + 1 >= form.need:
            # The zero bytes of UTF-16 or UTF-32 around it go with it.
            while start_at > 0 and text[start_at - 1] == "\0":
                start_at -= 1
            while last_at + 1 < len(text) and text[last_at + 1] == "\0":
                last_at += 1
            self.found.append(self.view.original(start_at, last_at + 1))


def _edge(text: str, at: int, separators: str, step: int) -> tuple[int, int]:
    """How far the secret's own `separators` (nearest first) go on from text[at]
    in direction `step`, with other separators between: (the last position, how
    many of them)."""
    taken = 0
    last = at
    skipped = 0
    at += step
    while taken < len(separators) and 0 <= at < len(text):
        char = text[at]
        if char == separators[taken]:
            taken += 1
            last = at
        elif skipped == _SKIP or _SEPARATOR.fullmatch(char) is None:
            break
        else:
            skipped += 1
        at += step
    return last, taken


# ---------------------------------------------------------------------------
# Base64 and hex: the bytes a run stands for


class _Bits:
    """A byte view's characters -> the Base64 or hex characters that gave them."""

    def __init__(self, bits: int, skip: int, size: int) -> None:
        self._bits = bits  # per character: 6 for Base64, 4 for hex
        self._skip = skip
        self._size = size  # of the encoded text

    def span(self, i: int) -> tuple[int, int]:
        first = self._skip + 8 * i // self._bits
        last = self._skip + (8 * i + 7) // self._bits + 1
        return first, min(last, self._size)


class _Joined:
    """Runs of a text put one after another -> where each character was."""

    def __init__(self, spans: list[tuple[int, int, int]], pairs: bool) -> None:
        self._spans = spans  # (start, end without padding, end)
        self._pairs = pairs  # hex bytes with a separator after each
        self._at = [0]
        for start, core_end, _ in spans[:-1]:
            size = (core_end - start + 1) // 3 * 2 if pairs else core_end - start
            self._at.append(self._at[-1] + size)

    def span(self, i: int) -> tuple[int, int]:
        k = bisect_right(self._at, i) - 1
        start, core_end, end = self._spans[k]
        offset = i - self._at[k]
        at = min(start + (offset + offset // 2 if self._pairs else offset), core_end - 1)
        # The last character of a run stands for its `=` padding too.
        return at, (end if at == core_end - 1 else at + 1)


def _runs(level: _View, pattern: re.Pattern[str],
          beside: list[tuple[int, int]] | None = None) -> _View | None:
    """The runs of `level` that `pattern` finds (only those that touch one of the
    spans `beside`, when given), one after another, without their `=` padding
    (group 1) or the separators between hex bytes."""
    text = level.text
    pairs = pattern is _HEX_PAIRS
    if pattern.groups:
        spans = [(m.start(), m.start(1), m.end()) for m in pattern.finditer(text)]
    else:
        spans = [(m.start(), m.end(), m.end()) for m in pattern.finditer(text)]
    if beside is not None:
        ends = [end for _, end in beside]  # the spans do not overlap: in order
        spans = [(start, core_end, end) for start, core_end, end in spans
                 if (k := bisect_left(ends, start)) < len(beside) and beside[k][0] < end]
    if not spans:
        return None
    if pairs:
        joined = "".join(text[k:k + 2] for start, end, _ in spans for k in range(start, end, 3))
    else:
        joined = "".join([text[start:end] for start, end, _ in spans])
    return _View(joined, level, _Joined(spans, pairs))


def _byte_views(level: _View, beside: list[tuple[int, int]] | None = None
                ) -> Iterator[_View]:
    """The bytes that the Base64 and hex runs of `level` stand for, read as
    Latin-1 (one character per byte): each kind of run one after another, read
    from each character of a group (of four for Base64, two for hex), since a
    run may start anywhere in one.  Where a run ends and the next begins, a
    byte or two are noise.  `beside`: only the runs that touch these spans."""
    b64 = _runs(level, _B64_RUN, beside)
    if b64 is not None:
        encoded = b64.text.translate(_URLSAFE)
        for skip in range(4):
            chunk = encoded[skip:]
            data = binascii.a2b_base64(chunk + "A" * (-len(chunk) % 4))
            yield _View(data.decode("latin-1"), b64, _Bits(6, skip, len(b64.text)))
    for pattern in (_HEX_RUN, _HEX_PAIRS):
        hexes = _runs(level, pattern, beside)
        if hexes is not None:
            for skip in range(2):
                chunk = hexes.text[skip:]
                data = bytes.fromhex(chunk + "0" * (len(chunk) % 2))
                yield _View(data.decode("latin-1"), hexes, _Bits(4, skip, len(hexes.text)))


def _text_stretches(view: _View) -> _View | None:
    """The stretches of a byte view that are text, decoded from UTF-8."""
    text = view.text.encode("latin-1").decode("utf-8", "surrogateescape")
    parts: list[str] = []
    back = _Pieces()
    at = done = byte = 0
    for m in _TEXT_STRETCH.finditer(text):
        byte += len(text[done:m.start()].encode("utf-8", "surrogateescape"))
        stretch = m.group()
        if stretch.isascii():
            back.copied(at, byte)
            byte += len(stretch)
        else:
            for k, char in enumerate(stretch, at):
                size = len(char.encode("utf-8"))
                back.unit(k, byte, byte + size)
                byte += size
        parts.append(stretch)
        at += len(stretch)
        done = m.end()
    return _View("".join(parts), view, back) if parts else None


# ---------------------------------------------------------------------------


class Redactor:
    """Masks, in any text, the secrets it was given (see the module's docstring).

    Safe to share between threads: `add` replaces the set of secrets (under a
    lock), and `redact` works on the set it found.
    """

    def __init__(self, *secrets: str | None) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._literals: frozenset[str] = frozenset()
        self._compiled: _Compiled | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret:
            with self._lock:
                if secret not in self._secrets:
                    self._secrets = self._secrets | {secret}

    def add_basic(self, client_id: str, secret: str | None) -> None:
        """The Basic credentials as they cross the wire (RFC 6749 §2.3.1): the
        secret, and the whole `id:secret` pair and its Base64, which hold a short
        secret where it would not stand alone."""
        if not secret:
            return
        self.add(secret)
        pair = f"{quote_plus(client_id, safe='')}:{quote_plus(secret, safe='')}"
        with self._lock:
            self._literals = self._literals | {pair, base64.b64encode(pair.encode()).decode()}

    def merge(self, other: Redactor) -> None:
        with self._lock:
            self._secrets = self._secrets | other._secrets
            self._literals = self._literals | other._literals

    def _current(self) -> _Compiled:
        secrets, literals = self._secrets, self._literals
        compiled = self._compiled
        if compiled is None or compiled.secrets is not secrets or compiled.literals is not literals:
            compiled = _Compiled(secrets, literals)
            self._compiled = compiled
        return compiled

    def redact(self, text: str) -> str:
        if not text or not (self._secrets or self._literals):
            return text
        found: list[tuple[int, int]] = []
        self._current().scan(_View(text), 0, found)
        spans = sorted(span for span in found if span[1] > span[0])
        if not spans:
            return text
        parts: list[str] = []
        done = 0
        start, end = spans[0]
        for next_start, next_end in spans[1:]:
            if next_start <= end:
                end = max(end, next_end)
                continue
            parts += (text[done:start], MASK)
            done, start, end = end, next_start, next_end
        parts += (text[done:start], MASK, text[end:])
        return "".join(parts)

    def cut(self, text: str, limit: int) -> str:
        """Mask first, then cut to `limit` characters (with "…" when cut)."""
        text = self.redact(text)
        return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
