"""Provider metadata: OpenID Connect Discovery and RFC 8414.

`discover(issuer)` reads `token_endpoint` (and what the provider supports) from
`/.well-known/openid-configuration`, or RFC 8414's
`/.well-known/oauth-authorization-server`.  `for_token_url` finds the metadata
of an already-configured token URL, best effort, for smarter defaults and hints.

A document is used only when its `issuer` is the issuer it was asked for
(RFC 8414 §3.3, OpenID Connect Discovery §4.3): another provider's metadata,
served under this URL by mistake or on purpose, must not choose where
credentials go, nor what the hints say.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from astra_auth.core import validate
from astra_auth.core.errors import AstraError, ExitCode
from astra_auth.core.failure import Category
from astra_auth.net.transport import Deadline, pin_loopback
from astra_auth.oauth.token_response import classify_transport
from astra_auth.text.redact import Redactor

if TYPE_CHECKING:
    import httpx

# The whole of a discovery (both well-known URLs) when no deadline is given.
DISCOVERY_TIME = 10.0
# The whole of a best-effort metadata lookup for an already-known token URL.
LOOKUP_TIME = 5.0

MAX_METADATA = 256 * 1024


class DiscoveryError(AstraError):
    """No usable discovery document at the issuer."""

    def __init__(self, message: str, exit_code: ExitCode, hints: list[str], *,
                 category: str | None = None) -> None:
        super().__init__(message, hints=hints, category=category)
        self.exit_code = exit_code


@dataclass
class Unavailable:
    """Why there is no usable metadata at `url`."""

    url: str
    reason: str
    # The transport failure's category when no answer came at all.
    category: Category | None = None

    @property
    def unreachable(self) -> bool:
        """The host could not be reached: other paths on it will not answer either."""
        return self.category is not None and self.category.exit_code == ExitCode.UNREACHABLE

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"


@dataclass
class Metadata:
    issuer: str | None
    token_endpoint: str
    source: str  # the URL the document came from
    grant_types_supported: list[str] | None = None
    token_endpoint_auth_methods_supported: list[str] | None = None
    # RFC 8705 §5: the token endpoint to use with a client certificate.
    mtls_token_endpoint: str | None = None
    # The login grants' own endpoints (RFC 8414 §2, RFC 8628 §4); None when
    # absent or not a usable URL.
    authorization_endpoint: str | None = None
    device_authorization_endpoint: str | None = None
    # RFC 9207 §3: the provider names itself (`iss`) in every authorization
    # response, so a response without it is not its own.
    iss_parameter_supported: bool = False
    # RFC 9449 §5.1: the provider issues DPoP-bound tokens, proved with these
    # algorithms.
    dpop_signing_alg_values_supported: list[str] | None = None

    def client_auth(self) -> str | None:
        """The client-authentication method to use, from what the provider supports:
        a client secret where it accepts one (what most clients have), else the
        first of its methods that astra-auth knows."""
        methods = self.token_endpoint_auth_methods_supported
        if not methods:
            return None  # RFC 8414 §2: absent means client_secret_basic
        if "client_secret_basic" in methods:
            return "basic"
        if "client_secret_post" in methods:
            return "post"
        known = self.client_auth_methods()
        return known[0] if known else None

    def client_auth_methods(self) -> list[str]:
        """The provider's token_endpoint_auth_methods_supported, in astra-auth's
        names (`basic`, `post`, `private_key_jwt`, …), those it does not know left out."""
        by_metadata = {v: k for k, v in validate.CLIENT_AUTH_METADATA.items()}
        # RFC 8705 §2.2: a self-signed certificate is presented the same way.
        by_metadata["self_signed_tls_client_auth"] = "tls_client_auth"
        methods = self.token_endpoint_auth_methods_supported or []
        return list(dict.fromkeys(by_metadata[m] for m in methods if m in by_metadata))

    def grant_warning(self, grant: str) -> str | None:
        supported = self.grant_types_supported
        # RFC 8628 §4: the device grant is listed by its URN.
        wire = {"device_code": "urn:ietf:params:oauth:grant-type:device_code"}.get(grant, grant)
        if supported is None or wire in supported:
            return None
        return (f"the provider's metadata ({self.source}) does not list the {grant} grant in "
                f"grant_types_supported ({', '.join(supported)}); the token request will "
                "probably be refused")


def well_known_urls(issuer: str) -> list[str]:
    """OpenID Connect Discovery §4 appends; RFC 8414 §3 inserts before the path."""
    parts = urlsplit(issuer.rstrip("/"))
    path = parts.path.rstrip("/")
    return [
        urlunsplit((parts.scheme, parts.netloc, f"{path}/.well-known/openid-configuration", "", "")),
        urlunsplit((parts.scheme, parts.netloc,
                    f"/.well-known/oauth-authorization-server{path}", "", "")),
    ]


def fetch(url: str, client: httpx.Client,
          deadline: Deadline | None = None) -> Metadata | Unavailable:
    """The metadata at `url`, or why there is none; all of it by `deadline`."""
    deadline = deadline or Deadline(DISCOVERY_TIME)

    def get() -> bytes | Unavailable:
        target, pinned = pin_loopback(url, deadline)
        headers = {"Accept": "application/json", "Accept-Encoding": "identity", **pinned}
        with client.stream("GET", target, headers=headers) as response:
            if response.status_code != 200:
                return Unavailable(url, f"HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                deadline.check()
                body += chunk
                if len(body) > MAX_METADATA:
                    return Unavailable(
                        url, f"the document is larger than {MAX_METADATA // 1024} KiB")
            return bytes(body)

    try:
        got = deadline.run(get)
    except Exception as exc:  # noqa: BLE001 - every failure is a reason to report
        failure = classify_transport(exc, url, deadline.seconds, Redactor())
        return Unavailable(url, f"{failure.category} ({failure.message})", failure.category)
    if isinstance(got, Unavailable):
        return got
    try:
        data = json.loads(got)
    except (ValueError, RecursionError):
        return Unavailable(url, "not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("token_endpoint"), str):
        return Unavailable(url, "no token_endpoint in the document")
    for key in ("token_endpoint", "authorization_endpoint", "device_authorization_endpoint"):
        value = data.get(key)
        try:
            if isinstance(value, str):
                validate.token_url(value)
        except validate.InsecureURL as exc:
            # A provider that names a plain-http endpoint would have credentials
            # cross the network in clear text: its document is not used at all.
            return Unavailable(url, f"its {key} is not usable: {exc}", Category.INSECURE_URL)
        except ValueError:
            pass
    try:
        token_endpoint = validate.token_url(data["token_endpoint"])
    except ValueError as exc:
        return Unavailable(url, f"its token_endpoint is not usable: {exc}")

    def endpoint(key: str) -> str | None:
        value = data.get(key)
        try:
            return validate.token_url(value) if isinstance(value, str) else None
        except ValueError:
            return None

    def strings(key: str) -> list[str] | None:
        value = data.get(key)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        return None

    return Metadata(
        issuer=data.get("issuer") if isinstance(data.get("issuer"), str) else None,
        token_endpoint=token_endpoint,
        source=url,
        grant_types_supported=strings("grant_types_supported"),
        token_endpoint_auth_methods_supported=strings("token_endpoint_auth_methods_supported"),
        mtls_token_endpoint=_mtls_token_endpoint(data),
        authorization_endpoint=endpoint("authorization_endpoint"),
        device_authorization_endpoint=endpoint("device_authorization_endpoint"),
        iss_parameter_supported=data.get("authorization_response_iss_parameter_supported")
        is True,
        dpop_signing_alg_values_supported=strings("dpop_signing_alg_values_supported"),
    )


def _mtls_token_endpoint(data: dict[str, object]) -> str | None:
    """RFC 8705 §5's `mtls_endpoint_aliases.token_endpoint`, when usable."""
    aliases = data.get("mtls_endpoint_aliases")
    if not isinstance(aliases, dict) or not isinstance(aliases.get("token_endpoint"), str):
        return None
    try:
        return validate.token_url(aliases["token_endpoint"])
    except ValueError:
        return None


