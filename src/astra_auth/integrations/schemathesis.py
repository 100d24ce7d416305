"""A Schemathesis auth provider: `st run` authenticates through an astra-auth target.

    SCHEMATHESIS_HOOKS=astra_auth.schemathesis ASTRA_AUTH_TARGET=payments-api \\
        st run https://api.example.com/openapi.json

Loaded as Schemathesis's hooks module, this registers a global auth provider
for the target named by `ASTRA_AUTH_TARGET` (the config file is the usual one,
or `ASTRA_AUTH_CONFIG`).  From Python (a pytest suite using Schemathesis), call
`register("payments-api")` once instead.

Every test case gets the target's current credential from its
`CredentialSource`, which renews it before it expires (at 80 % of its lifetime,
as for the proxy) with one token request for all workers.  When the API answers
401 to a request that carried it, the source decides whether a new token can
help (`CredentialSource.renew`: once per refused token, never for
`insufficient_scope`), and Schemathesis's own re-authentication sends the
request once more with it.  The credential goes only to the target's own
origin (scheme, host and port of its `url`).

When no credential can be had during the scan, the scan fails in every phase
(`_Binding.missing`, `_handle_outcome`); a failure before the scan, while
Schemathesis loads its hooks, is one message with its hints and astra-auth's
exit code (`from_environment`).
A target whose scheme signs each request (aws_sigv4, http_signature, digest,
DPoP) cannot be put into a case once: the case is marked when the provider
authenticates it, and `before_call` hands its request a `requests` auth
(`_Signing`, Schemathesis passes it on to `requests`) that signs the request
last, as `requests` sends it, and answers the scheme's challenge once (the
requests documentation's pattern for HTTP Digest: a response hook sending
the request again).  A probe Schemathesis derives from a case without its
credentials (`ignored_auth`) is a new case, unmarked, and goes unsigned.

This module and `astra_auth.schemathesis` (the hooks module that Schemathesis
loads, which calls `from_environment`) are the only ones that import
schemathesis; no command imports them.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import schemathesis

from astra_auth.core.errors import AstraError, ConfigError
from astra_auth.credentials.interface import Credential, CredentialSource, origin
from astra_auth.diagnosis.hints import explain
from astra_auth.text import safetext, shellcmd

TARGET_ENV = "ASTRA_AUTH_TARGET"
# The module Schemathesis loads as its hooks (SCHEMATHESIS_HOOKS): it calls
# `from_environment()` below.
HOOKS_MODULE = "astra_auth.schemathesis"


class AstraAuthError(Exception):
    """No credential for this test case; the message says why and what to do."""


@dataclass(frozen=True)
class _Missing:
    """What the provider's `get` hands to its `set` when no credential could be had."""

    text: str


