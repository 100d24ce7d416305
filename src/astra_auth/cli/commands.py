"""The commands with many options: configure (~40), test-token, token, login,
proxy and exec.  typer reads a command's options from its function's
signature, and defining these cost ~0.7 ms on every start of every other
command (benchmarks/startup.py), so they are defined here, imported only when
one of them is built (cli.Deferred); cli.py registers each in its place.
"""

# No `from __future__ import annotations`, as in cli.py: typer would eval()
# each annotation.

from pathlib import Path
from typing import Annotated

import typer

from astra_auth.cli.app import _complete_from, complete_target, run
from astra_auth.core import validate

# --timeout and --ca-bundle, alike on every command that talks to the network;
# service.check_network_options checks their values, once for all.
TimeoutOption = Annotated[
    float | None,
    typer.Option("--timeout", help="Seconds per network exchange (default: the target's "
                 "timeout, else 10).", show_default=False),
]
CaBundleOption = Annotated[
    Path | None,
    typer.Option("--ca-bundle", help="Extra CA certificates (PEM) to trust (default: the "
                 "target's ca_bundle).", dir_okay=False),
]


# ---------------------------------------------------------------------------
# configure


def configure(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            help="Target to configure (created if new).",
            autocompletion=complete_target,
            show_default=False,
        ),
    ] = None,
    auth_type: Annotated[
        str | None,
        typer.Option("--auth-type", help="oauth2 (the default), basic, bearer, api_key or jwt.",
                     autocompletion=_complete_from(validate.AUTH_TYPES)),
    ] = None,
    grant_type: Annotated[
        str | None,
        typer.Option("--grant-type", help="client_credentials, password, device_code or "
                     "authorization_code.",
                     autocompletion=_complete_from(validate.GRANT_TYPES)),
    ] = None,
    token_url: Annotated[
        str | None, typer.Option("--token-url", help="The Access Token URL (https).")
    ] = None,
    issuer: Annotated[
        str | None,
        typer.Option("--issuer", help="Instead of --token-url: read it from the issuer's "
                     "discovery document."),
    ] = None,
    client_id: Annotated[str | None, typer.Option("--client-id", help="The client ID.")] = None,
    client_secret_stdin: Annotated[
        bool, typer.Option("--client-secret-stdin", help="Read the client secret from stdin.")
    ] = False,
    client_secret: Annotated[
        str | None,
        typer.Option("--client-secret", help="The client secret (visible to other users: "
                     "prefer --client-secret-stdin or ASTRA_AUTH_CLIENT_SECRET)."),
    ] = None,
    username: Annotated[
        str | None, typer.Option("--username", help="Username (password grant only).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    password: Annotated[
        str | None,
        typer.Option("--password", help="The password (visible to other users: prefer "
                     "--password-stdin or ASTRA_AUTH_PASSWORD)."),
    ] = None,
    scope: Annotated[str | None, typer.Option("--scope", help="Scope to request.")] = None,
    audience: Annotated[
        str | None, typer.Option("--audience", help="Audience to request.")
    ] = None,
    client_auth: Annotated[
        str | None,
        typer.Option("--client-auth", help="basic (HTTP Basic, default), post (form body), "
                     "private_key_jwt, tls_client_auth or none (a public client).",
                     autocompletion=_complete_from(validate.CLIENT_AUTH_METHODS)),
    ] = None,
    secrets: Annotated[
        str | None,
        typer.Option("--secrets", help="keyring (default) or env: store nothing, read "
                     "ASTRA_AUTH_<TARGET>_CLIENT_SECRET (or ASTRA_AUTH_CLIENT_SECRET), and "
                     "likewise each other secret, at run time.",
                     autocompletion=_complete_from(validate.SECRET_MODES)),
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="URL of the API under test.")] = None,
    test: Annotated[
        bool, typer.Option("--test", help="Run test-token after saving; exit with its code.")
    ] = False,
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Never prompt; fail on a missing value.")
    ] = False,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="bearer: read the token from stdin.")
    ] = False,
    key_name: Annotated[
        str | None, typer.Option("--key-name", help="api_key: the header, query parameter or "
                                 "cookie name.")
    ] = None,
    key_location: Annotated[
        str | None,
        typer.Option("--key-location", help="api_key: header (default), query or cookie.",
                     autocompletion=_complete_from(validate.KEY_LOCATIONS)),
    ] = None,
    api_key_stdin: Annotated[
        bool, typer.Option("--api-key-stdin", help="api_key: read the key from stdin.")
    ] = False,
    algorithm: Annotated[
        str | None,
        typer.Option("--algorithm", help="jwt: HS256, HS384, HS512, RS256, PS256 or ES256.",
                     autocompletion=_complete_from(validate.JWT_ALGORITHMS)),
    ] = None,
    signing_key_stdin: Annotated[
        bool, typer.Option("--signing-key-stdin", help="jwt: read the HMAC secret or PEM "
                           "private key from stdin.")
    ] = False,
    signing_key_file: Annotated[
        Path | None,
        typer.Option("--signing-key-file", help="jwt: a PEM private key file, read once into "
                     "the keyring.", dir_okay=False),
    ] = None,
    claim: Annotated[
        list[str] | None,
        typer.Option("--claim", help="jwt: a claim NAME=VALUE (repeatable; replaces the "
                     "stored claims).", show_default=False),
    ] = None,
    lifetime: Annotated[
        int | None, typer.Option("--lifetime", help="jwt: seconds until exp (default 300).")
    ] = None,
    header_name: Annotated[
        str | None, typer.Option("--header-name", help="jwt: the header (default "
                                 "Authorization).")
    ] = None,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help='jwt: before the token (default Bearer; '
                                 '"" for none).')
    ] = None,
    # --- issue 12: enterprise clients ---
    private_key_file: Annotated[
        Path | None,
        typer.Option("--private-key-file", help="private_key_jwt, tls_client_auth: the "
                     "client's PEM private key, read once into the keyring.", dir_okay=False),
    ] = None,
    private_key_stdin: Annotated[
        bool, typer.Option("--private-key-stdin", help="Read that PEM private key from stdin.")
    ] = False,
    certificate: Annotated[
        str | None,
        typer.Option("--certificate", help="The client's PEM certificate (a path kept in the "
                     "config): tls_client_auth, or x5t#S256 for private_key_jwt."),
    ] = None,
    assertion_alg: Annotated[
        str | None,
        typer.Option("--assertion-alg", help="private_key_jwt: RS256, PS256 or ES256.",
                     autocompletion=_complete_from(validate.ASSERTION_ALGORITHMS)),
    ] = None,
    assertion_audience: Annotated[
        str | None,
        typer.Option("--assertion-audience", help="private_key_jwt: the assertion's aud "
                     "(default: the token URL, or the provider's own rule)."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="An extra token parameter NAME=VALUE (repeatable; "
                     "replaces the stored ones), e.g. resource=https://api.example.com.",
                     show_default=False),
    ] = None,
    certificate_bound: Annotated[
        bool | None,
        typer.Option("--certificate-bound/--no-certificate-bound",
                     help="Tokens are bound to the client certificate (RFC 8705): present "
                     "it to the API too (proxy, API check, ssl_context_for).",
                     show_default=False),
    ] = None,
    ca_bundle: Annotated[
        Path | None,
        typer.Option("--ca-bundle", help="Extra CA certificates (PEM) to trust for this "
                     "target, saved for every command.", dir_okay=False),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds per network exchange for this target, saved "
                     "for every command (default 10).", min=0.001),
    ] = None,
    authorization_url: Annotated[
        str | None, typer.Option("--authorization-url", help="authorization_code: the "
                                 "provider's authorization endpoint (default: from discovery).")
    ] = None,
    device_authorization_url: Annotated[
        str | None, typer.Option("--device-authorization-url", help="device_code: the "
                                 "provider's device authorization endpoint (default: from "
                                 "discovery).")
    ] = None,
) -> None:
    """Set up a target's OAuth 2.0 auth: a walk-through at a terminal, flags in CI."""
    from astra_auth.commands.configure import ConfigureOptions
    from astra_auth.commands.configure import configure as run_configure

    opts = ConfigureOptions(
        name=name, auth_type=auth_type, grant_type=grant_type, token_url=token_url,
        client_id=client_id, client_secret=client_secret,
        client_secret_stdin=client_secret_stdin, username=username, password=password,
        password_stdin=password_stdin, scope=scope, audience=audience,
        client_auth=client_auth, secrets=secrets, url=url, no_input=no_input, test=test,
        issuer=issuer, token_stdin=token_stdin, key_name=key_name, key_location=key_location,
        api_key_stdin=api_key_stdin, algorithm=algorithm, signing_key_stdin=signing_key_stdin,
        signing_key_file=signing_key_file, claims=tuple(claim or ()), lifetime=lifetime,
        header_name=header_name, prefix=prefix,
        private_key_file=private_key_file, private_key_stdin=private_key_stdin,
        certificate=certificate, assertion_alg=assertion_alg,
        assertion_audience=assertion_audience, params=tuple(param or ()),
        certificate_bound=certificate_bound, ca_bundle=ca_bundle, timeout=timeout,
        authorization_url=authorization_url, device_authorization_url=device_authorization_url,
    )
    run(ctx, run_configure, opts)