def discover(issuer: str, make_client: Callable[[], httpx.Client],
             deadline: Deadline | None = None) -> Metadata:
    """The issuer's metadata; both well-known URLs together end by `deadline`.

    The document must name this very issuer (RFC 8414 §3.3, OpenID Connect
    Discovery §4.3): otherwise another provider, or an attacker who can place a
    document there, would choose where the client secret is sent.
    """
    try:
        issuer = validate.token_url(issuer)
    except validate.InsecureURL as exc:
        raise DiscoveryError(f"--issuer: {exc}", ExitCode.USAGE, [],
                             category=Category.INSECURE_URL) from None
    except ValueError as exc:
        raise DiscoveryError(f"--issuer: {exc}", ExitCode.USAGE, []) from None
    deadline = deadline or Deadline(DISCOVERY_TIME)
    reasons: list[Unavailable] = []
    with make_client() as client:
        for url in well_known_urls(issuer):
            result = fetch(url, client, deadline)
            if isinstance(result, Metadata):
                if not same_issuer(result.issuer, issuer):
                    shown = "none" if result.issuer is None else repr(result.issuer[:200])
                    raise DiscoveryError(
                        f"the discovery document {url} names the issuer {shown}, not "
                        f"{issuer!r} (RFC 8414 §3.3): it is not used",
                        ExitCode.USAGE,
                        ["Give the issuer exactly as the provider names it (its `issuer` "
                         "value), or give the Access Token URL itself with --token-url."],
                    )
                return result
            if result.category == Category.INSECURE_URL:
                # Sent by the provider: exit 4, as its other refusals.
                raise DiscoveryError(
                    f"the discovery document {result}", ExitCode.REJECTED,
                    ["The provider names a plain-http endpoint: ask its administrator for "
                     "the https one, or give the Access Token URL itself with --token-url."],
                    category=Category.INSECURE_URL)
            reasons.append(result)
    raise DiscoveryError(
        "no discovery document at the issuer: " + "; ".join(map(str, reasons)),
        ExitCode.UNREACHABLE if all(r.unreachable for r in reasons) else ExitCode.USAGE,
        [
            "Check the issuer URL: it is the provider's base URL, e.g. "
            "https://idp.example.com/realms/main (Keycloak) or "
            "https://example.okta.com/oauth2/default (Okta).",
            "Or give the Access Token URL itself with --token-url.",
        ],
    )


