"""The API check of `test-token`: one GET to the API with the credential attached
exactly as the scanner attaches it, and what a refusal means.

2xx passes; 401 and 403 fail; any other answer (a 404 from a wrong path, a
redirect, a 5xx) neither passes nor fails: `ok` stays None and a warning names
the status and suggests `--probe` with a path that needs the credential
(docs/commands.md, test-token).  A 401 or 403 is explained from the RFC 6750 `WWW-Authenticate` parameters, cross-checked
against the token itself when it is a JWT (its `aud`, `scope`, `exp`, `alg`).
An API that cannot be reached from here does not fail the check: the scanner
may run elsewhere.  Redirects are never followed, and the credential never
goes to another origin than the API's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from astra_auth.core.errors import AstraError, UsageError
from astra_auth.core.failure import Category, Failure
from astra_auth.core.validate import secret_words
from astra_auth.credentials.interface import Credential, origin
from astra_auth.oauth import unverified_jwt as jwt
from astra_auth.storage.config import Target
from astra_auth.text.shellcmd import Placeholder, command, quote

if TYPE_CHECKING:
    from astra_auth.deps import Deps

MAX_BODY = 64 * 1024  # the check needs the status and headers, not the page


@dataclass
class ApiCheck:
    url: str
    http_status: int | None = None
    # True: accepted (2xx); False: refused (401/403); None: not reached from
    # here, or an answer that says neither (3xx, 404, 5xx...).
    ok: bool | None = None
    www_authenticate: str | None = None
    elapsed_ms: int = 0
    failure: Failure | None = None
    hints: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "http_status": self.http_status, "ok": self.ok,
                "www_authenticate": self.www_authenticate, "elapsed_ms": self.elapsed_ms}


def probe_url(target: Target, probe: str | None) -> str | None:
    """Where the check goes: the target's `url`, a path under it, or a full URL
    on the same origin (None: nowhere to go, no check)."""
    from astra_auth.core import validate
    base = target.url
    if probe is None:
        return base
    if probe.startswith("/"):
        if base is None:
            raise UsageError(f"--probe {probe}: target {target.name!r} has no API URL for a "
                             "path to be under; give a full URL")
        return urljoin(base if base.endswith("/") else base + "/", probe.lstrip("/"))
    try:
        url = validate.api_url(probe)
    except validate.InsecureURL as exc:
        raise UsageError(f"--probe: {exc}", category="insecure_url", hints=[
            "Give the https address instead: --probe " + quote(validate.https_form(probe.strip()))
        ]) from None
    except ValueError as exc:
        raise UsageError(f"--probe: {exc}") from None
    if base is not None and origin(url) != origin(base):
        raise UsageError(
            f"--probe: {url} is not on the API's origin ({_origin_text(base)}); the "
            "credential is only ever sent to the target's own origin"
        )
    return url


def run(target: Target, credential: Credential, url: str, deps: Deps, *, timeout: float,
        ca_bundle: Path | None, identity: Any = None) -> ApiCheck:
    """One GET to `url` with `credential` (signed last, where its scheme signs;
    sent once more where the scheme answers the API's challenge); never raises
    for what the API does.  `identity`: the client certificate to present
    (certificate-bound tokens)."""
    from astra_auth.credentials.signing import ChallengeRefused
    from astra_auth.oauth.token_response import classify_transport
    from astra_auth.text.redact import Redactor

    check = ApiCheck(url=url)
    started = deps.monotonic()
    try:
        got = _get(target, credential, url, deps, timeout, ca_bundle, identity)
    except ChallengeRefused as exc:
        check.elapsed_ms = int((deps.monotonic() - started) * 1000)
        check.ok = False
        check.failure = exc.failure()
        check.hints = _challenge_refused_hints(target)
        return check
    except AstraError:
        raise  # a request its scheme refuses to sign: the credential's failure
    except Exception as exc:  # noqa: BLE001 - every transport failure is classified
        failure = classify_transport(exc, url, timeout, Redactor(credential.token,
                                                                  credential.value))
        check.elapsed_ms = int((deps.monotonic() - started) * 1000)
        check.warnings.append(
            f"The API could not be reached from here ({failure.category}): "
            f"{failure.message} The scanner may run elsewhere, so this does not fail the "
            "test; run it where the scanner runs to check the credential against the API."
        )
        return check
    check.elapsed_ms = int((deps.monotonic() - started) * 1000)
    status, response_headers = got.status, got.headers
    check.http_status = status
    challenge = response_headers.get("www-authenticate")
    check.www_authenticate = challenge[:1000] if challenge else None
    if status in (401, 403):
        check.ok = False
        _explain_refusal(check, target, credential, deps.environ, got, deps.clock())
        return check
    if 200 <= status < 300:
        check.ok = True
        return check
    probe = command("test-token", target.name, "--probe", Placeholder("/PATH"))
    if 300 <= status < 400:
        location = response_headers.get("location", "(no Location)")[:300]
        said = (f"a redirect to {location}; astra-auth does not follow it, so the credential "
                "was not sent there")
    elif status >= 500:
        said = "an error on its side"
    else:
        said = "neither accepted nor refused the credential"
    check.warnings.append(
        f"The API answered {status} to GET {url}: {said}, so this does not tell whether it "
        f"takes the credential. Check a path that needs it (PATH under the target's url): "
        f"{probe}"
    )
    return check


@dataclass
class Answer:
    """What the API answered the check (its last answer, where the scheme sent
    the request again)."""

    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes = field(default=b"", repr=False)  # at most MAX_BODY
    # The scheme answered a first answer's challenge (Digest, a DPoP nonce)
    # and sent the request again: this is the answer to that.
    answered_challenge: bool = False


def _get(target: Target, credential: Credential, url: str, deps: Deps, timeout: float,
         ca_bundle: Path | None, identity: Any = None) -> Answer:
    from astra_auth.credentials.signing import again, answer, authenticate, write
    from astra_auth.net.transport import Deadline

    deadline = Deadline(timeout, deps.monotonic)

    def exchange(client: Any, request: Any) -> tuple[Answer, list[tuple[str, str]]]:
        response = client.send(request, stream=True)
        try:
            body = bytearray()
            for chunk in response.iter_raw():
                body += chunk
                if len(body) > MAX_BODY or deadline.expired:
                    break
        finally:
            response.close()
        lines = list(response.headers.multi_items())
        return Answer(response.status_code, {k.lower(): v for k, v in response.headers.items()},
                      bytes(body[:MAX_BODY])), lines

    def work() -> Answer:
        import httpx

        with deps.http_client(timeout, ca_bundle, identity=identity) as client:
            request = client.build_request("GET", url, headers={
                "Accept": "application/json, */*;q=0.5"})
            if credential.location == "query":
                from astra_auth.text.logmask import mask_in_http_logs

                mask_in_http_logs(credential.value)  # httpx logs each request's URL
            signed = authenticate(credential, "GET", str(request.url), request.headers, b"",
                                  name=target.name)
            request.url = httpx.URL(signed.url)
            got, lines = exchange(client, request)
            update = answer(credential, signed, got.status, lines, got.body)
            if update is None:
                return got
            write(request.headers, update)
            got, lines = exchange(client, request)
            got.answered_challenge = True
            answer(credential, again(signed, update), got.status, lines, got.body)
            return got

    return deadline.run(work)


# ---------------------------------------------------------------------------
# Why the API refused


_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def challenge_params(www_authenticate: str | None) -> dict[str, str]:
    """The auth-params of a `WWW-Authenticate` value (RFC 9110 §11.6.1), lower-cased names."""
    if not www_authenticate:
        return {}
    params: dict[str, str] = {}
    for match in _PARAM.finditer(www_authenticate):
        name = match.group(1).lower()
        value = match.group(2) if match.group(2) is not None else match.group(3)
        params.setdefault(name, re.sub(r"\\(.)", r"\1", value)[:500])
    return params


def _explain_refusal(check: ApiCheck, target: Target, credential: Credential,
                     environ: Mapping[str, str] | None = None, got: Answer | None = None,
                     now: float | None = None) -> None:
    status = check.http_status
    params = challenge_params(check.www_authenticate)
    category = Category.API_UNAUTHORIZED if status == 401 else Category.API_FORBIDDEN
    if got is not None and target.signs_each_request:
        from astra_auth.diagnosis.signed_refusal import signature_refused

        if signature_refused(target, got.status, got.headers, got.body):
            category = Category.API_UNAUTHORIZED  # the signature, not a permission
    error = params.get("error")
    described = f" ({error}" + (f": {params['error_description']}" if params.get(
        "error_description") else "") + ")" if error else ""
    check.failure = Failure(
        category,
        f"The credential was obtained, but the API answered {status} "
        f"{'Unauthorized' if status == 401 else 'Forbidden'} to GET {check.url}{described}.",
        http_status=status,
        oauth_error=error,
        oauth_error_description=params.get("error_description"),
    )
    hints: list[str] = []
    if got is not None and target.signs_each_request:
        from astra_auth.diagnosis.signed_refusal import refusal_hints

        hints += refusal_hints(target, got.status, got.headers, got.body,
                               got.answered_challenge, time.time() if now is None else now)
    claims = jwt.claims(credential.token) if credential.token else None
    header = jwt.header(credential.token) if credential.token else None
    if header is not None and str(header.get("alg", "")).lower() == "none":
        hints.append("The token is an unsigned JWT (alg: none); an API that checks signatures "
                     "refuses it. The provider is misconfigured or the token is forged.")
    if claims is not None:
        hints += _claim_hints(claims, check, target, params)
    if error == "insufficient_scope" and not any("scope" in h for h in hints):
        wanted = params.get("scope")
        hints.append(
            "The API wants more scope than the token has"
            + (f" (it asks for {wanted!r})" if wanted else "") + "."
            + (" Request it with: " + _configure(target, "--scope", wanted) if wanted
               and target.auth_type == "oauth2" else "")
        )
    if error == "invalid_token" and not hints:
        said = f": {params['error_description']}" if params.get("error_description") else ""
        if target.auth_type == "oauth2":
            hints.append(f"The API says the token is invalid{said}. Check that the API trusts "
                         "this provider (its issuer and signing keys) and that the token is "
                         "meant for it.")
        else:  # no provider: the type's own hint below says what to check
            hints.append(f"The API says the {_CREDENTIAL.get(target.auth_type or '', 'credential')}"
                         f" is invalid{said}.")
    hints += _source_hints(target, environ or {}) or _type_hints(target, status)
    if status == 403 and category == Category.API_FORBIDDEN:
        hints.append("A 403 can also mean this identity may not read this path: choose one it "
                     "may read with --probe PATH.")
    check.hints = list(dict.fromkeys(hints))


def _claim_hints(claims: dict[str, Any], check: ApiCheck, target: Target,
                 params: dict[str, str]) -> list[str]:
    hints = []
    api_origin = _origin_text(check.url)
    aud = claims.get("aud")
    audiences = [a for a in (aud if isinstance(aud, list) else [aud]) if isinstance(a, str)]
    if audiences and not any(a.rstrip("/") == api_origin or check.url.startswith(a.rstrip("/"))
                             for a in audiences):
        text = (f"The token's audience (aud) is {', '.join(repr(a) for a in audiences[:3])}, "
                f"not this API ({api_origin}).")
        if target.auth_type == "oauth2":
            text += (" Ask the provider for a token for this API: "
                     + _configure(target, "--audience", api_origin)
                     + " (Auth0, Okta), or "
                     + _configure(target, "--param", f"resource={api_origin}")
                     + " (Entra ID v1 and other RFC 8707 providers).")
        elif target.auth_type == "jwt":
            text += " Set the aud claim this API expects in the target's claims."
        hints.append(text)
    exp = claims.get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool) and exp < time.time():
        hints.append("The token's exp is in the past: it had expired when the API saw it. "
                     "Check this machine's clock and the provider's token lifetime.")
    asked = params.get("scope")
    if asked:
        have = claims.get("scope", claims.get("scp"))
        have_set = set(have.split() if isinstance(have, str) else
                       [s for s in have if isinstance(s, str)] if isinstance(have, list) else [])
        lacking = [s for s in asked.split() if s not in have_set]
        if lacking:
            text = (f"The API asks for scope {asked!r}; the token lacks "
                    f"{' '.join(lacking)!r}.")
            if target.auth_type == "oauth2":
                current = target.oauth2.scope if target.oauth2 else None
                merged = " ".join(dict.fromkeys((current or "").split() + asked.split()))
                text += " Request it with: " + _configure(target, "--scope", merged)
            hints.append(text)
    return hints


def _challenge_refused_hints(target: Target) -> list[str]:
    return ["The API's challenge asks for what astra-auth does not do (its WWW-Authenticate "
            "is above): check the API's settings for the scheme, or ask its owners which "
            "variants it accepts.",
            "Check the target's settings: " + command("targets", "show", target.name)]


def _source_hints(target: Target, environ: Mapping[str, str]) -> list[str]:
    """A refused secret that a variable supplied: storing it again cannot help
    while the variable wins, so the hint names it."""
    if target.auth_type in (None, "oauth2"):
        return []  # the token, not the client's secret, was refused
    from astra_auth.diagnosis.hints import unset_hint
    from astra_auth.storage.secretstore import sources

    return [unset_hint(source, secret_words(kind), target.secrets_mode)
            for kind, source in sources(target, environ).items()
            if source not in ("keyring", "missing")]


# What the API was sent, by auth type, in the words of its refusal's hint.
_CREDENTIAL = {"basic": "username and password", "bearer": "bearer token",
               "api_key": "API key", "jwt": "JWT signed here"}


def _type_hints(target: Target, status: int | None) -> list[str]:
    name = target.name
    if target.auth_type == "basic":
        return ["Check the username and password the API expects: "
                f"{command('configure', name)} asks for them again."]
    if target.auth_type == "api_key" and target.api_key is not None:
        k = target.api_key
        return [f"The key is sent as the {k.location} {k.name!r}: check that the API reads it "
                f"there, and that the key is valid ({_configure(target, '--key-name', k.name)} "
                "changes the name)."]
    if target.auth_type == "bearer":
        return ["The stored bearer token may have expired or been revoked: store a new one with "
                f"{command('configure', name)}."]
    if target.auth_type == "jwt" and target.jwt is not None:
        return [f"The API did not accept the JWT signed here with {target.jwt.algorithm}: check "
                "the algorithm and key it verifies with, and the claims it requires (iss, aud, "
                "sub)."]
    return []


def _configure(target: Target, flag: str, value: str) -> str:
    from astra_auth.text.shellcmd import configure

    return configure(target.name, flag, value)


def _origin_text(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
