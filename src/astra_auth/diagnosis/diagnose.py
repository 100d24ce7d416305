"""Checking one target end to end, as a typed result: `diagnose(target, ...)`.

It obtains the target's credential as a scanner would (for oauth2, the
configured grant against the token URL, or a refresh for the login grants;
for the other types, read or signed through the target's source), explains a
failure with hints, gathers the warnings, and checks the credential against
the API (`apicheck`).  It never raises for what the provider, the API or the
network does, and prints nothing: `test-token` and `configure` render the
`Diagnosis` it returns (docs: "test-token" in the README).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from astra_auth.core.errors import ExitCode, KeyringUnavailable
from astra_auth.core.failure import Category, CredentialError, Failure
from astra_auth.credentials.interface import Credential, SourceSettings, open_source
from astra_auth.credentials.oauth2 import TokenSource, access_token_credential
from astra_auth.credentials.oauth2_request import (
    client_key,
    grant_request,
    presents_certificate,
)
from astra_auth.credentials.secrets import SecretProblem
from astra_auth.diagnosis import apicheck
from astra_auth.diagnosis.apicheck import ApiCheck
from astra_auth.diagnosis.hints import Context, configure_command, explain, hints_for, seconds
from astra_auth.diagnosis.providers import provider_hints
from astra_auth.net.settings import network
from astra_auth.net.transport import Deadline
from astra_auth.oauth import unverified_jwt as jwt
from astra_auth.oauth.grant import Outcome, request_token
from astra_auth.storage.config import Target
from astra_auth.storage.secretstore import entry, sources
from astra_auth.text.redact import Redactor
from astra_auth.text.shellcmd import Placeholder, command, suggestable_url

if TYPE_CHECKING:
    from astra_auth.deps import Deps

RFC9700_NOTE = (
    "A note: the OAuth 2.0 Security Best Current Practice (RFC 9700) discourages the "
    "password grant; where the provider allows it, Client Credentials keeps user "
    "passwords out of the scanner."
)
# A provider may nest claims hundreds deep to crash a recursive printer.
MAX_CLAIM_DEPTH = 16


@dataclass
class Settings:
    """How to check: the network settings and the API check."""

    # None: the target's own timeout (else 10 s) and CA bundle.
    timeout: float | None = None
    ca_bundle: Path | None = None
    # The API check: a path under the target's url or a full URL (None: the url).
    probe: str | None = None
    api_check: bool = True
    # Shows a status line while the token endpoint is asked (None: nothing shown);
    # called with the token URL.
    waiting: Callable[[str], AbstractContextManager[object]] | None = None


@dataclass
class TokenFacts:
    """What was obtained, described: never the credential itself."""

    token_type: str | None
    expires_in: int | None
    scope: str | None = None
    refresh_token_issued: bool = False
    # The login grants only: when the refresh token itself expires, where the
    # provider says so (None otherwise).
    refresh_token_expires_in: int | None = None
    # Decoded, not verified, every secret masked; None when it is not a JWT.
    jwt_claims: dict[str, Any] | None = None
    jwt_header: dict[str, Any] | None = None
    # oauth2 only: the client-authentication method that worked, and the
    # token endpoint's status.
    client_auth: str | None = None
    http_status: int | None = None
    # The other types: where the credential goes ("header Authorization").
    sent_as: str | None = None


@dataclass
class Diagnosis:
    """One target, checked."""

    target: Target
    # The credential obtained (None: none could be had).
    token: TokenFacts | None
    # What went wrong: obtaining the credential, or the API refusing it.
    failure: Failure | None = None
    hints: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Among the warnings, those the user acknowledged at configure: reported,
    # not shown to a person again.
    acknowledged: list[str] = field(default_factory=list)
    # Where each secret came from: "keyring", "missing" or a variable's name.
    secret_sources: dict[str, str] = field(default_factory=dict)
    # The API check (None: it did not run).
    api: ApiCheck | None = None
    # How long obtaining the credential took.
    elapsed_ms: int = 0
    # The token request and its answers (oauth2 only), for --verbose.
    outcome: Outcome | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def exit_code(self) -> ExitCode:
        return self.failure.exit_code if self.failure is not None else ExitCode.OK

    @property
    def shown_warnings(self) -> list[str]:
        """The warnings a person is shown: not one acknowledged at configure."""
        return [w for w in self.warnings if w not in self.acknowledged]

    @property
    def attempts(self) -> int:
        """How many token requests were sent (two when the other
        client-authentication method was tried)."""
        return len(self.outcome.exchanges) if self.outcome is not None else 0


def diagnose(target: Target, settings: Settings, deps: Deps) -> Diagnosis:
    """Check one configured target (its `auth_type` is set): obtain its
    credential, then check it against the API."""
    timeout, ca_bundle = network(target, settings.timeout, settings.ca_bundle)
    settings = replace(settings, timeout=timeout, ca_bundle=ca_bundle)
    if target.auth_type == "oauth2":
        diagnosis, credential = _oauth2(target, settings, deps)
    else:
        diagnosis, credential = _other(target, settings, deps)
    diagnosis.secret_sources = _sources(target, diagnosis.failure, deps.environ)
    for kind in target.optional_secret_kinds:
        found = _optional_source(target, kind, deps)
        if found is not None:
            diagnosis.secret_sources[kind] = found
    if target.private_host_ok:
        # Acknowledged at configure: kept in the JSON, not repeated in the panels.
        said = f"{target.private_host_ok} resolves to "
        diagnosis.acknowledged = [w for w in diagnosis.warnings if w.startswith(said)]
    if credential is not None and settings.api_check:
        _check_api(diagnosis, credential, settings, deps)
    return diagnosis


def _check_api(diagnosis: Diagnosis, credential: Credential, settings: Settings,
               deps: Deps) -> None:
    target = diagnosis.target
    url = apicheck.probe_url(target, settings.probe)
    if url is None:
        diagnosis.warnings.append(
            "No API check: the target has no API URL. Give one with --probe URL, or save it "
            "with: " + command("configure", target.name, "--url",
                               Placeholder("https://api.example.com"), "--no-input"))
        return
    assert settings.timeout is not None  # settled per target by diagnose()

    # Certificate-bound tokens (RFC 8705 §3): the API wants the same certificate.
    # The key was read and checked for the grant a moment ago.
    identity = client_key(target, deps) if presents_certificate(target, to_api=True) else None
    try:
        result = apicheck.run(target, credential, url, deps, timeout=settings.timeout,
                              ca_bundle=settings.ca_bundle, identity=identity)
    except CredentialError as exc:  # the request could not be signed
        diagnosis.failure, diagnosis.hints = exc.failure, explain(exc).hints
        return
    diagnosis.api = result
    diagnosis.warnings.extend(result.warnings)
    if result.failure is not None:
        diagnosis.failure = result.failure
        diagnosis.hints = result.hints


def _other(target: Target, settings: Settings,
           deps: Deps) -> tuple[Diagnosis, Credential | None]:
    """Basic, bearer, api_key, jwt: read (or sign) the credential through its source."""
    started = deps.monotonic()
    source = open_source(target, deps, SourceSettings(
        timeout=settings.timeout, ca_bundle=settings.ca_bundle, use_cache=False))
    try:
        credential = source.get()
    except CredentialError as exc:
        return Diagnosis(target, None, exc.failure, explain(exc).hints,
                         elapsed_ms=_ms(deps, started)), None
    claims = jwt.claims(credential.token) if credential.token else None
    expires_in = (max(0, math.ceil(credential.expires_at - deps.clock()))
                  if credential.expires_at is not None else None)
    facts = TokenFacts(
        token_type=credential.token_type, expires_in=expires_in, jwt_claims=claims,
        jwt_header=(jwt.header(credential.token) if claims is not None and credential.token
                    else None),
        sent_as=(signed_as(target) if credential.location == "signature"
                 else f"{credential.location} {credential.name}"),
    )
    return Diagnosis(target, facts, elapsed_ms=_ms(deps, started)), credential


def _sources(target: Target, failure: Failure | None,
             environ: Mapping[str, str]) -> dict[str, str]:
    """Where each secret came from, as it turned out: a secret that could not
    be read is "missing", and so is every secret the keyring was to supply
    when the keyring could not be used."""
    found = sources(target, environ)
    if failure is None or failure.category != Category.MISSING_SECRET:
        return found
    unusable = failure.details.get("keyring") == "unusable"
    return {kind: "missing" if kind == failure.details.get("kind")
            or (unusable and source == "keyring") else source
            for kind, source in found.items()}
def signed_as(target: Target) -> str:
    """How a target that signs each request authenticates it, in a few words."""
    if target.aws_sigv4 is not None:
        a = target.aws_sigv4
        return f"an AWS Signature V4 on each request ({a.region}, {a.service})"
    if target.http_signature is not None:
        h = target.http_signature
        return (f"an HTTP Message Signature on each request ({h.algorithm}, key id {h.key_id}, "
                f"covering {' '.join(h.components)})")
    return "the answer to the API's Digest challenge on each request"


def _optional_source(target: Target, kind: str, deps: Deps) -> str | None:
    """Where a secret the target uses when present comes from ("keyring" or a
    variable's name), or None when there is none."""
    from astra_auth.storage.secretstore import locate

    try:
        where, value = locate(target.name, kind, target.secrets_mode, deps.environ,
                              deps.secrets)
    except KeyringUnavailable:
        return None
    if value is None:
        return None
    if where == "env":
        from astra_auth.storage.secretstore import env_source

        return env_source(target.name, kind, deps.environ)
    return "keyring"


def _ms(deps: Deps, started: float) -> int:
    return int((deps.monotonic() - started) * 1000)


def _oauth2(target: Target, settings: Settings,
            deps: Deps) -> tuple[Diagnosis, Credential | None]:
    """Perform the configured grant, with every diagnosis of a failure."""
    o = target.oauth2
    assert o is not None
    warnings: list[str] = []
    address = deps.address_warning(o.token_url)
    if address:
        warnings.append(address)
    if o.grant_type == "password":
        warnings.append(RFC9700_NOTE)
    ctx = Context.of(target, deps.environ)
    try:
        req = grant_request(target, deps)
    except SecretProblem as exc:
        ctx.keyring_usable = _keyring_usable(target, exc.failure, deps)
        return Diagnosis(target, None, exc.failure, hints_for(exc.failure, ctx),
                         warnings), None

    # One deadline for the target's whole check: the grant (both client
    # authentication methods) and the metadata lookup that may follow.
    assert settings.timeout is not None  # settled per target by diagnose()
    timeout = settings.timeout
    deadline = Deadline(timeout)
    waiting = settings.waiting(o.token_url) if settings.waiting else nullcontext()
    with waiting:
        if o.needs_login:
            # No grant to repeat here: a refresh with the stored refresh token,
            # through the one place that stores the rotated one.
            outcome = TokenSource(target, deps, timeout=timeout,
                                  ca_bundle=settings.ca_bundle).refresh_outcome(deadline)
        else:
            outcome = request_token(
                req, lambda: deps.http_client(timeout, settings.ca_bundle,
                                              identity=req.tls_identity), timeout=timeout,
                deadline=deadline, monotonic=deps.monotonic,
            )

    if outcome.token is None:
        assert outcome.failure is not None
        hints = list(dict.fromkeys(  # in order, none twice
            _specific_hints(outcome.failure, ctx, deps, settings.ca_bundle, deadline)
            + hints_for(outcome.failure, ctx)))
        return Diagnosis(target, None, outcome.failure, hints, warnings,
                         elapsed_ms=outcome.elapsed_ms, outcome=outcome), None

    token = outcome.token
    if outcome.switched_client_auth:
        warnings.insert(0, (
            f"The provider refused client authentication `{o.client_auth}` and accepted "
            f"`{outcome.client_auth}` on a second attempt. Save the method that works: "
            + configure_command(ctx, "--client-auth", outcome.client_auth)
        ))
    if token.expires_in is not None and token.expires_in < 60:
        warnings.append(
            f"The token expires in {seconds(token.expires_in)}: a scan will need a new one "
            "almost at once (astra-auth renews it, but check the provider's token lifetime)."
        )
    bound = token.token_type.lower() == "dpop"
    if o.dpop and not bound:
        warnings.append(f"The provider issued a {token.token_type!r} token, not a DPoP-bound "
                        "one, though the request carried a DPoP proof: it does not bind tokens "
                        "for this client (enable DPoP for the client on the provider). The "
                        "token is sent as it is, without proofs.")
    elif token.token_type.lower() != "bearer" and not bound:
        warnings.append(f"The token type is {token.token_type!r}, not Bearer; most APIs "
                        "and scanners expect Bearer tokens.")
    claims = jwt.claims(token.access_token)
    header = None
    if claims is not None:
        claims = _masked_claims(claims, outcome.redactor)
        raw_header = jwt.header(token.access_token) or {}
        # A provider may echo a secret anywhere, its JWT's header included.
        header = _masked_claims(raw_header, outcome.redactor)
        alg = raw_header.get("alg")
        if isinstance(alg, str) and alg.lower() == "none":
            warnings.append("The token's JWT header says alg: none: it is not signed, so an API "
                            "that accepts it would accept a forged one too. Ask the provider "
                            "to sign its tokens.")
    facts = TokenFacts(
        token_type=token.token_type, expires_in=token.expires_in, scope=token.scope,
        refresh_token_issued=token.refresh_token is not None,
        refresh_token_expires_in=token.refresh_expires_in if o.needs_login else None,
        jwt_claims=claims, jwt_header=header, client_auth=outcome.client_auth,
        http_status=outcome.http_status,
    )
    expires_at = (deps.clock() + token.expires_in) if token.expires_in is not None else None
    try:
        credential = access_token_credential(token.access_token, token.token_type, expires_at,
                                             token.scope, req.dpop)
    except CredentialError as exc:
        return Diagnosis(target, facts, exc.failure, hints_for(exc.failure, ctx), warnings,
                         elapsed_ms=outcome.elapsed_ms, outcome=outcome), None
    return Diagnosis(target, facts, warnings=warnings, elapsed_ms=outcome.elapsed_ms,
                     outcome=outcome), credential


def _keyring_usable(target: Target, failure: Failure, deps: Deps) -> bool:
    """Whether this machine's keyring answers, so that a missing-secret hint
    offers to store the secret there only where that works.  An env-mode
    target never asked it; asked here, for the hint alone."""
    known = failure.details.get("keyring")
    if known is not None:
        return known == "usable"
    try:
        deps.secrets.get(entry(target.name, "token"))
    except KeyringUnavailable:
        return False
    return True


def _masked_claims(value: Any, redactor: Redactor, depth: int = 0) -> Any:
    """The claims (or a JWT header) with every secret masked in keys and
    values, nesting deeper than MAX_CLAIM_DEPTH shown as a note."""
    if depth > MAX_CLAIM_DEPTH:
        return "… (nested too deep to show)"
    if isinstance(value, dict):
        return {redactor.redact(str(k)): _masked_claims(v, redactor, depth + 1)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_claims(v, redactor, depth + 1) for v in value]
    if isinstance(value, str):
        return redactor.redact(value)
    return value


# Failures where the provider's own metadata can say what is wrong.
_METADATA_HELPS = {Category.NOT_FOUND, Category.METHOD_NOT_ALLOWED, Category.NOT_JSON,
                   Category.REDIRECT, Category.HTTP_ERROR, Category.INVALID_CLIENT,
                   Category.UNAUTHORIZED_CLIENT, Category.UNSUPPORTED_GRANT_TYPE}


def _specific_hints(failure: Failure, ctx: Context, deps: Deps,
                    ca_bundle: Path | None, deadline: Deadline) -> list[str]:
    """Hints from the provider's identity (its URL, its error body) and metadata."""
    hints = provider_hints(failure, ctx)
    if failure.category not in _METADATA_HELPS:
        return hints
    metadata = deps.metadata_for(ctx.token_url, ca_bundle, deadline)
    if metadata is None:
        return hints
    # The endpoint comes from the provider: suggested only when --token-url would
    # accept it, and quoted by configure_command like every argument.
    endpoint = suggestable_url(metadata.token_endpoint)
    if endpoint is not None and endpoint.rstrip("/") != ctx.token_url.rstrip("/"):
        hints.insert(0, f"The provider's discovery document ({metadata.source}) names the "
                        f"token endpoint {endpoint}: "
                        + configure_command(ctx, "--token-url", endpoint))
    supported = metadata.grant_types_supported
    if failure.category in (Category.UNAUTHORIZED_CLIENT, Category.UNSUPPORTED_GRANT_TYPE) \
            and supported:
        hints.append(f"The provider's metadata ({metadata.source}) lists grant_types_supported: "
                     f"{', '.join(supported)}.")
    methods = metadata.token_endpoint_auth_methods_supported
    if failure.category in (Category.INVALID_CLIENT, Category.HTTP_ERROR) and methods:
        hints.append(f"The provider's metadata ({metadata.source}) lists "
                     f"token_endpoint_auth_methods_supported: {', '.join(methods)}.")
    return hints
