"""Masking secrets in anything that may be shown.

A provider may echo a submitted secret back in `error_description`, a proxy
may put a header into an HTML page: whatever text came from outside, or was
built from a request, passes through `Redactor.redact` before it is shown.

Two rules hold everywhere (issue 15, finding 3):
- mask first, then cut: `Redactor.cut` masks the whole text and only then
  shortens it, so a secret that straddles the cut never shows its first half;
- every form a secret takes on the wire or in a page is masked: as it is,
  percent-encoded (upper- and lowercase hex digits, `+` or `%20` for a space),
  JSON- and HTML-escaped, Base64 (standard and URL-safe, with and without
  padding) and hex.  A secret shorter than `MIN_SUBSTRING` is masked only where
  it stands as a whole word: masking every "p" of a one-letter password would
  garble every message.
"""

from __future__ import annotations

import base64
import html
import json
import re
from urllib.parse import quote, quote_plus

MASK = "••••••"
MIN_SUBSTRING = 4

_PERCENT = re.compile(r"%[0-9A-F]{2}")


def _lower_percent(text: str) -> str:
    return _PERCENT.sub(lambda m: m.group().lower(), text)


def variants(secret: str) -> set[str]:
    """The forms in which `secret` may appear in a text."""
    data = secret.encode("utf-8")
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        quote(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
        "".join(f"&#{ord(ch)};" for ch in secret),
        "".join(f"&#x{ord(ch):x};" for ch in secret),
        base64.b64encode(data).decode(),
        base64.b64encode(data).decode().rstrip("="),
        base64.urlsafe_b64encode(data).decode(),
        base64.urlsafe_b64encode(data).decode().rstrip("="),
        data.hex(),
        data.hex().upper(),
    }
    # Every byte percent-encoded, unreserved characters included.
    forms.add("".join(f"%{b:02X}" for b in data))
    forms |= {_lower_percent(f) for f in forms if "%" in f}
    return {f for f in forms if f}


class Redactor:
    def __init__(self, *secrets: str | None) -> None:
        self._variants: set[str] = set()
        self._words: set[str] = set()
        self._ordered: list[str] | None = None
        self._word_pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret:
            return
        if len(secret) < MIN_SUBSTRING:
            self._words.add(secret)
            self._word_pattern = None
            return
        self._variants.update(variants(secret))
        self._ordered = None

    def add_basic(self, client_id: str, secret: str | None) -> None:
        """The Basic credentials as they cross the wire (RFC 6749 §2.3.1)."""
        if not secret:
            return
        pair = f"{quote_plus(client_id, safe='')}:{quote_plus(secret, safe='')}"
        self.add(base64.b64encode(pair.encode()).decode())
        self.add(pair)

    def merge(self, other: Redactor) -> None:
        self._variants |= other._variants
        self._words |= other._words
        self._ordered = None
        self._word_pattern = None

    def redact(self, text: str) -> str:
        if self._ordered is None:
            # Longest first, so that a variant containing another is masked whole.
            self._ordered = sorted(self._variants, key=len, reverse=True)
        for variant in self._ordered:
            if variant in text:
                text = text.replace(variant, MASK)
        if self._words:
            if self._word_pattern is None:
                alternatives = "|".join(re.escape(w) for w in
                                        sorted(self._words, key=len, reverse=True))
                self._word_pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
            text = self._word_pattern.sub(MASK, text)
        return text

    def cut(self, text: str, limit: int) -> str:
        """Mask first, then cut to `limit` characters (with "…" when cut)."""
        text = self.redact(text)
        return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
