"""Reading a JWT's claims for display, without verifying its signature.

The claims help a user see what the provider issued (audience, scopes, expiry);
they are never trusted for a decision, and the output says the signature was
not checked.
"""

from __future__ import annotations

import base64
import json
from typing import Any


def claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWS compact token, or None when it is not one."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return None
    try:
        header = json.loads(_b64url(parts[0]))
        payload = json.loads(_b64url(parts[1]))
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: claims nested thousands deep, from a hostile provider.
        return None
    if not isinstance(header, dict) or "alg" not in header or not isinstance(payload, dict):
        return None
    return payload


def header(token: str) -> dict[str, Any] | None:
    """The JOSE header of a JWS compact token (`alg`, `kid`…), or None."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0]:
        return None
    try:
        data = json.loads(_b64url(parts[0]))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) and "alg" in data else None


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
