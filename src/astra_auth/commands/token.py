"""`astra-auth token NAME`: a valid credential on stdout, for scripts."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from astra_auth.commands.options.token import TokenOptions
from astra_auth.commands.shared.handover import signed_refusal
from astra_auth.core import validate
from astra_auth.core.errors import UsageError
from astra_auth.credentials.interface import Credential, SourceSettings, open_source
from astra_auth.net.settings import check_network_options
from astra_auth.storage.lookup import load_target
from astra_auth.text.shellcmd import command

if TYPE_CHECKING:
    from astra_auth.deps import Deps

# A line break or control character in what `token` prints would let whoever
# chose the credential (a provider, an edited keyring entry) forge a second
# header line for `--format header`, or write to a terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_printable(text: str, name: str) -> None:
    """Refuse to print a credential holding control characters, wherever it
    came from (the grant already refuses such tokens, the keyring cache may not)."""
    if _CONTROL.search(text) is None:
        return
    from astra_auth.core.failure import Category, CredentialError, Failure

    failure = Failure(Category.INVALID_TOKEN_RESPONSE, "The credential holds a line break or "
                      "control character, so it is not printed.")
    raise CredentialError(failure, ["Ask for a new one: "
                               + command("token", name, "--no-cache")])


def token(opts: TokenOptions, deps: Deps) -> None:
    try:
        validate.choice(opts.format, validate.TOKEN_FORMATS)
    except ValueError as exc:
        raise UsageError(f"--format: {exc}") from None
    if not 0 <= opts.min_ttl <= 86400:
        raise UsageError("--min-ttl: give a number of seconds between 0 and 86400")
    check_network_options(opts.timeout, opts.ca_bundle)
    target = load_target(deps, opts.name)
    dpop_json = opts.format == "json" and target.oauth2 is not None and target.oauth2.dpop
    if target.signs_each_request and not dpop_json:
        raise signed_refusal(target.name, target.auth_type, "token")
    source = open_source(target, deps, SourceSettings(min_ttl=opts.min_ttl,
                                                      use_cache=not opts.no_cache,
                                                      timeout=opts.timeout,
                                                      ca_bundle=opts.ca_bundle))
    # A CredentialError carries the category, hints and exit code of test-token; the
    # CLI prints it on stderr, and nothing reaches stdout.
    credential = source.get()
    if credential.signer is not None and not dpop_json:
        raise signed_refusal(target.name, target.auth_type, "token")
    text = render(credential, opts.format, target.name)
    _check_printable(text, target.name)
    deps.io.write_out(text + "\n")


def render(credential: Credential, format: str, name: str) -> str:
    """The credential as `token --format` prints it."""
    if format == "bare":
        if credential.token is None or credential.location != "header":
            # Only formats that work for this credential: a query parameter has
            # no header line to print.
            formats = ["json"] if credential.location == "query" else ["header", "json"]
            raise UsageError(
                f"--format bare: target {name!r} has no bare token to print "
                f"(its credential goes in a {credential.location} as a whole)",
                hints=["Use: " + " (or: ".join(command("token", name, "--format", f)
                                               for f in formats)
                       + ")" * (len(formats) - 1)],
            )
        return credential.token
    if format == "header":
        if credential.location == "query":
            raise UsageError(
                f"--format header: target {name!r} sends its credential as the query "
                f"parameter {credential.name!r}, not in a header",
                hints=["Use: " + command("token", name, "--format", "json")],
            )
        if credential.location == "cookie":
            return f"Cookie: {credential.name}={credential.value}"
        return f"{credential.name}: {credential.value}"
    expires = None
    if credential.expires_at is not None:
        import datetime as dt

        when = dt.datetime.fromtimestamp(credential.expires_at, dt.UTC)
        expires = when.isoformat(timespec="seconds").replace("+00:00", "Z")
    if credential.signer is not None:
        # A DPoP-bound token (RFC 9449): no header value works without a proof.
        return json.dumps({
            "token_type": "DPoP",
            "access_token": credential.token,
            "expires_at": expires,
            "scope": credential.scope,
            "header_name": None,
            "header_value": None,
            "note": "DPoP-bound: each request needs a fresh DPoP proof of this target's key "
                    "(RFC 9449), which astra-auth proxy and astra_auth.auth_for add.",
        })
    return json.dumps({
        "token_type": credential.token_type,
        "access_token": credential.token,
        "expires_at": expires,
        "scope": credential.scope,
        "header_name": credential.name if credential.location == "header" else None,
        "header_value": credential.value if credential.location == "header" else None,
    })
