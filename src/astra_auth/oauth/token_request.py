"""Building a token request (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6; RFC 8628 §3.4),
without I/O: a `GrantRequest` in, the headers and form to send out, and the
secrets that whoever shows the request must mask (`GrantRequest.redactor`).
`grant.request_token` sends it.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote_plus

from astra_auth.text.redact import Redactor

if TYPE_CHECKING:
    from astra_auth.oauth.client_auth import ClientKey
    from astra_auth.signing.dpop import DpopProver

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# RFC 8628 §3.4: the device grant's name on the wire is a URN.
FORM_GRANT_TYPES = {"device_code": "urn:ietf:params:oauth:grant-type:device_code"}


@dataclass
class GrantRequest:
    token_url: str
    # "client_credentials", "password", "refresh_token", "device_code" or
    # "authorization_code" (the config's names; `FORM_GRANT_TYPES` has the wire's)
    grant_type: str
    client_id: str
    client_secret: str = field(repr=False)
    client_auth: str = "basic"
    scope: str | None = None
    audience: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    # Sent as they are; never replace the request's own fields.
    extra_params: dict[str, str] = field(default_factory=dict)
    # private_key_jwt and tls_client_auth: the client's key (and certificate).
    client_key: ClientKey | None = field(default=None, repr=False)
    assertion_alg: str = "RS256"
    assertion_audience: str | None = None  # None: the token URL
    # The header's kid (None: the key's RFC 7638 thumbprint, or x5t#S256 alone
    # with a certificate).
    assertion_kid: str | None = None
    # The clock an assertion's iat and exp come from.
    clock: Callable[[], float] = field(default=time.time, repr=False)
    # The key whose certificate the TLS connection presents (tls_client_auth,
    # certificate-bound tokens); the caller's client factory uses it.
    tls_identity: ClientKey | None = field(default=None, repr=False)
    # device_code (RFC 8628 §3.4) and authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5)
    device_code: str | None = field(default=None, repr=False)
    code: str | None = field(default=None, repr=False)
    redirect_uri: str | None = None
    code_verifier: str | None = field(default=None, repr=False)
    # DPoP (RFC 9449 §5): every token request carries a fresh proof of this
    # key, with the provider's nonce once it gave one.
    dpop: DpopProver | None = field(default=None, repr=False)

    def client_assertion(self) -> str:
        """A fresh private_key_jwt assertion (one per request: its jti is single-use)."""
        assert self.client_key is not None
        return self.client_key.assertion(
            client_id=self.client_id, audience=self.assertion_audience or self.token_url,
            alg=self.assertion_alg, now=self.clock(), kid=self.assertion_kid)

    def headers_and_form(self) -> tuple[dict[str, str], dict[str, str]]:
        """The request's headers and form fields.  Raises
        `client_auth.KeyProblem` when the key cannot sign an assertion."""
        form = {"grant_type": FORM_GRANT_TYPES.get(self.grant_type, self.grant_type)}
        if self.grant_type == "password":
            form["username"] = self.username or ""
            form["password"] = self.password or ""
        if self.grant_type == "refresh_token":
            form["refresh_token"] = self.refresh_token or ""
        if self.grant_type == "device_code":
            form["device_code"] = self.device_code or ""
        if self.grant_type == "authorization_code":
            form["code"] = self.code or ""
            form["redirect_uri"] = self.redirect_uri or ""
            form["code_verifier"] = self.code_verifier or ""
        if self.scope:
            form["scope"] = self.scope
        if self.audience:
            form["audience"] = self.audience
        headers = {
            "Accept": "application/json",
            # Ask for an uncompressed answer: the size limit then holds for what
            # is read off the wire and for what it expands to.
            "Accept-Encoding": "identity",
        }
        # One client-authentication method per request: some providers
        # (Okta among them) reject a request that carries both.
        if self.client_auth == "basic":
            # RFC 6749 §2.3.1: form-urlencode ID and secret before Base64.
            pair = f"{quote_plus(self.client_id, safe='')}:{quote_plus(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif self.client_auth == "post":
            form["client_id"] = self.client_id
            form["client_secret"] = self.client_secret
        elif self.client_auth == "private_key_jwt":
            # RFC 7523 §2.2; client_id too, which most providers want (OIDC Core §9).
            form["client_id"] = self.client_id
            form["client_assertion_type"] = CLIENT_ASSERTION_TYPE
            form["client_assertion"] = self.client_assertion()
        else:
            # tls_client_auth (RFC 8705 §2: the certificate authenticates) and
            # none (a public client, RFC 6749 §2.1): the client ID alone.
            form["client_id"] = self.client_id
        # Extra parameters never replace the request's own fields.
        for name, value in self.extra_params.items():
            form.setdefault(name, value)
        if self.dpop is not None:
            from astra_auth.signing.message import Request

            proof = self.dpop.headers(Request("POST", self.token_url))["DPoP"]
            assert proof is not None
            headers["DPoP"] = proof
        return headers, form

    def redactor(self) -> Redactor:
        """Masks every secret this request sends, in every encoding it is sent in."""
        r = Redactor(self.client_secret, self.password, self.refresh_token, self.device_code,
                     self.code, self.code_verifier)
        r.add_basic(self.client_id, self.client_secret)
        return r


def assertion_key_names(assertion: str) -> dict[str, str]:
    """The `kid` or `x5t#S256` in a client assertion's header (public values)."""
    from astra_auth.oauth import unverified_jwt as jwt

    header = jwt.header(assertion) or {}
    return {name: header[name] for name in ("kid", "x5t#S256")
            if isinstance(header.get(name), str)}