@dataclass
class _Binding:
    """One target's credential source, and the credentials recently handed out."""

    name: str
    url: str
    source: CredentialSource
    # The last few credentials given to test cases: a 401 answer is matched
    # to the one its request carried (requests in flight may hold an older one).
    recent: deque[Credential] = field(default_factory=lambda: deque(maxlen=8))
    lock: threading.Lock = field(default_factory=threading.Lock)

    # Failures already told on stderr, as they happen: Schemathesis shows its
    # errors only when the scan ends.
    told: set[str] = field(default_factory=set)
    # How often no credential could be had during the scan, and the last
    # reason: when Schemathesis did not report it, `_handle_outcome` does.
    missed: int = 0
    why: str | None = None
    # The ids of the cases given a credential that signs each request: their
    # requests are signed as they are sent (`before_call`).
    signed_cases: deque[str] = field(default_factory=lambda: deque(maxlen=4096))

    def mark(self, case: Any) -> None:
        with self.lock:
            self.signed_cases.append(case.id)

    def signs(self, case: Any) -> bool:
        with self.lock:
            return getattr(case, "id", None) in self.signed_cases

    def credential_for(self, base_url: str) -> Credential:
        """The current credential for a request to `base_url`; raises
        `AstraAuthError` (told on stderr, counted in `missed`) when there is none."""
        try:
            if origin(base_url) != origin(self.url):
                raise ConfigError(
                    f"the scan's API is at {_show_origin(base_url)}, but target {self.name!r} "
                    f"is {_show_origin(self.url)}; astra-auth sends a target's credential "
                    "only to the target's own origin",
                    hints=["Point the scan at the target's API: st run --url "
                           f"{shellcmd.quote(self.url)} …",
                           "Or change the target's URL: "
                           + shellcmd.configure(self.name, "--url", shellcmd.Placeholder("URL"))],
                )
            credential = self.source.get()
        except AstraError as exc:
            raise AstraAuthError(self.missing(exc)) from None
        with self.lock:
            if credential not in self.recent:  # one entry per token, not per case
                self.recent.append(credential)
        return credential

    def missing(self, exc: AstraError) -> str:
        """Count a request that has no credential because of `exc`; its text,
        told on stderr the first time."""
        text = _text(exc.message, explain(exc).hints)
        with self.lock:
            self.missed += 1
            self.why = text
        self.say(text)
        return text

    def unreported(self) -> str | None:
        """What to report when the scan ends and Schemathesis has reported
        none of astra-auth's errors: None when every request had a credential."""
        with self.lock:
            missed, why = self.missed, self.why
        if not missed or why is None:
            return None
        times = "once" if missed == 1 else f"{missed} times"
        return f"{why}\nNo credential could be had {times} during this scan, so the scan fails."

    def say(self, text: str) -> None:
        """`text` on stderr, once per run."""
        with self.lock:
            first = text not in self.told
            self.told.add(text)
        if first:
            print(text, file=sys.stderr, flush=True)

    def carried(self, request: Any) -> Credential | None:
        """The credential among `recent` that `request` (a requests.PreparedRequest) carried."""
        with self.lock:
            candidates = list(self.recent)
        for credential in reversed(candidates):
            if _carries(request, credential):
                return credential
        return None

    def refresh(self, case: Any) -> None:
        """Just before `case` is sent: swap a credential of ours for the current one.

        Schemathesis applies auth when it generates a case, and a case can wait
        after that (a slow body to generate, the stateful phase).  A case that
        carries none of ours (an `ignored_auth` probe, a forged token) is left
        alone.
        """
        with self.lock:
            candidates = list(self.recent)
        if not any(_case_carries(case, c) for c in candidates):
            return
        try:
            current = self.source.get()  # a memory read while the token is fresh
        except AstraError:
            return  # sent as it is; a 401 then renews, and `get` reports the failure
        if not _case_carries(case, current):
            with self.lock:
                if current not in self.recent:
                    self.recent.append(current)
            _apply(case, current)

    def after_call(self, context: Any, case: Any, response: Any) -> None:
        """A 401 to a request with our credential: let the source renew it.

        Runs before Schemathesis's re-authentication, which then asks `get`
        again and sends the request once more.
        """
        if response.status_code != 401:
            return
        failed = self.carried(response.request)
        if failed is None:
            return  # no credential of ours (an `ignored_auth` probe, say): nothing to renew
        challenge = (response.headers.get("www-authenticate") or [None])[0]
        try:
            self.source.renew(failed, challenge)
        except AstraError as exc:
            # The API refused the credential and no other can be had: this
            # request went without one.
            self.missing(exc)


def _container(case: Any, credential: Credential) -> Any:
    return {"header": case.headers, "cookie": case.cookies}.get(credential.location, case.query)


def _case_carries(case: Any, credential: Credential) -> bool:
    if credential.location == "signature":
        return False  # nothing of it is in the case: its requests are signed
    container = _container(case, credential)
    return container is not None and container.get(credential.name) == credential.value


def _apply(case: Any, credential: Credential) -> None:
    if credential.location != "signature":
        _container(case, credential)[credential.name] = credential.value


def _carries(request: Any, credential: Credential) -> bool:
    if credential.location == "signature":
        return False  # nothing to renew: the same key signs again
    headers = request.headers
    if credential.location == "header":
        return headers.get(credential.name) == credential.value
    if credential.location == "cookie":
        pairs = [part.strip().split("=", 1) for part in (headers.get("Cookie") or "").split(";")]
        return any(len(p) == 2 and p[0].strip() == credential.name and p[1] == credential.value
                   for p in pairs)
    query = parse_qsl(urlsplit(request.url or "").query, keep_blank_values=True)
    return (credential.name, credential.value) in query


def _show_origin(url: str) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


def _text(message: str, hints: list[str]) -> str:
    # Provider text among it: shown with its control characters escaped.
    return safetext.clean("astra-auth: " + message + "".join(f"\n  → {hint}" for hint in hints))


