"""When a credential with an expiry stops being used: the one renewal rule.

Every consumer (`proxy`, `token`, `exec`, `auth_for`, the Schemathesis
provider) and every source that renews (OAuth 2.0 tokens, JWTs signed here)
asks `renew_at`:

- at 80 % of the credential's lifetime or 60 s before it expires, whichever
  comes first,
- but never before half of its lifetime has passed (a 90-second token is used
  for 45 s, not replaced on every request);
- a caller may demand more (`token --min-ttl`, `exec --min-ttl`): a credential
  that will not live for `min_ttl` more seconds is renewed first.
"""

from __future__ import annotations

# Share of the lifetime after which a credential is renewed.
RENEW_AT_SHARE = 0.8
# Renew at the latest this many seconds before expiry ...
RENEW_BEFORE = 60.0
# ... but never before this share of the lifetime has passed.
KEEP_AT_LEAST = 0.5


def renew_at(issued_at: float | None, expires_at: float, min_ttl: float | None = None) -> float:
    """The moment from which a credential issued at `issued_at` and expiring at
    `expires_at` is renewed before use.

    `issued_at` None (a token cached by an older release): the lifetime is
    unknown, and only the 60-second rule applies.  `min_ttl`: the caller's own
    demand, on top of the rule.
    """
    if issued_at is None or expires_at <= issued_at:
        point = expires_at - RENEW_BEFORE
    else:
        lifetime = expires_at - issued_at
        point = min(issued_at + RENEW_AT_SHARE * lifetime, expires_at - RENEW_BEFORE)
        point = max(point, issued_at + KEEP_AT_LEAST * lifetime)
    if min_ttl is not None:
        point = min(point, expires_at - min_ttl)
    return point