# ---------------------------------------------------------------------------
# test-token


def test_token(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(help="Target to test.", autocompletion=complete_target, show_default=False),
    ] = None,
    all_targets: Annotated[bool, typer.Option("--all", help="Test every target.")] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the request and response, masked.")
    ] = False,
    timeout: TimeoutOption = None,
    ca_bundle: CaBundleOption = None,
    probe: Annotated[
        str | None,
        typer.Option("--probe", metavar="PATH_OR_URL",
                     help="Check the credential with a GET to this path under the target's "
                     "URL (or this URL on its origin) instead of the URL itself."),
    ] = None,
    no_probe: Annotated[
        bool, typer.Option("--no-probe", help="Do not check the credential against the API.")
    ] = False,
) -> None:
    """Obtain the credential for real (the grant, for OAuth 2.0), check it against the API,
    and on failure say why and what to change."""
    from astra_auth.commands.test_token import TestTokenOptions
    from astra_auth.commands.test_token import test_token as run_test_token

    opts = TestTokenOptions(name=name, all=all_targets, json=json, verbose=verbose,
                            timeout=timeout, ca_bundle=ca_bundle, probe=probe, no_probe=no_probe)
    run(ctx, run_test_token, opts)


# ---------------------------------------------------------------------------
# token


def token(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="Target.", autocompletion=complete_target, show_default=False)
    ],
    format: Annotated[
        str,
        typer.Option("--format", help="bare (the token), header (Authorization: Bearer …) "
                     "or json.", autocompletion=_complete_from(validate.TOKEN_FORMATS)),
    ] = "bare",
    min_ttl: Annotated[
        float,
        typer.Option("--min-ttl", help="Renew when fewer seconds than this are left."),
    ] = 60.0,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Ask for a new token; do not use the cache.")
    ] = False,
    timeout: TimeoutOption = None,
    ca_bundle: CaBundleOption = None,
) -> None:
    """Print a valid credential (an access token, key or signed JWT), cached and renewed
    as needed, for scripts."""
    from astra_auth.commands.token import TokenOptions
    from astra_auth.commands.token import token as run_token

    run(ctx, run_token, TokenOptions(name=name, format=format, min_ttl=min_ttl,
                                     no_cache=no_cache, timeout=timeout, ca_bundle=ca_bundle))


