"""What `token` and `exec` say for a target whose every request is signed:
there is no credential to hand over (exit 2), and what to use instead."""

from __future__ import annotations

from astra_auth.core.errors import UsageError
from astra_auth.text.shellcmd import command


def signed_refusal(name: str, auth_type: str | None, command_name: str) -> UsageError:
    """`token` and `exec` cannot hand over a credential that signs each
    request: what to use instead (exit 2)."""
    from astra_auth.core.validate import AUTH_LABELS

    what = ("a DPoP-bound token, which goes nowhere without a fresh proof per request"
            if auth_type == "oauth2" else
            f"{AUTH_LABELS.get(auth_type or '', auth_type)}: each request carries its own "
            "signature, so there is no credential to hand over")
    hints = ["Put the proxy between the scanner and the API; it signs every request: "
             + command("proxy", name),
             "From Python (httpx), sign each request with astra_auth.auth_for("
             + repr(name) + ") (or the Schemathesis provider: SCHEMATHESIS_HOOKS="
             "astra_auth.schemathesis)."]
    if auth_type == "oauth2" and command_name == "token":
        hints.append("To see the token itself: " + command("token", name, "--format", "json"))
    return UsageError(f"{command_name}: target {name!r} uses {what}", hints=hints)