def same_issuer(found: str | None, given: str) -> bool:
    """RFC 8414 §3.3: identical, but for a trailing slash that users often add
    or leave out."""
    return found is not None and found.rstrip("/") == given.rstrip("/")


def for_token_url(token_url: str, make_client: Callable[[], httpx.Client],
                  max_requests: int = 4, deadline: Deadline | None = None) -> Metadata | None:
    """The metadata of the provider behind `token_url`, trying the issuers its
    path suggests (longest first); None when none is found within the budget
    of requests and time (`deadline`, default LOOKUP_TIME seconds)."""
    deadline = deadline or Deadline(LOOKUP_TIME)
    parts = urlsplit(token_url)
    segments = [s for s in parts.path.split("/") if s][:-1]
    candidates = ["/".join(segments[:n]) for n in range(len(segments), -1, -1)]
    tried = 0
    try:
        with make_client() as client:
            for prefix in candidates:
                if tried >= max_requests or deadline.expired:
                    break
                issuer = urlunsplit((parts.scheme, parts.netloc, "/" + prefix if prefix else "",
                                     "", ""))
                tried += 1
                result = fetch(well_known_urls(issuer)[0], client, deadline)
                if isinstance(result, Metadata):
                    if not same_issuer(result.issuer, issuer):
                        continue  # another provider's document: not this one's
                    # Possibly naming another token endpoint: the caller compares.
                    return result
                if result.unreachable:
                    return None
    except Exception:  # noqa: BLE001 - best effort only
        return None
    return None