# ---------------------------------------------------------------------------
# login


def login(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="Target.", autocompletion=complete_target, show_default=False)
    ],
    port: Annotated[
        int | None,
        typer.Option("--port", help="authorization_code: the loopback port the client "
                     "registration needs (default: any free port).", show_default=False),
    ] = None,
    timeout: TimeoutOption = None,
    ca_bundle: CaBundleOption = None,
) -> None:
    """The one human step of the device-code and authorization-code grants:
    afterwards renewal is unattended."""
    from astra_auth.commands.login import LoginOptions
    from astra_auth.commands.login import login as run_login

    run(ctx, run_login, LoginOptions(name=name, port=port, timeout=timeout,
                                     ca_bundle=ca_bundle))


# ---------------------------------------------------------------------------
# proxy


def proxy(
    ctx: typer.Context,
    targets: Annotated[
        list[str],
        typer.Argument(help="TARGET or TARGET=PORT (default port 8080; 0: any free port), "
                       "one per identity.", autocompletion=complete_target,
                       show_default=False, metavar="TARGET[=PORT]..."),
    ],
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to listen on (default 127.0.0.1; another than "
                     "loopback needs --allow-remote).", show_default=False),
    ] = None,
    upstream: Annotated[
        str | None,
        typer.Option("--upstream", help="Forward to this URL instead of the target's url."),
    ] = None,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Listen beyond loopback: anyone who can "
                           "reach the port can use the credential.")
    ] = False,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option("--allow-origin", help="Let web pages of this origin "
                     "(scheme://host[:port]) use the proxy; repeatable. Others are refused.",
                     show_default=False, metavar="ORIGIN"),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print failures only, no renewals.")
    ] = False,
    timeout: TimeoutOption = None,
    ca_bundle: CaBundleOption = None,
) -> None:
    """Forward every request to the target's API with a fresh credential added."""
    from astra_auth.proxy import ProxyOptions
    from astra_auth.proxy import run as run_proxy

    run(ctx, run_proxy, ProxyOptions(targets=targets, host=host, upstream=upstream,
                                     allow_remote=allow_remote,
                                     allow_origins=list(allow_origin or []), quiet=quiet,
                                     timeout=timeout, ca_bundle=ca_bundle))


# ---------------------------------------------------------------------------
# exec


def exec_(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="Target.", autocompletion=complete_target, show_default=False)
    ],
    command: Annotated[
        list[str] | None,
        typer.Argument(help="The command and its arguments, after `--`.", show_default=False,
                       metavar="-- COMMAND [ARG]..."),
    ] = None,
    min_ttl: Annotated[
        float,
        typer.Option("--min-ttl", help="Renew first when fewer seconds than this are left."),
    ] = 60.0,
    timeout: TimeoutOption = None,
    ca_bundle: CaBundleOption = None,
) -> None:
    """Run COMMAND with the credential in its environment: ASTRA_AUTH_TOKEN,
    ASTRA_AUTH_HEADER_NAME, ASTRA_AUTH_HEADER_VALUE and ZAP's ZAP_AUTH_HEADER,
    ZAP_AUTH_HEADER_VALUE, ZAP_AUTH_HEADER_SITE.  Exits with COMMAND's exit code.
    The header reaches curl on stdin in the example, not on its command line,
    where any local user could read it in the process list.
    """
    from astra_auth.commands.exec import ExecOptions, exec_command

    run(ctx, exec_command, ExecOptions(name=name, command=list(command or []), min_ttl=min_ttl,
                                       timeout=timeout, ca_bundle=ca_bundle))