def _error(text: str) -> Exception:
    try:  # Schemathesis shows this one's text as it is, without a traceback.
        from schemathesis.core.errors import AuthenticationError
    except ImportError:  # pragma: no cover - a Schemathesis that moved it
        return AstraAuthError(text)
    return AuthenticationError("astra-auth", "get", text, include_common_causes=False)


class AstraAuthProvider:
    """Schemathesis's `AuthProvider` protocol over one `_Binding`.

    A failure is raised by `set`, not by `get`: Schemathesis's caching layer
    (`schemathesis.auths.CachingAuthProvider`, kept for its re-authentication
    on 401) counts failures of `get` and, after three in a row, answers for
    30 s with its own "Token fetch failed 3 times in a row" and "Common
    causes" in place of astra-auth's message, without asking again.  The
    source has its own back-off (`astra_auth.credentials.shared`).
    """

    binding: _Binding

    def get(self, case: Any, context: Any) -> Credential | _Missing:
        operation = context.operation
        base_url = operation.base_url or operation.schema.get_base_url()
        try:
            return self.binding.credential_for(base_url)
        except AstraAuthError as exc:
            return _Missing(str(exc))

    def set(self, case: Any, data: Credential | _Missing, context: Any) -> None:
        if isinstance(data, _Missing):
            raise _error(data.text)
        _apply(case, data)
        if data.signer is not None:
            self.binding.mark(case)


class _Signing:
    """A `requests` auth that puts the current credential on a request last
    and signs it (a `requests.auth.AuthBase`: `requests` calls it once the
    request is prepared), then answers the scheme's challenge once from a
    response hook, as `requests.auth.HTTPDigestAuth` does."""

    def __init__(self, binding: _Binding) -> None:
        self.binding = binding

    def __call__(self, request: Any) -> Any:
        from astra_auth.credentials.signing import authenticate

        binding = self.binding
        if origin(request.url) != origin(binding.url):
            return request  # never signed for another origin
        credential = binding.credential_for(binding.url)
        try:
            signed = authenticate(credential, request.method, request.url, request.headers,
                                  _body(request.body), name=binding.name)
        except AstraError as exc:  # a request its scheme refuses to sign
            text = _text(exc.message, explain(exc).hints)
            binding.say(text)
            raise _error(text) from None
        request.url = signed.url
        request.register_hook("response", lambda response, **kwargs: self.answered(
            credential, signed, response, **kwargs))
        return request

    def answered(self, credential: Credential, signed: Any, response: Any,
                 **kwargs: Any) -> Any:
        from astra_auth.credentials.signing import (
            ChallengeRefused,
            again,
            answer,
            write,
        )

        try:
            update = answer(credential, signed, response.status_code, response.headers.items())
        except ChallengeRefused as exc:
            self.binding.say(f"astra-auth: the API's challenge cannot be answered: {exc}")
            return response
        if update is None:
            return response
        response.content  # noqa: B018 - read, so that the connection can be reused
        response.close()
        request = response.request.copy()
        write(request.headers, update)
        retried = response.connection.send(request, **kwargs)
        retried.history.append(response)
        retried.request = request
        try:
            answer(credential, again(signed, update), retried.status_code,
                   retried.headers.items())
        except ChallengeRefused:
            pass  # the second answer is the scanner's to see
        return retried


