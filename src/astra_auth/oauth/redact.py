"""Masking secrets in anything that may be shown.

A provider may echo a submitted secret back in `error_description`, a proxy
may put a header into an HTML page: whatever text came from outside, or was
built from a request, passes through `Redactor.redact` before it is shown.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus

MASK = "••••••"
# A "secret" shorter than this is masked only where it stands alone as a field
# value (see grant._show_request), not as a substring of every text: masking
# each "p" of a one-letter password would garble every message, and such a
# value occurs in ordinary words anyway.
MIN_SUBSTRING = 4


class Redactor:
    def __init__(self, *secrets: str | None) -> None:
        self._variants: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < MIN_SUBSTRING:
            return
        variants = {
            secret,
            quote(secret, safe=""),
            quote_plus(secret, safe=""),
            quote(secret),
            json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1],
        }
        self._variants.update(v for v in variants if v)

    def add_basic(self, client_id: str, secret: str | None) -> None:
        """The Basic credentials as they cross the wire (RFC 6749 §2.3.1)."""
        if not secret:
            return
        pair = f"{quote_plus(client_id, safe='')}:{quote_plus(secret, safe='')}"
        self.add(base64.b64encode(pair.encode()).decode())
        self.add(pair)

    def redact(self, text: str) -> str:
        # Longest first, so that a variant containing another is masked whole.
        for variant in sorted(self._variants, key=len, reverse=True):
            if variant in text:
                text = text.replace(variant, MASK)
        return text
