"""Turning a configured OAuth 2.0 target into a token request: its settings, its
secrets and, where its client authentication uses them, its key and certificate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from astra_auth.core.errors import ConfigError
from astra_auth.core.failure import Category, Failure
from astra_auth.credentials.secrets import InvalidKey, read_secret
from astra_auth.oauth.grant import GrantRequest
from astra_auth.text.shellcmd import command

if TYPE_CHECKING:
    from astra_auth.deps import Deps
    from astra_auth.oauth.client_auth import ClientKey
    from astra_auth.signing.dpop import DpopProver
    from astra_auth.storage.config import Target


def require_oauth2(target: Target) -> None:
    if target.oauth2 is None:
        raise ConfigError(
            f"target {target.name!r} has no authentication configured yet",
            hints=["Set it up with: " + command("configure", target.name)],
        )


def client_key(target: Target, deps: Deps) -> ClientKey | None:
    """The target's private key and certificate, checked to fit each other,
    when its client authentication uses them (else None)."""
    from astra_auth.oauth.client_auth import ClientKey, KeyProblem, provider_defaults

    o = target.oauth2
    assert o is not None
    if o.client_auth not in ("private_key_jwt", "tls_client_auth") and not (
            o.certificate_bound and o.certificate):
        return None
    pem = read_secret(target, deps, "private_key", "private key")
    key = ClientKey(pem, Path(o.certificate).expanduser() if o.certificate else None)
    try:
        key.private_key()
        key.certificate_der()
        if o.client_auth == "private_key_jwt":
            key.check_alg(o.assertion_alg or provider_defaults(o.token_url).alg)
    except KeyProblem as exc:
        raise InvalidKey(Failure(Category.INVALID_KEY,
                                 f"The private key of {target.name} cannot be used: "
                                 f"{exc.failure.message}.")) from None
    return key


def presents_certificate(target: Target, *, to_api: bool = False) -> bool:
    """Whether the target's TLS connections present its client certificate.

    To the token endpoint: for tls_client_auth, and for certificate-bound
    tokens whatever the method (RFC 8705 §3: the provider binds the token to
    the certificate it saw).  To the API: for certificate-bound tokens only.
    """
    o = target.oauth2
    if o is None or not o.certificate:
        return False
    if to_api:
        return o.certificate_bound
    return o.client_auth == "tls_client_auth" or o.certificate_bound


def dpop_prover(target: Target, deps: Deps) -> DpopProver | None:
    """The target's DPoP prover (RFC 9449), when it uses DPoP: its proof key
    read and checked against `dpop_alg` (else None)."""
    o = target.oauth2
    if o is None or not o.dpop:
        return None
    from astra_auth.signing.dpop import DpopKey, DpopProver
    from astra_auth.signing.message import SigningError

    pem = read_secret(target, deps, "dpop_key", "DPoP key")
    try:
        key = DpopKey(pem, o.dpop_algorithm)
    except SigningError as exc:
        raise InvalidKey(Failure(Category.INVALID_KEY, f"The DPoP key of {target.name} cannot "
                                 f"be used: {exc}", details={"kind": "dpop_key"})) from None
    return DpopProver(key, clock=deps.clock)


def grant_request(target: Target, deps: Deps, dpop: DpopProver | None = None) -> GrantRequest:
    """The token request for `target`'s grant, with its secrets read.  `dpop`:
    the prover to sign proofs with (one that keeps nonces across requests);
    by default a new one, where the target uses DPoP."""
    require_oauth2(target)
    o = target.oauth2
    assert o is not None
    from astra_auth.oauth.client_auth import provider_defaults

    kinds = o.secret_kinds
    client_secret = ""
    if "client_secret" in kinds:
        client_secret = read_secret(target, deps, "client_secret", "client secret")
    key = client_key(target, deps)
    password = None
    if o.grant_type == "password":
        password = read_secret(target, deps, "password", "password")
    defaults = provider_defaults(o.token_url)
    return GrantRequest(
        token_url=o.token_url,
        grant_type=o.grant_type,
        client_id=o.client_id,
        client_secret=client_secret,
        client_auth=o.client_auth,
        scope=o.scope,
        audience=o.audience,
        username=o.username,
        password=password,
        extra_params=dict(o.extra_params),
        client_key=key,
        assertion_alg=o.assertion_alg or defaults.alg,
        assertion_audience=o.assertion_audience or defaults.audience,
        assertion_kid=o.assertion_kid,
        clock=deps.clock,
        tls_identity=key if presents_certificate(target) else None,
        dpop=dpop if dpop is not None else dpop_prover(target, deps),
    )