def _body(body: Any) -> bytes | None:
    """A prepared request's body as a scheme signs it (None: it streams)."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return body if isinstance(body, bytes) else None


def register(
    name: str,
    *,
    config: str | Path | None = None,
    min_ttl: float | None = None,
    timeout: float | None = None,
    ca_bundle: str | Path | None = None,
) -> type[AstraAuthProvider]:
    """Authenticate every Schemathesis test case through target `name`.

    Registers a global auth provider and two hooks (`before_call` puts the
    current credential into a case about to be sent, `after_call` renews on a
    401), and obtains the first credential.  Raises `astra_auth.AstraError` (message and
    hints; `astra_auth.CredentialError` when no token can be had) for an unknown
    target, a target without a URL, or a bad config file.
    """
    from astra_auth.integrations.source import api_source

    url, source = api_source(name, config=config, min_ttl=min_ttl, timeout=timeout,
                             ca_bundle=ca_bundle)
    binding = _Binding(name, url, source)
    # The first credential now: a wrong secret or an unreachable provider is
    # reported once, before the scan, rather than as an error per operation.
    try:
        binding.source.get()
    except AstraError as exc:
        explain(exc)
        raise
    provider = type("AstraAuth", (AstraAuthProvider,), {"binding": binding})
    # refresh_interval=0: Schemathesis keeps no copy of its own and asks the
    # source for every case (a memory read while the token is fresh); its
    # caching layer is kept only for its re-authentication on 401.
    schemathesis.auth(refresh_interval=0, retry_on=[401])(provider)

    signing = _Signing(binding)

    # Plain functions: Schemathesis sets attributes on its hooks.
    def before_call(context: Any, case: Any, kwargs: Any) -> None:
        binding.refresh(case)
        if binding.signs(case):
            # Schemathesis passes its transport's keyword arguments on to
            # `requests`: this one signs the request as it is sent.
            kwargs["auth"] = signing

    def after_call(context: Any, case: Any, response: Any) -> None:
        binding.after_call(context, case, response)

    schemathesis.hook(before_call)
    schemathesis.hook(after_call)
    _handle_outcome(binding)
    return provider


def _handle_outcome(binding: _Binding) -> None:
    """Make sure that the scan fails when a request went without a credential.

    The provider's error fails the scan when Schemathesis reports it, but it
    does not always: whether a test case gets a credential depends on when
    it runs, not on its input, and when Hypothesis replays a case with the
    other outcome it calls the result flaky, which Schemathesis counts as a
    pass and reports nothing (`engine/run/unit/_errors.py` and
    `engine/run/stateful/_executor.py`, `_classify_flaky`).  So a CLI event
    handler (`schemathesis.cli.handler`, "Extending CLI" in its guides)
    watches the run, and when it ends with none of astra-auth's errors
    reported, adds one as the engine adds its own (`ctx.on_event` with a
    `NonFatalError`): shown under ERRORS, and the exit code is 1.

    Only under Schemathesis's command line: in pytest, a test that got no
    credential fails by itself.
    """
    if not _from_cli():
        return
    from schemathesis import cli
    from schemathesis.engine import events

    class AstraAuthOutcome(cli.EventHandler):
        def __init__(self, *args: Any, **params: Any) -> None:
            self.reported = False

        def handle_event(self, ctx: Any, event: events.EngineEvent) -> None:
            if isinstance(event, events.NonFatalError):
                self.reported |= str(event.value).startswith("astra-auth: ")
            elif isinstance(event, events.EngineFinished) and not self.reported:
                text = binding.unreported()
                if text is not None:
                    ctx.on_event(events.NonFatalError(error=_error(text), phase=None,
                                                      label="astra-auth",
                                                      related_to_operation=False))

    cli.handler()(AstraAuthOutcome)


def _from_cli() -> bool:
    """Whether Schemathesis runs from its command line (`st run`, `st fuzz`),
    which imports its hooks module as it starts."""
    return "schemathesis.cli" in sys.modules


def from_environment() -> None:
    """Register the target named by ASTRA_AUTH_TARGET (when loaded as the hooks module).

    Loaded by Schemathesis's command line, a problem ends the run here: its
    message and hints on stderr, and astra-auth's exit code for it (3 for
    the configuration, 4 when the provider refused, 5 when it could not be
    reached, ...).  Schemathesis turns any `Exception` from a hooks module
    into "Unable to load Schemathesis extension hooks" and a traceback
    (`schemathesis.core.hooks.load_from_path`, `schemathesis.cli.commands`),
    but lets `SystemExit` through, as `sys.exit` means it.  Imported from
    Python, the problem is raised as `AstraAuthError`.
    """
    name = os.environ.get(TARGET_ENV, "").strip()
    try:
        if name:
            register(name)
        elif os.environ.get("SCHEMATHESIS_HOOKS") == HOOKS_MODULE:
            raise ConfigError(
                f"{TARGET_ENV} is not set, so astra_auth.schemathesis does not know which "
                "target's credential to use",
                hints=[f"Name the target: {TARGET_ENV}=payments-api "
                       f"SCHEMATHESIS_HOOKS={HOOKS_MODULE} st run URL"],
            )
    except AstraError as exc:
        text = _text(exc.message, explain(exc).hints)
        if not _from_cli():
            raise AstraAuthError(text) from None
        print(text, file=sys.stderr, flush=True)
        raise SystemExit(int(exc.exit_code)) from None
