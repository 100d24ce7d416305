"""`astra-auth login NAME`: the one human step of the device-code and
authorization-code grants (contract, "login").

Afterwards only the refresh token is kept (`<target>:refresh_token`) and the
access token goes to the usual cache; `tokens.TokenSource` renews from it
unattended.  Ctrl-C at any point stores nothing (exit 130, in `cli.run`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from astra_auth.commands.options.login import LoginOptions
from astra_auth.core.errors import UsageError
from astra_auth.core.failure import CredentialError
from astra_auth.core.validate import GRANT_LABELS
from astra_auth.credentials.oauth2 import TokenSource
from astra_auth.credentials.oauth2_request import grant_request
from astra_auth.credentials.secrets import SecretProblem
from astra_auth.deps import Deps
from astra_auth.diagnosis.hints import Context, configure_command, hints_for
from astra_auth.net.settings import check_network_options
from astra_auth.oauth.grant import GrantRequest, Outcome
from astra_auth.oauth.login import LoginFailed
from astra_auth.storage.lookup import load_target
from astra_auth.text.shellcmd import command

if TYPE_CHECKING:
    import httpx

    from astra_auth.oauth.device import DeviceCode

MakeClient = Callable[[], "httpx.Client"]


def login(opts: LoginOptions, deps: Deps) -> None:
    check_network_options(opts.timeout, opts.ca_bundle)
    if opts.port is not None and not 0 <= opts.port <= 65535:
        raise UsageError("--port: give a port number from 1 to 65535 (0: any free port)")
    target = load_target(deps, opts.name)
    o = target.oauth2
    if o is None or not o.needs_login:
        what = (f"the {GRANT_LABELS[o.grant_type]} grant" if o is not None
                else f"auth type {target.auth_type or 'none'}")
        raise UsageError(
            f"target {target.name!r} uses {what}, which needs no login: only the device_code "
            "and authorization_code grants have one",
            hints=["Its credential comes without one: " + command("test-token", target.name),
                   "To log in as a user instead: " + command(
                       "configure", target.name, "--grant-type", "device_code")],
        )
    if opts.port is not None and o.grant_type != "authorization_code":
        raise UsageError("--port is for the authorization_code grant only (its loopback "
                         f"redirect); {target.name!r} uses {o.grant_type}")
    from astra_auth.net.settings import network

    timeout, ca_bundle = network(target, opts.timeout, opts.ca_bundle)
    opts = replace(opts, timeout=timeout, ca_bundle=ca_bundle)
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
            outcome = _device(o.device_authorization_url, base, make_client, opts, deps)
        else:
            outcome = _authcode(o.authorization_url, base, make_client, opts, deps)
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


def _device(url: str | None, base: GrantRequest, make_client: MakeClient, opts: LoginOptions,
            deps: Deps) -> Outcome:
    from astra_auth.oauth import device

    assert url is not None  # the config requires it for this grant
    assert opts.timeout is not None  # settled by login()
    code = device.start(base, url, make_client, timeout=opts.timeout)
    _show_code(code, deps)
    status = (deps.io.err.status("Waiting for the approval in the browser …")
              if deps.io.err.is_terminal else _Quiet())
    with status:
        return device.poll(
            base, code, make_client, timeout=opts.timeout, sleep=deps.sleep,
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
              opts: LoginOptions, deps: Deps) -> Outcome:
    from astra_auth.oauth import authcode

    assert endpoint is not None  # the config requires it for this grant
    assert opts.timeout is not None  # settled by login()

    def open_url(url: str, redirect_uri: str) -> None:
        deps.io.info(f"Listening on {redirect_uri} for the provider's answer.")
        if deps.browse(url):
            deps.io.info("The browser was opened to log in. If it did not open, visit:")
        else:
            deps.io.info("Open this URL in a browser on this machine to log in:")
        deps.io.err.print(url, soft_wrap=True, markup=False)
        deps.io.info("Waiting for the browser … (Ctrl-C cancels)")

    # The provider's metadata, when it has some, says who must answer (RFC 9207).
    metadata = deps.metadata_for(base.token_url, opts.ca_bundle)
    return authcode.login(base, endpoint, make_client, timeout=opts.timeout,
                          port=opts.port or 0, open_url=open_url, monotonic=deps.monotonic,
                          on_refused=deps.io.warn,
                          issuer=metadata.issuer if metadata is not None else None,
                          iss_required=metadata is not None and metadata.iss_parameter_supported)


class _Quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None
