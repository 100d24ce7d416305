"""The one human step of the device-code and authorization-code grants, as
`astra-auth login` and `configure` (right after saving) both run it (README:
"login: users with MFA, without keeping a password").

Afterwards only the refresh token is kept (`<target>:refresh_token`) and the
access token goes to the usual cache; `credentials.oauth2.TokenSource` renews
from it unattended.  Ctrl-C at any point stores nothing (exit 130, in the CLI).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from astra_auth.core.failure import CredentialError
from astra_auth.credentials.oauth2 import TokenSource
from astra_auth.credentials.oauth2_request import grant_request
from astra_auth.credentials.secrets import SecretProblem
from astra_auth.diagnosis.hints import Context, configure_command, hints_for
from astra_auth.net.settings import network
from astra_auth.oauth.grant import Outcome
from astra_auth.oauth.login import LoginFailed
from astra_auth.oauth.token_request import GrantRequest
from astra_auth.storage.config import Target
from astra_auth.text.shellcmd import command

if TYPE_CHECKING:
    import httpx

    from astra_auth.deps import Deps
    from astra_auth.oauth.device import DeviceCode

MakeClient = Callable[[], "httpx.Client"]


def log_in(target: Target, deps: Deps, *, timeout: float | None = None,
           ca_bundle: Path | None = None, port: int | None = None) -> None:
    """Log in to a target of a login grant and keep what the provider issued.

    `timeout` and `ca_bundle` (None: the target's own), `port`: the loopback
    port of the authorization-code redirect (None: any free one).  Raises
    CredentialError, with its hints, when no token came of it."""
    o = target.oauth2
    assert o is not None and o.needs_login
    timeout, ca_bundle = network(target, timeout, ca_bundle)
    ctx = Context.of(target, deps.environ)
    try:
        base = grant_request(target, deps)
    except SecretProblem as exc:
        raise CredentialError(exc.failure, hints_for(exc.failure, ctx)) from None

    def make_client() -> httpx.Client:
        # tls_client_auth presents the client's certificate at every endpoint.
        return deps.http_client(timeout, ca_bundle, identity=base.tls_identity)

    try:
        if o.grant_type == "device_code":
            outcome = _device(o.device_authorization_url, base, make_client, timeout, deps)
        else:
            outcome = _authcode(o.authorization_url, base, make_client, timeout, ca_bundle,
                                port, deps)
    except LoginFailed as exc:
        raise CredentialError(exc.failure, hints_for(exc.failure, ctx)) from None

    source = TokenSource(target, deps, timeout=timeout, ca_bundle=ca_bundle)
    issued = outcome.token is not None and outcome.token.refresh_token is not None
    source.adopt(outcome)
    deps.io.success(f"Logged in: {target.name} has a fresh access token.")
    if issued:
        deps.io.info(f"The refresh token is in the keyring (entry '{target.name}:refresh_token'); "
                     "token, exec, proxy and auth_for renew from it unattended. Check with: "
                     + command("test-token", target.name))
    else:
        deps.io.warn(
            "The provider issued no refresh token, so renewal will need another login once "
            "this access token expires. Ask for one: many providers want the scope "
            "offline_access (" + configure_command(ctx, "--scope", "openid offline_access")
            + "), or the refresh_token grant enabled for the client.")


def _device(url: str | None, base: GrantRequest, make_client: MakeClient, timeout: float,
            deps: Deps) -> Outcome:
    from astra_auth.oauth import device

    assert url is not None  # the config requires it for this grant
    code = device.start(base, url, make_client, timeout=timeout)
    _show_code(code, deps)
    status = (deps.io.err.status("Waiting for the approval in the browser …")
              if deps.io.err.is_terminal else nullcontext())
    with status:
        return device.poll(
            base, code, make_client, timeout=timeout, sleep=deps.sleep,
            monotonic=deps.monotonic,
            on_slow_down=lambda seconds: deps.io.info(
                f"The provider asked to poll more slowly: every {seconds} seconds now."),
            on_backoff=lambda seconds, category: deps.io.warn(
                f"The token endpoint did not answer usefully ({category}); polling again "
                f"every {seconds} seconds while the code is valid."),
        )


def _show_code(code: DeviceCode, deps: Deps) -> None:
    """The verification URL and the user code, large and clear (RFC 8628 §3.3)."""
    from rich.panel import Panel
    from rich.text import Text

    text = Text()
    text.append("1. Open  ")
    text.append(code.verification_uri, style="bold underline")
    text.append("\n2. Enter the code  ")
    text.append(code.user_code, style="bold reverse")
    if code.verification_uri_complete:
        text.append("\n\nOr open this link, which carries the code:\n")
        text.append(code.verification_uri_complete, style="underline")
    minutes = max(1, round(code.expires_in / 60))
    text.append(f"\n\nThe code is valid for about {minutes} minute{'' if minutes == 1 else 's'}."
                " Ctrl-C cancels.")
    deps.io.err.print(Panel(text, title="Log in", expand=False))


def _authcode(endpoint: str | None, base: GrantRequest, make_client: MakeClient,
              timeout: float, ca_bundle: Path | None, port: int | None,
              deps: Deps) -> Outcome:
    from astra_auth.oauth import authcode

    assert endpoint is not None  # the config requires it for this grant

    def open_url(url: str, redirect_uri: str) -> None:
        deps.io.info(f"Listening on {redirect_uri} for the provider's answer.")
        if deps.browse(url):
            deps.io.info("The browser was opened to log in. If it did not open, visit:")
        else:
            deps.io.info("Open this URL in a browser on this machine to log in:")
        deps.io.err.print(url, soft_wrap=True, markup=False)
        deps.io.info("Waiting for the browser … (Ctrl-C cancels)")

    # The provider's metadata, when it has some, says who must answer (RFC 9207).
    metadata = deps.metadata_for(base.token_url, ca_bundle)
    return authcode.login(base, endpoint, make_client, timeout=timeout,
                          port=port or 0, open_url=open_url, monotonic=deps.monotonic,
                          on_refused=deps.io.warn,
                          issuer=metadata.issuer if metadata is not None else None,
                          iss_required=metadata is not None and metadata.iss_parameter_supported)
