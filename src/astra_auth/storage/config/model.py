"""The config file's model: one `Target` per table, with its auth type's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from astra_auth.core import validate


@dataclass(slots=True)
class OAuth2:
    grant_type: str
    token_url: str
    client_id: str
    client_auth: str = "basic"
    scope: str | None = None
    audience: str | None = None
    username: str | None = None
    secrets: str = "keyring"
    # Sent as they are in the token request; never replace the grant's own fields.
    extra_params: dict[str, str] = field(default_factory=dict)
    # private_key_jwt (RFC 7523 §2.2): the assertion's algorithm and audience
    # (None: the provider's default, else RS256 and the token URL).
    assertion_alg: str | None = None
    assertion_audience: str | None = None
    # The `kid` the provider registered the key under (None: the key's RFC
    # 7638 thumbprint, or no kid beside a certificate's x5t#S256).
    assertion_kid: str | None = None
    # The public certificate (a path): private_key_jwt's x5t#S256, or the
    # certificate tls_client_auth presents.
    certificate: str | None = None
    # RFC 8705 §3: the provider binds tokens to the client certificate, so the
    # API wants the same certificate: the proxy, auth_for and the API check
    # present it too.
    certificate_bound: bool = False
    authorization_url: str | None = None  # authorization_code
    device_authorization_url: str | None = None  # device_code
    # DPoP (RFC 9449): every token request and API request carries a proof
    # signed with the key kept in the keyring (kind `dpop_key`).
    dpop: bool = False
    dpop_alg: str | None = None  # None: ES256

    @property
    def secret_kinds(self) -> list[str]:
        """The keyring kinds this client reads at run time: a client secret, a
        private key, or none (a public client); the password grant's password;
        the DPoP proof key."""
        kinds = {"basic": ["client_secret"], "post": ["client_secret"],
                 "private_key_jwt": ["private_key"],
                 "tls_client_auth": ["private_key"]}.get(self.client_auth, [])
        if self.certificate_bound and "private_key" not in kinds:
            kinds = [*kinds, "private_key"]  # the certificate's key, for mutual TLS
        kinds = kinds + (["password"] if self.grant_type == "password" else [])
        return kinds + (["dpop_key"] if self.dpop else [])

    @property
    def dpop_algorithm(self) -> str:
        return self.dpop_alg or validate.DPOP_ALGORITHMS[0]

    @property
    def needs_login(self) -> bool:
        """The grant's one human step is `astra-auth login`; renewal then uses
        the refresh token in `<target>:refresh_token`."""
        return self.grant_type in validate.LOGIN_GRANTS


@dataclass(slots=True)
class Basic:
    username: str
    secrets: str = "keyring"


@dataclass(slots=True)
class Bearer:
    secrets: str = "keyring"


@dataclass(slots=True)
class ApiKey:
    name: str
    location: str = "header"
    secrets: str = "keyring"


@dataclass(slots=True)
class Jwt:
    algorithm: str
    claims: dict[str, Any] = field(default_factory=dict)
    lifetime: int = 300
    header_name: str = "Authorization"
    prefix: str = "Bearer"
    secrets: str = "keyring"


@dataclass(slots=True)
class AwsSigV4:
    """AWS Signature Version 4: the secret access key (and a session token, if
    any) live in the keyring."""

    access_key_id: str
    region: str
    service: str
    secrets: str = "keyring"


@dataclass(slots=True)
class HttpSignature:
    """HTTP Message Signatures (RFC 9421): the signing key lives in the keyring."""

    key_id: str
    algorithm: str
    components: list[str] = field(
        default_factory=lambda: list(validate.HTTP_SIGNATURE_COMPONENTS))
    label: str = "sig1"
    lifetime: int = 300  # seconds: the signature's `expires`
    secrets: str = "keyring"


@dataclass(slots=True)
class Digest:
    """HTTP Digest (RFC 7616): a username, the password in the keyring."""

    username: str
    secrets: str = "keyring"


@dataclass(slots=True)
class Target:
    name: str
    url: str | None = None
    auth_type: str | None = None
    oauth2: OAuth2 | None = None
    basic: Basic | None = None
    bearer: Bearer | None = None
    api_key: ApiKey | None = None
    jwt: Jwt | None = None
    aws_sigv4: AwsSigV4 | None = None
    http_signature: HttpSignature | None = None
    digest: Digest | None = None
    # The token URL's host, when configure warned that it resolves to a private,
    # loopback or link-local address: said once there, then only in targets
    # show and test-token's JSON warnings.
    private_host_ok: str | None = None
    # Network settings for every command (the flags override them).
    ca_bundle: str | None = None
    timeout: float | None = None

    @property
    def settings(self) -> Any:
        """The sub-table of the target's auth type (None when not configured)."""
        return getattr(self, self.auth_type) if self.auth_type else None

    @property
    def secrets_mode(self) -> str:
        """"keyring" or "env": where the target's secrets are kept."""
        settings = self.settings
        return getattr(settings, "secrets", "keyring") if settings is not None else "keyring"

    @property
    def secret_kinds(self) -> list[str]:
        """The keyring kinds of the secrets the target uses at run time."""
        if self.oauth2 is not None:
            return self.oauth2.secret_kinds
        # aws_sigv4's session token is read where there is one (temporary
        # credentials), and is not required: see `optional_secret_kinds`.
        return {"basic": ["password"], "bearer": ["bearer_token"], "api_key": ["api_key"],
                "jwt": ["signing_key"], "aws_sigv4": ["secret_access_key"],
                "http_signature": ["signing_key"], "digest": ["password"],
                }.get(self.auth_type or "", [])

    @property
    def optional_secret_kinds(self) -> list[str]:
        """Secrets used when present and not missed when absent: aws_sigv4's
        session token (temporary credentials have one, long-term keys none)."""
        return ["session_token"] if self.auth_type == "aws_sigv4" else []

    @property
    def signs_each_request(self) -> bool:
        """Whether each request carries its own signature or proof (aws_sigv4,
        http_signature, digest, oauth2 with DPoP): no credential exists that
        could be handed over once (`token`, `exec`)."""
        return self.auth_type in validate.SIGNED_TYPES or bool(self.oauth2 and self.oauth2.dpop)


@dataclass(slots=True)
class Config:
    targets: dict[str, Target] = field(default_factory=dict)
