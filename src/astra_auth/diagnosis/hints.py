"""What to do about each failure: specific, in the user's terms, with a command.

Every point of the product's troubleshooting guide appears here word for word
(GUIDE_*), attached to the categories it helps with.

Credential sources raise a `CredentialError` that carries its failure and
target but no hints; `explain` adds them, for whoever shows the error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from astra_auth.core.errors import AstraError
from astra_auth.core.failure import Category, CredentialError, Failure
from astra_auth.core.validate import GRANT_LABELS, secret_words
from astra_auth.storage.secretstore import env_names, sources
from astra_auth.text import shellcmd
from astra_auth.text.shellcmd import Placeholder

if TYPE_CHECKING:
    from astra_auth.storage.config import Target

E = TypeVar("E", bound=AstraError)

GUIDE_REACH = (
    "Verify that the Access Token URL is reachable from the scanner's environment and "
    "that the Client ID and Client Secret are correct."
)
GUIDE_PASSWORD = (
    "Confirm the username and password are valid and that the Resource Owner Password "
    "flow is enabled on the identity provider."
)
GUIDE_GRANT = (
    "Unsure which grant type to use? Client Credentials when no user context is needed; "
    "Resource Owner Password when a specific user account must be authenticated. Check "
    "the identity provider's documentation."
)


@dataclass
class Context:
    target: str
    grant_type: str
    client_id: str
    client_auth: str
    token_url: str
    scope: str | None = None
    audience: str | None = None
    secrets_mode: str = "keyring"
    # Where each secret came from, by kind: "keyring", "missing" or the name of
    # the variable that supplied it (a variable wins over the keyring).
    sources: dict[str, str] = field(default_factory=dict)
    # Whether the keyring answered on this machine (None: not asked), so that a
    # hint suggests storing a secret there only where that can work.
    keyring_usable: bool | None = None
    # private_key_jwt and tls_client_auth (docs/auth/enterprise.md)
    assertion_alg: str | None = None
    assertion_audience: str | None = None
    assertion_kid: str | None = None
    certificate: str | None = None

    @classmethod
    def of(cls, target: Target, environ: Mapping[str, str] | None = None,
           keyring_usable: bool | None = None, *,
           secret_sources: Mapping[str, str] | None = None) -> Context:
        """The context of an oauth2 target; where its secrets come from is
        read from `environ`, or given as `secret_sources`."""
        o = target.oauth2
        assert o is not None
        if secret_sources is None:
            secret_sources = sources(target, environ) if environ is not None else {}
        return cls(target.name, o.grant_type, o.client_id, o.client_auth, o.token_url,
                   o.scope, o.audience, secrets_mode=o.secrets, sources=dict(secret_sources),
                   keyring_usable=keyring_usable, assertion_alg=o.assertion_alg,
                   assertion_audience=o.assertion_audience, assertion_kid=o.assertion_kid,
                   certificate=o.certificate)


def seconds(n: int | float | str) -> str:
    """"1 second", "30 seconds"."""
    return f"{n} second" + ("" if str(n) == "1" else "s")


def _overridden(ctx: Context, kind: str) -> str | None:
    """The variable that supplied this secret, when one did."""
    source = ctx.sources.get(kind)
    return source if source not in (None, "keyring", "missing") else None


def _guide_reach(ctx: Context) -> list[str]:
    """The guide's general advice, where it fits: the provider answered, without
    saying clearly why it refused, a client that has a Client Secret.  Not
    after a DNS error, a 404 or the like, where it sends the user to check
    what cannot be the cause."""
    return [GUIDE_REACH] if ctx.client_auth in ("basic", "post") else []


def unset_hint(variable: str, what: str, mode: str) -> str:
    """A variable supplied the secret that was refused: storing it again cannot
    help while the variable is set (a generic ASTRA_AUTH_CLIENT_SECRET meant for
    one target overrides every target's stored secret)."""
    if mode == "keyring":
        return (f"The {what} came from {variable}, which overrides the one stored in the "
                f"keyring: check its value, or unset it to use the stored one: unset {variable}")
    return f"The {what} came from {variable}: check its value where astra-auth runs."


def hints_for(failure: Failure, ctx: Context) -> list[str]:
    return _HANDLERS[failure.category](failure, ctx)


def explain(error: E) -> E:
    """`error`, with its hints when it is a `CredentialError` that a
    credential source raised without them (it carries its target instead).

    Called by whoever shows the error: the CLI's error printer, the proxy's
    502 answer, `auth_for` and the Schemathesis provider.  An error that has
    hints already keeps them, so calling it twice changes nothing."""
    if isinstance(error, CredentialError) and not error.hints and error.target is not None:
        error.hints = credential_hints(error.failure, error.target, error.secret_sources)
    return error


def credential_hints(failure: Failure, target: Target,
                     secret_sources: Mapping[str, str]) -> list[str]:
    """What to do when a credential source could not give `target`'s
    credential; `secret_sources` says where each of its secrets came from."""
    details = failure.details
    if "header_value" in details:
        return _unfit_value(target.name, details.get("kind"), secret_sources)
    if "renewing" in details:
        return ["The provider is slow to answer: the next request tries again."]
    if target.oauth2 is not None:
        return hints_for(failure, Context.of(target, secret_sources=secret_sources))
    if failure.category == Category.MISSING_SECRET:
        usable = {"usable": True, "unusable": False}.get(details.get("keyring", ""))
        return missing_secret_hints(failure, target.name, details.get("kind", ""),
                                    target.secrets_mode, usable)
    if failure.category == Category.INVALID_KEY and target.jwt is not None:
        algorithm = target.jwt.algorithm
        key = "shared secret" if algorithm.startswith("HS") else "PEM private key"
        return [f"Give a {key} that fits {algorithm}: "
                f"{shellcmd.command('configure', target.name)} (or set "
                f"{env_names(target.name, 'signing_key')[0]})."]
    if failure.category == Category.INVALID_KEY and "kind" in details:
        source = secret_sources.get(details["kind"])
        variable = source if source not in (None, "keyring", "missing") else None
        return invalid_secret_hints(target, details["kind"], variable)
    return []


def _unfit_value(target: str, kind: str | None, secret_sources: Mapping[str, str]) -> list[str]:
    """A credential that cannot go into a header: where to set it again."""
    variable = secret_sources.get(kind) if kind else None
    if variable not in (None, "keyring", "missing"):
        return [f"Set {variable} again without it (a secret pasted into a CI variable often "
                "ends in a line break)."]
    if kind in _STDIN_FLAGS:
        return ["Store it again without it: "
                + shellcmd.command("configure", target, _STDIN_FLAGS[kind], "--no-input")]
    return ["Check the target's settings: " + shellcmd.command("targets", "show", target)]


def configure_command(ctx: Context, *flags: str) -> str:
    """The command that changes a setting of this target, ready to copy; each
    argument quoted (`shellcmd`), so a value from outside cannot run code."""
    return shellcmd.configure(ctx.target, *flags)


ANY_URL = Placeholder("https://…")


# No discovery document is cited in these hints: one may not exist.  test-token
# adds the token endpoint that the provider's discovery document names, when
# one answered (diagnose.py, _specific_hints).
FIND_ENDPOINT = ("the provider's documentation or admin console names its token endpoint "
                 "(token_endpoint in its OpenID Connect discovery document, if it has one).")


def _host(ctx: Context) -> str:
    return urlsplit(ctx.token_url).hostname or "?"


def _dns(f: Failure, ctx: Context) -> list[str]:
    return [
        f"Check the host name {_host(ctx)!r} in the Access Token URL; fix it with: "
        + configure_command(ctx, "--token-url", ANY_URL),
        "If the host is only known inside a VPN or to a corporate DNS server, run the "
        "scanner (and astra-auth) where that DNS answers.",
    ]


def _refused(f: Failure, ctx: Context) -> list[str]:
    return [
        "Check the port in the Access Token URL and that the identity provider is running "
        f"and listening at {urlsplit(ctx.token_url).netloc}.",
        "A firewall may reject the connection; where a proxy is required, set HTTPS_PROXY.",
    ]


def _connection_broke(f: Failure, ctx: Context) -> list[str]:
    return [
        f"The connection to {_host(ctx)} broke before a complete answer arrived: try again; a "
        "provider restarting, or a load balancer dropping connections, breaks some requests.",
        "If it keeps happening, look at what stands in between: a proxy (HTTPS_PROXY, "
        "NO_PROXY) or a TLS-inspecting firewall that cuts connections.",
    ]


def _timeout(f: Failure, ctx: Context) -> list[str]:
    # Not the guide's "Client ID and Client Secret": no answer came, so no
    # credential was judged.
    return [
        f"A firewall that silently drops packets looks like this: check the network path "
        f"from the scanner to {_host(ctx)}.",
        "If the provider is only slow, allow more time: "
        + shellcmd.command("test-token", ctx.target, "--timeout", "30"),
    ]


def _tls(f: Failure, ctx: Context) -> list[str]:
    hints = [
        "If your organisation uses its own certificate authority (a TLS-inspecting proxy, an "
        "internal CA), pass its certificate with --ca-bundle PATH or set SSL_CERT_FILE=PATH; "
        "installing it into the system trust store also works.",
    ]
    reason = f.details.get("tls_reason", "")
    if f.details.get("client_certificate") and "verify failed" not in reason:
        # The server's certificate was fine; the handshake broke on ours.
        return [
            f"The server refused the client certificate {ctx.certificate}: it must be "
            "issued by a CA that the server trusts for client certificates (or, for "
            "self_signed_tls_client_auth, be the one registered with the client); give "
            "another with: " + configure_command(ctx, "--certificate", Placeholder("PATH"),
                                                  "--private-key-file", Placeholder("PATH")),
            "Check that this endpoint accepts client certificates at all: providers often "
            "serve mutual TLS on a separate host (mtls_endpoint_aliases in their discovery "
            "document).",
        ]
    if "mismatch" in reason:
        hints.insert(0, f"The certificate is not valid for {_host(ctx)!r}: use the host name "
                        "the certificate was issued for in the Access Token URL.")
    elif "self" in reason or "unable to get local issuer" in reason:
        hints.insert(0, "The certificate is self-signed or issued by an unknown CA: trust that "
                        "CA with --ca-bundle PATH (never turn verification off).")
    return hints


def _redirect(f: Failure, ctx: Context) -> list[str]:
    # The Location comes from the server: suggested only when --token-url would
    # accept it, and quoted like every argument.
    location = shellcmd.suggestable_url(f.details.get("location"))
    if location is not None and location.startswith("https://") and _looks_like_token(location):
        return [
            f"The provider sends token requests on to {location}, which looks like its token "
            "endpoint: save it with: " + configure_command(ctx, "--token-url", location),
            "astra-auth never re-sends credentials to a redirect's location: the saved URL "
            "must be the one that answers.",
        ]
    hints = []
    if location is not None and location.startswith("https://"):
        hints.append("If the new location is the real token endpoint, save it: "
                     + configure_command(ctx, "--token-url", location))
    hints += [
        "A redirect to a login page means this URL is a web page, not the token endpoint; "
        + FIND_ENDPOINT,
        "A redirect from http:// to https:// or to add a trailing slash means the URL needs "
        "exactly that change.",
    ]
    return hints


def _looks_like_token(url: str) -> bool:
    """A URL whose last path segment names a token endpoint (`/token`,
    `/oauth2/v2.0/token`, `/o/token/`, `/protocol/openid-connect/token`)."""
    last = [s for s in urlsplit(url).path.split("/") if s][-1:]
    return bool(last) and "token" in last[0].lower()


def _not_found(f: Failure, ctx: Context) -> list[str]:
    # No discovery document is cited here: test-token cites one only after it
    # answered (under the token URL's own path prefix too, as django-oauth-
    # toolkit's /o/), see diagnose.py.
    return [
        f"Check the path of the Access Token URL ({urlsplit(ctx.token_url).path or '/'}): "
        "the provider's documentation or admin console names its token endpoint.",
        "Save the right one with: " + configure_command(ctx, "--token-url", ANY_URL),
    ]


def _method(f: Failure, ctx: Context) -> list[str]:
    return [
        "Token endpoints accept POST; this URL does not, so it is another page or API; "
        + FIND_ENDPOINT,
    ]


def _rate(f: Failure, ctx: Context) -> list[str]:
    retry = f.details.get("retry_after")
    return [
        ("Wait " + (seconds(retry) if retry and retry.isdigit() else "a while")
         + " before trying again."),
        "If scans hit the limit, ask the provider's administrator to raise it for this "
        "client, and let `astra-auth token` reuse its cached token instead of asking anew.",
    ]


def _server(f: Failure, ctx: Context) -> list[str]:
    return [
        "The provider failed on its side: try again later, and check its status page or logs.",
        "If it fails only for this client, check the client's settings on the provider; some "
        "providers answer 500 to a misconfigured client.",
    ]


def _http(f: Failure, ctx: Context) -> list[str]:
    hints = []
    if f.http_status == 401:
        variable = _overridden(ctx, "client_secret")
        if variable is not None:
            hints.append(unset_hint(variable, "client secret", ctx.secrets_mode))
        if f.details.get("other_client_auth"):
            hints += _other_method_note(f)
        else:
            hints.append(
                "The provider refused the client credentials without saying why: check the "
                f"Client ID and Client Secret, and the client authentication method (now "
                f"{ctx.client_auth}; to change it: "
                + configure_command(ctx, "--client-auth", _other(ctx)) + ")."
            )
    elif f.http_status == 403:
        hints.append(
            "403 without an OAuth error usually comes from a firewall, WAF or API gateway in "
            "front of the provider: check IP allow-lists for the scanner's address."
        )
    return hints + _guide_reach(ctx)


def _not_json(f: Failure, ctx: Context) -> list[str]:
    if f.details.get("html"):
        first = ("This URL looks like a login page rather than a token endpoint; "
                 + FIND_ENDPOINT)
    else:
        first = ("Check that the Access Token URL is the token endpoint, not an API gateway, "
                 "a web page or a proxy's error page.")
    return [first]


def _invalid_response(f: Failure, ctx: Context) -> list[str]:
    return [
        "A token endpoint answers with access_token and token_type (RFC 6749 §5.1): check "
        "that the Access Token URL is the token endpoint and not another API.",
    ]


def _other_method_note(f: Failure) -> list[str]:
    other = f.details.get("other_client_auth")
    if not other:
        return []
    result = f.details.get("other_client_auth_result", "")
    return [f"astra-auth also tried client authentication `{other}`, which failed too "
            f"({result}): the Client ID or Client Secret itself is the likely problem."]


def _other(ctx: Context) -> str:
    """The other client-authentication method."""
    return "post" if ctx.client_auth == "basic" else "basic"


def _secret_command(ctx: Context) -> str:
    return shellcmd.piped_secret("CLIENT_SECRET", configure_command(ctx, "--client-secret-stdin"))


def _invalid_client(f: Failure, ctx: Context) -> list[str]:
    if ctx.client_auth == "private_key_jwt":
        return _invalid_assertion(f, ctx)
    if ctx.client_auth == "tls_client_auth":
        return [
            f"The provider did not accept the certificate {ctx.certificate} for client "
            f"{ctx.client_id!r}: register that certificate (self-signed: its public key or "
            "x5c in the client's JWKS; PKI: the subject DN or SAN the provider expects) with "
            "the client.",
            "Check that the client's token endpoint auth method is tls_client_auth (or "
            "self_signed_tls_client_auth) and that the Access Token URL is the provider's "
            "mutual-TLS endpoint (its mtls_endpoint_aliases): "
            + configure_command(ctx, "--token-url", ANY_URL),
        ]
    if ctx.client_auth == "none":
        return [
            f"The provider requires client {ctx.client_id!r} to authenticate: it is not a "
            "public client. Give it its secret or key: "
            + configure_command(ctx, "--client-auth", "basic", "--client-secret-stdin"),
            "Or make the client public on the provider (token endpoint auth method none).",
        ]
    variable = _overridden(ctx, "client_secret")
    if variable is not None:
        first = [unset_hint(variable, "client secret", ctx.secrets_mode),
                 f"Check the Client ID {ctx.client_id!r} too."]
    else:
        first = [
            f"The provider did not accept client {ctx.client_id!r}: check the Client ID and the "
            "Client Secret (paste the secret's value, not its ID), then store it again with: "
            + _secret_command(ctx)]
    # Once both methods failed, suggesting the other one would contradict the note.
    method = [] if f.details.get("other_client_auth") else [
        f"Check the client authentication method: this request used `{ctx.client_auth}`; "
        "the provider may expect the other one: "
        + configure_command(ctx, "--client-auth", _other(ctx))]
    return [
        *first,
        *method,
        *_other_method_note(f),
        "Check that the client is enabled on the provider and its secret has not expired.",
        *_guide_reach(ctx),
    ]


def _invalid_assertion(f: Failure, ctx: Context) -> list[str]:
    """private_key_jwt refused: the usual culprits, each with its fix."""
    from astra_auth.oauth.client_auth import provider_defaults

    defaults = provider_defaults(ctx.token_url)
    aud = ctx.assertion_audience or defaults.audience or ctx.token_url
    alg = ctx.assertion_alg or defaults.alg
    kid = f.details.get("kid")
    thumbprint = f.details.get("x5t#S256")
    hints = [
        f"The assertion's aud was {aud!r}: the provider may expect another value (Okta and "
        "Entra: the token endpoint; Auth0: the tenant URL with a trailing slash; Keycloak: "
        "the realm's issuer). Change it with: "
        + configure_command(ctx, "--assertion-audience", ANY_URL),
        f"The assertion was signed with {alg}: the client must allow that algorithm (its "
        "token_endpoint_auth_signing_alg), and the key must fit it. Change it with: "
        + configure_command(ctx, "--assertion-alg", Placeholder("RS256|PS256|ES256")),
    ]
    own_kid = configure_command(ctx, "--assertion-kid", Placeholder("KID"))
    if ctx.assertion_kid:
        hints.append(f"The header named the key by kid {ctx.assertion_kid!r} (set with "
                     "--assertion-kid): check that the provider registered the public key "
                     "under exactly that kid, or give the one it shows: " + own_kid
                     + "; or name the key by its RFC 7638 thumbprint again: "
                     + configure_command(ctx, "--assertion-kid", ""))
    elif thumbprint:
        hints.append(f"The header named the certificate by x5t#S256 {thumbprint}: upload "
                     "that certificate to the client on the provider, or, where the provider "
                     "knows the key by a kid of its own, send that kid too: " + own_kid)
    else:
        hints.append("The header named the key by kid "
                     + (f"{kid!r} (its RFC 7638 thumbprint)" if kid else "(its RFC 7638 "
                        "thumbprint)")
                     + ": register the public key under that kid in the client's JWKS, or, "
                     "where the provider gave the key a kid of its own (Okta, Auth0), send "
                     "that kid: " + own_kid
                     + "; or give the certificate with --certificate to send x5t#S256 instead.")
    hints += [
        "An assertion is valid for 60 seconds from this machine's clock: a clock that is "
        "minutes off (clock skew) makes every one expired or not yet valid; check NTP.",
        f"Check that client {ctx.client_id!r} uses private_key_jwt on the provider and that "
        "the public key registered there is the half of the key stored here; store another "
        "key with: " + configure_command(ctx, "--private-key-file", Placeholder("PATH")),
    ]
    return hints


def _invalid_grant(f: Failure, ctx: Context) -> list[str]:
    if ctx.grant_type == "password":
        variable = _overridden(ctx, "password")
        return [
            GUIDE_PASSWORD,
            "Check that the account is not locked or disabled, and needs no password change, "
            "consent or MFA step: the password grant cannot answer those.",
            unset_hint(variable, "password", ctx.secrets_mode) if variable else
            "Store the password again with: "
            + shellcmd.piped_secret("PASSWORD", configure_command(ctx, "--password-stdin")),
        ]
    return [
        "The provider rejected the grant itself: check that this client may use Client "
        "Credentials and that any audience or resource it needs is set (--audience).",
    ]


def _invalid_request(f: Failure, ctx: Context) -> list[str]:
    hints = ["The provider found the request malformed or missing a parameter; its "
             "description above names it."]
    if ctx.grant_type == "password":
        hints.append(GUIDE_PASSWORD)
    hints.append("Some providers require an audience or a scope: set them with "
                 + configure_command(ctx, "--audience", Placeholder("…"),
                                   "--scope", Placeholder("…")))
    return hints


def _grant_not_allowed(f: Failure, ctx: Context) -> list[str]:
    label = GRANT_LABELS.get(ctx.grant_type, ctx.grant_type)
    other = "password" if ctx.grant_type == "client_credentials" else "client_credentials"
    first = (
        f"Enable the {label} grant for client {ctx.client_id!r} on the identity provider "
        "(Keycloak: 'Service Accounts Enabled' for Client Credentials, 'Direct Access "
        "Grants Enabled' for the password grant; Okta and Auth0: the application's allowed "
        "grant types)."
        if f.category == Category.UNAUTHORIZED_CLIENT
        else f"The provider does not support grant_type={ctx.grant_type}: enable the {label} "
        "grant on the provider."
    )
    hints = [first, GUIDE_GRANT,
             "To use the other grant instead: " + configure_command(ctx, "--grant-type", other)]
    if ctx.grant_type == "password":
        hints.append(GUIDE_PASSWORD)
    return hints


def _invalid_scope(f: Failure, ctx: Context) -> list[str]:
    if ctx.scope:
        first = (f"The scope sent was {ctx.scope!r}: check that each value exists on the "
                 "provider and is granted to this client.")
    else:
        first = "No scope was sent, and this provider requires one."
    return [first, "Change it with: " + configure_command(ctx, "--scope", Placeholder("'…'"))
            + " (or --scope '' to send none)."]


def _oauth_error(f: Failure, ctx: Context) -> list[str]:
    return [
        f"The provider answered with its own error code {f.oauth_error!r}; its description "
        "above says more, and the provider's documentation lists the code.",
        *_guide_reach(ctx),
    ]


def _insecure_url(f: Failure, ctx: Context) -> list[str]:
    if "verification_uri" in f.details:
        # The provider sent it: nothing to change here.
        return [
            f"The provider sent a {f.details['verification_uri']} that is not shown as a link: "
            "ask its administrator for an https one (without user information or control "
            "characters), then run again: " + shellcmd.command("login", ctx.target),
        ]
    # astra-auth itself refused: plain http to a host that is not loopback.
    return [
        "Use the provider's https token URL: " + configure_command(ctx, "--token-url", ANY_URL),
        "Plain http is only for an identity provider on this machine: use "
        "http://127.0.0.1:PORT/… or a name that resolves only to loopback addresses.",
    ]


def _issuer_mismatch(f: Failure, ctx: Context) -> list[str]:
    return [
        "Log in again: " + shellcmd.command("login", ctx.target) + ". If this comes "
        "back, something other than the provider answers the login (a browser "
        "extension, a proxy, or a wrong Authorization URL): check the target's "
        "authorization URL with: " + shellcmd.command("targets", "show", ctx.target),
    ]


def _login_required(f: Failure, ctx: Context) -> list[str]:
    return [
        "Log in once in a browser (MFA included), after which renewal is unattended: "
        + shellcmd.command("login", ctx.target),
        "If this keeps coming back, the provider revokes or expires refresh tokens early "
        "(an idle or absolute session lifetime): ask its administrator for a longer one.",
    ]


def _login_timeout(f: Failure, ctx: Context) -> list[str]:
    return [
        "The login was not completed before the code expired: run "
        + shellcmd.command("login", ctx.target) + " again and finish it in the browser.",
    ]


def _access_denied(f: Failure, ctx: Context) -> list[str]:
    return [
        "The login was declined at the provider: run "
        + shellcmd.command("login", ctx.target) + " again and approve the request.",
        f"If approval is not offered, the user may not be assigned to client {ctx.client_id!r}: "
        "ask the provider's administrator.",
    ]


def _invalid_key(f: Failure, ctx: Context) -> list[str]:
    if f.details.get("kind") == "dpop_key":
        variable = _overridden(ctx, "dpop_key")
        if variable is not None:
            return [unset_hint(variable, "DPoP key", ctx.secrets_mode)]
        return ["Make a new DPoP key for this target (the provider binds tokens to whichever "
                "key proves them; nothing needs registering): "
                + store_command(ctx.target, "dpop_key")]
    if ctx.client_auth == "tls_client_auth" or (
            ctx.certificate and "certificate" in f.message):
        return [
            "The private key and the certificate must be two halves of one key pair; store "
            "the key that belongs to the certificate with: "
            + configure_command(ctx, "--private-key-file", Placeholder("PATH"),
                                "--certificate", Placeholder("PATH")),
            "Check which key a certificate holds: openssl x509 -in CERT -noout -pubkey, and "
            "compare with: openssl pkey -in KEY -pubout",
        ]
    return [
        "The key must be a PEM private key that fits the algorithm (RS256 and PS256: an RSA "
        "key; ES256: an EC P-256 key); store it again with: "
        + configure_command(ctx, "--private-key-file", Placeholder("PATH")),
        "A certificate given with --certificate must be the public half of that same key.",
    ]


def _api_unauthorized(f: Failure, ctx: Context) -> list[str]:
    return [
        "The API did not accept the token (401): its WWW-Authenticate answer above says why. "
        "A token for another audience is the usual cause; set the one the API expects with: "
        + configure_command(ctx, "--audience", Placeholder("…")),
        "Check that the API trusts tokens from this provider (its issuer and signing keys).",
    ]


def _api_forbidden(f: Failure, ctx: Context) -> list[str]:
    return [
        "The API accepted the token but refused the request (403): the token lacks a scope or "
        "role. Ask for it with: " + configure_command(ctx, "--scope", Placeholder("'…'")),
        f"Check what client {ctx.client_id!r} (or its user) is granted on the provider for "
        "this API.",
    ]


def _missing_secret(f: Failure, ctx: Context) -> list[str]:
    kind = f.details.get("kind", "client_secret")
    return missing_secret_hints(f, ctx.target, kind, ctx.secrets_mode, ctx.keyring_usable)


# How each secret is handed to `configure` without a prompt: a `--…-stdin`
# flag fed from a variable, or a file flag for a PEM key.
_STDIN_FLAGS = {"client_secret": "--client-secret-stdin", "password": "--password-stdin",
                "bearer_token": "--token-stdin", "api_key": "--api-key-stdin",
                "signing_key": "--signing-key-stdin",
                "secret_access_key": "--secret-access-key-stdin",
                "session_token": "--session-token-stdin"}
_FILE_FLAGS = {"private_key": "--private-key-file"}


def store_command(target: str, kind: str, *flags: str) -> str:
    """The command that stores one secret of `target` in the keyring, ready to copy."""
    if kind == "dpop_key":
        # Made by configure, never typed: --dpop makes one where none is stored.
        return shellcmd.configure(target, *flags, "--dpop")
    if kind in _FILE_FLAGS:
        return shellcmd.configure(target, *flags, _FILE_FLAGS[kind], Placeholder("PATH"))
    return shellcmd.piped_secret(kind.upper(),
                                 shellcmd.configure(target, *flags, _STDIN_FLAGS[kind]))


def missing_secret_hints(f: Failure, target: str, kind: str, mode: str,
                         keyring_usable: bool | None) -> list[str]:
    """What to do about a secret that is nowhere: only commands that work for
    this target on this machine: no keyring command where the
    keyring cannot be used, no `--…-stdin` for a target that keeps its secrets
    in variables (configure refuses it) unless it moves to the keyring."""
    from astra_auth.storage.secretstore import env_names

    what = secret_words(kind)
    specific, generic = env_names(target, kind)
    env_hint = (f"set {specific} where astra-auth runs ({generic} works too, but applies to "
                "every target)")
    if mode == "env":
        hints = [f"This target reads its {what} from the environment: {env_hint}."]
        if keyring_usable:
            hints.append("Or keep it in this machine's OS keyring instead: "
                         + store_command(target, kind, "--secrets", "keyring"))
        return hints
    if f.details.get("keyring") == "unusable" or keyring_usable is False:
        return [
            f"The OS keyring cannot be used here: {env_hint}.",
            "To stop looking in the keyring for this target: "
            + shellcmd.configure(target, "--secrets", "env"),
            "Or start or unlock a Secret Service (GNOME Keyring, KeePassXC) in this session, "
            "then store it with: " + store_command(target, kind),
        ]
    return [f"Store the {what} in the keyring with: " + store_command(target, kind),
            f"Or {env_hint}."]


def invalid_secret_hints(target: Target, kind: str, variable: str | None) -> list[str]:
    """A secret that is there but cannot sign (a signing scheme's key, secret
    access key or password): where it came from, and how to give one that fits."""
    what = secret_words(kind)
    if variable is not None:
        return [unset_hint(variable, what, target.secrets_mode)]
    name = target.name
    if kind == "signing_key" and target.http_signature is not None:
        algorithm = target.http_signature.algorithm
        if algorithm == "hmac-sha256":
            return ["Give the shared secret the API expects (at least 16 bytes): "
                    + shellcmd.piped_secret("SIGNING_KEY", shellcmd.configure(
                        name, "--signing-key-stdin"))]
        return [f"Give a PEM private key that fits {algorithm}: "
                + shellcmd.configure(name, "--signing-key-file", Placeholder("PATH")),
                "Or make a new key pair here, then register its public key with the API: "
                + shellcmd.configure(name, "--generate-key") + " and "
                + shellcmd.command("targets", "show", name)]
    if kind == "dpop_key":
        return ["Make a new DPoP key (the provider binds tokens to it; nothing needs "
                "registering): " + store_command(name, kind)]
    if target.secrets_mode == "env":
        specific, _ = _env_names(name, kind)
        return [f"Set {specific} to a {what} that fits where astra-auth runs."]
    return [f"Store a {what} that fits with: " + store_command(name, kind)]


def _env_names(target: str, kind: str) -> tuple[str, str]:
    from astra_auth.storage.secretstore import env_names

    return env_names(target, kind)


# Every category has its own hints (tests/test_hints.py checks that none is missing).
_HANDLERS: dict[Category, Callable[[Failure, Context], list[str]]] = {
    Category.DNS_ERROR: _dns,
    Category.CONNECTION_REFUSED: _refused,
    Category.CONNECTION_ERROR: _connection_broke,
    Category.TIMEOUT: _timeout,
    Category.TLS_ERROR: _tls,
    Category.REDIRECT: _redirect,
    Category.NOT_FOUND: _not_found,
    Category.METHOD_NOT_ALLOWED: _method,
    Category.RATE_LIMITED: _rate,
    Category.SERVER_ERROR: _server,
    Category.HTTP_ERROR: _http,
    Category.NOT_JSON: _not_json,
    Category.INVALID_TOKEN_RESPONSE: _invalid_response,
    Category.INVALID_REQUEST: _invalid_request,
    Category.INVALID_CLIENT: _invalid_client,
    Category.INVALID_GRANT: _invalid_grant,
    Category.UNAUTHORIZED_CLIENT: _grant_not_allowed,
    Category.UNSUPPORTED_GRANT_TYPE: _grant_not_allowed,
    Category.INVALID_SCOPE: _invalid_scope,
    Category.OAUTH_ERROR: _oauth_error,
    Category.LOGIN_REQUIRED: _login_required,
    Category.LOGIN_TIMEOUT: _login_timeout,
    Category.ACCESS_DENIED: _access_denied,
    Category.MISSING_SECRET: _missing_secret,
    Category.INVALID_KEY: _invalid_key,
    Category.INSECURE_URL: _insecure_url,
    Category.ISSUER_MISMATCH: _issuer_mismatch,
    Category.API_UNAUTHORIZED: _api_unauthorized,
    Category.API_FORBIDDEN: _api_forbidden,
}
