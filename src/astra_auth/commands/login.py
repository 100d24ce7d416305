"""`astra-auth login NAME`: the one human step of the device-code and
authorization-code grants.  The flow itself, which `configure` runs too, is
`commands.shared.login_flow`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.commands.options.login import LoginOptions
from astra_auth.commands.shared.login_flow import log_in
from astra_auth.core.errors import UsageError
from astra_auth.core.validate import GRANT_LABELS
from astra_auth.net.settings import check_network_options
from astra_auth.storage.lookup import load_target
from astra_auth.text.shellcmd import command

if TYPE_CHECKING:
    from astra_auth.deps import Deps


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
    log_in(target, deps, timeout=opts.timeout, ca_bundle=opts.ca_bundle, port=opts.port)
