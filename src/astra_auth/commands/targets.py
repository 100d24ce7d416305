"""`astra-auth targets list|add|show|remove`.

`targets list` runs on every start of a scanner's script, so this module
imports only what listing needs; each other command imports its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from astra_auth.commands.options.targets import AddOptions, ListOptions, RemoveOptions, ShowOptions
from astra_auth.core import validate
from astra_auth.core.errors import UsageError
from astra_auth.core.validate import AUTH_LABELS, GRANT_LABELS
from astra_auth.storage.secretstore import name_clash
from astra_auth.storage.token_state import describe, read_state

if TYPE_CHECKING:
    from collections.abc import Callable

    from astra_auth.deps import Deps
    from astra_auth.storage.config import Target


def list_targets(opts: ListOptions, deps: Deps) -> None:
    config = deps.config.load()
    targets = [config.targets[name] for name in sorted(config.targets)]
    if opts.json:
        import json

        deps.io.write_out(json.dumps([{
            "name": target.name,
            "url": target.url,
            "auth_type": target.auth_type,
            "grant_type": target.oauth2.grant_type if target.oauth2 else None,
            "token_url": target.oauth2.token_url if target.oauth2 else None,
        } for target in targets], indent=2) + "\n")
        return
    if not targets:
        from astra_auth.text.shellcmd import command

        deps.io.info("No targets yet. Add one with: " + command("configure"))
        return
    tokens = read_state(deps.config_path)
    now = deps.clock()
    rows = [["NAME", "URL", "AUTH", "GRANT", "CACHED TOKEN", "TOKEN URL"]]
    for target in targets:
        o = target.oauth2
        rows.append([
            target.name,
            target.url or "—",
            AUTH_LABELS[target.auth_type] if target.auth_type else "not configured",
            GRANT_LABELS[o.grant_type] if o else "—",
            describe(tokens.get(target.name), now),
            o.token_url if o else "—",
        ])
    deps.io.write_out(aligned(rows))


def aligned(rows: list[list[str]]) -> str:
    """Rows (the header first) in columns padded to a common width, in the
    manner of `kubectl get`; the last column is not padded.

    Not a rich Table: rendering one takes ~0.35 ms a row, 350 ms for 1,000
    targets.  Widths are measured in terminal cells, so wide characters still
    line up (rich's cell widths, needed only beyond ASCII; the dash that
    stands for "none" is one cell).
    """
    width: Callable[[str], int] = len
    pad: Callable[[str, int], str] = str.ljust
    if not "".join("".join(row) for row in rows).replace("—", "").isascii():
        from rich.cells import cell_len, set_cell_size

        width, pad = cell_len, set_cell_size
    widths = [max(width(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    return "".join("  ".join([*map(pad, row, widths), row[-1]]) + "\n" for row in rows)


def add_target(opts: AddOptions, deps: Deps) -> None:
    from astra_auth.storage.config import Target
    from astra_auth.text.shellcmd import command

    try:
        validate.target_name(opts.name)
    except ValueError as exc:
        raise UsageError(f"NAME: {exc}") from None
    url = None
    if opts.url is not None:
        try:
            url = validate.api_url(opts.url)
        except validate.InsecureURL as exc:
            raise UsageError(f"--url: {exc}", category="insecure_url", hints=[
                "Give the https address: " + command(
                    "targets", "add", opts.name, "--url", validate.https_form(opts.url.strip()))
            ]) from None
        except ValueError as exc:
            raise UsageError(f"--url: {exc}") from None
    with deps.config.edit() as config:
        if opts.name in config.targets:
            raise UsageError(
                f"a target named {opts.name!r} already exists",
                hints=["Change it with: " + command("configure", opts.name)],
            )
        clash = name_clash(opts.name, config.targets)
        if clash is not None:
            raise clash
        config.targets[opts.name] = Target(name=opts.name, url=url)
    deps.io.success(
        f"Added target {opts.name}. Set up its authentication with: "
        + command("configure", opts.name)
    )


def secret_states(target: Target, deps: Deps) -> dict[str, str]:
    """Each secret as `stored`, `missing` or `env`, never its value.

    The environment wins over the keyring at run time, so a set variable is
    reported as `env` whatever the keyring holds.
    """
    from astra_auth.storage.secretstore import entry, locate

    states = {}
    for kind in target.secret_kinds:
        states[kind], _ = locate(target.name, kind, target.secrets_mode, deps.environ,
                                 deps.secrets)
    for kind in target.optional_secret_kinds:
        # Used where there is one (aws_sigv4's session token): shown when there is.
        state, _ = locate(target.name, kind, target.secrets_mode, deps.environ, deps.secrets)
        if state != "missing":
            states[kind] = state
    if target.oauth2 is not None and target.oauth2.needs_login:
        # `login`'s refresh token lives in the keyring only (no variable for it).
        states["refresh_token"] = ("stored" if deps.secrets.get(entry(target.name,
                                                                      "refresh_token"))
                                   else "missing")
    return states


def show_target(opts: ShowOptions, deps: Deps) -> None:
    import json
    from dataclasses import asdict

    from astra_auth.storage.lookup import lookup
    from astra_auth.storage.secretstore import env_names, env_source
    from astra_auth.text.shellcmd import command

    config = deps.config.load()
    target = lookup(config, opts.name, deps)
    o = target.oauth2
    states = secret_states(target, deps)
    token_state = describe(read_state(deps.config_path).get(target.name), deps.clock())
    data: dict[str, Any] = {
        "name": target.name,
        "url": target.url,
        "auth_type": target.auth_type,
        "oauth2": None,
        "secrets": states,
        "cached_token": token_state,
        "private_host_ok": target.private_host_ok,
    }
    for key in ("basic", "bearer", "api_key", "jwt", "aws_sigv4", "http_signature", "digest"):
        settings = getattr(target, key)
        if settings is not None:
            data[key] = asdict(settings)
    public = public_key(target, deps)
    if public is not None:
        data["public_key"] = public
    # Every secret's variables, whether set or not: what a CI job must set.
    data["secret_variables"] = {
        kind: list(env_names(target.name, kind)) for kind in states if kind != "refresh_token"}
    supplied = {kind: env_source(target.name, kind, deps.environ) or ""
                for kind, state in states.items() if state == "env"}
    if o:
        data["oauth2"] = {
            "grant_type": o.grant_type,
            "token_url": o.token_url,
            "client_id": o.client_id,
            "client_auth": o.client_auth,
            "scope": o.scope,
            "audience": o.audience,
            "username": o.username,
            "secrets": o.secrets,
            "extra_params": dict(o.extra_params),
            "assertion_alg": o.assertion_alg,
            "assertion_audience": o.assertion_audience,
            "assertion_kid": o.assertion_kid,
            "certificate": o.certificate,
            "certificate_bound": o.certificate_bound,
        }
        if o.needs_login:
            data["oauth2"]["authorization_url"] = o.authorization_url
            data["oauth2"]["device_authorization_url"] = o.device_authorization_url
        data["oauth2"]["dpop"] = o.dpop
        data["oauth2"]["dpop_alg"] = o.dpop_algorithm if o.dpop else None
    data["ca_bundle"] = target.ca_bundle
    data["timeout"] = target.timeout
    if opts.json:
        deps.io.write_out(json.dumps(data, indent=2) + "\n")
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("Target", Text(target.name))
    table.add_row("API URL", Text(target.url or "—"))
    if target.auth_type is None:
        table.add_row("Authentication", "not configured")
        _print_rows(table, deps)
        deps.io.info("Set it up with: " + command("configure", target.name))
        return
    table.add_row("Authentication", AUTH_LABELS[target.auth_type])
    if o is None:
        for label, value in _type_rows(target):
            table.add_row(label, Text(value))
        for kind, state in states.items():
            table.add_row(validate.secret_label(kind),
                          _state_text(state, supplied.get(kind, "")))
        if target.aws_sigv4 is not None and "session_token" not in states:
            table.add_row("Session token", "none (long-term keys have none)")
        table.add_row("Secrets kept in",
                      "OS keyring" if target.secrets_mode == "keyring" else "environment")
        _print_rows(table, deps)
        _print_public_key(data.get("public_key"), deps, "Public key (register it with the API "
                          f"as key id {target.http_signature.key_id})"
                          if target.http_signature is not None else "Public key")
        return
    table.add_row("Grant type", f"{GRANT_LABELS[o.grant_type]} ({o.grant_type})")
    table.add_row("Access Token URL", Text(o.token_url))
    table.add_row("Client ID", Text(o.client_id))
    table.add_row("Client authentication", o.client_auth)
    for kind in ("client_secret", "private_key", "dpop_key"):
        if kind in states:
            table.add_row(validate.secret_label(kind), _state_text(
                states[kind], supplied.get(kind, "")))
    if o.certificate:
        table.add_row("Certificate", Text(o.certificate + (
            " (presented to the API too)" if o.certificate_bound else "")))
    if o.client_auth == "private_key_jwt":
        named = (f"key named by kid {o.assertion_kid}" if o.assertion_kid else
                 "key named by the certificate's x5t#S256" if o.certificate else
                 "key named by its RFC 7638 thumbprint")
        table.add_row("Assertion", Text(f"{o.assertion_alg or 'provider default'}, aud "
                                        f"{o.assertion_audience or 'default'}, {named}"))
    if o.grant_type == "password":
        table.add_row("Username", Text(o.username or ""))
        table.add_row("Password", _state_text(states["password"],
                                              supplied.get("password", "")))
    if o.needs_login:
        if o.authorization_url:
            table.add_row("Authorization URL", Text(o.authorization_url))
        if o.device_authorization_url:
            table.add_row("Device Authorization URL", Text(o.device_authorization_url))
        table.add_row("Refresh token", "stored (from astra-auth login)"
                      if states["refresh_token"] == "stored"
                      else "missing: log in with " + command("login", target.name))
    table.add_row("Scope", Text(o.scope or "—"))
    table.add_row("Audience", Text(o.audience or "—"))
    if o.extra_params:
        table.add_row("Extra parameters", Text(" ".join(f"{k}={v}" for k, v in
                                                        o.extra_params.items())))
    if target.ca_bundle or target.timeout is not None:
        table.add_row("Network", Text(f"CA bundle {target.ca_bundle or '—'}, timeout "
                                      f"{target.timeout if target.timeout is not None else 10:g} s"))
    table.add_row("Secrets kept in", "OS keyring" if o.secrets == "keyring" else "environment")
    if target.private_host_ok:
        table.add_row("Private address", Text(
            f"{target.private_host_ok} resolves to a private or loopback address "
            "(acknowledged at configure): a scanner outside that network cannot reach it"))
    if o.dpop:
        table.add_row("DPoP", f"yes ({o.dpop_algorithm}): every token and API request carries "
                      "a proof")
        public = data.get("public_key")
        if public is not None:
            table.add_row("DPoP key thumbprint", Text(f"{public['thumbprint']} (the jkt of "
                                                      "bound tokens' cnf)"))
    table.add_row("Cached token", token_state)
    _print_rows(table, deps)
    if o.dpop:
        _print_public_key(data.get("public_key"), deps, "DPoP public key (nothing to register: "
                          "the provider binds each token to the key that proves it)")


def public_key(target: Target, deps: Deps) -> dict[str, Any] | None:
    """The public half of the target's key, where there is one to show: the
    http_signature key to register with the API (PEM and JWK), the DPoP key
    (JWK and its RFC 7638 thumbprint).  None without such a key, for an
    hmac-sha256 secret (shared: never shown), or when the key is missing or
    unusable (`test-token` says why)."""
    from astra_auth.core.errors import AstraError
    from astra_auth.signing.message import SigningError
    from astra_auth.storage.secretstore import locate

    kind = ("signing_key" if target.http_signature is not None
            else "dpop_key" if target.oauth2 is not None and target.oauth2.dpop else None)
    if kind is None:
        return None
    try:
        _, secret = locate(target.name, kind, target.secrets_mode, deps.environ, deps.secrets)
    except AstraError:
        return None
    if secret is None:
        return None
    try:
        if target.http_signature is not None:
            from astra_auth.signing.http_signature import public_jwk, public_key_pem

            h = target.http_signature
            pem = public_key_pem(h.algorithm, secret)
            if pem is None:
                return None
            return {"pem": pem, "jwk": public_jwk(h.algorithm, secret, h.key_id)}
        from astra_auth.signing.dpop import DpopKey

        assert target.oauth2 is not None
        key = DpopKey(secret, target.oauth2.dpop_algorithm)
        return {"jwk": key.jwk, "thumbprint": key.thumbprint}
    except SigningError:
        return None


def _print_public_key(public: dict[str, Any] | None, deps: Deps, title: str) -> None:
    if public is None:
        return
    import json

    from rich.text import Text

    deps.io.out.print(Text(f"\n{title}:", style="bold"))
    if public.get("pem"):
        deps.io.out.print(Text(public["pem"].rstrip("\n")), soft_wrap=True)
    deps.io.out.print(Text("JWK: " + json.dumps(public["jwk"], separators=(",", ":"))),
                      soft_wrap=True)


def _print_rows(table: Any, deps: Deps) -> None:
    """The table's lines without the spaces that pad each row to the table's
    width (a copied line, or a diff of two outputs, carries none)."""
    from rich.segment import Segment, Segments

    console = deps.io.out
    for line in console.render_lines(table, pad=False):
        while line and not line[-1].text.strip():
            line.pop()
        if line:
            last = line[-1]
            line[-1] = Segment(last.text.rstrip(), last.style, last.control)
        console.print(Segments([*line, Segment.line()]))


def _type_rows(target: Target) -> list[tuple[str, str]]:
    """The settings of the types without a token endpoint, as rows."""
    import json

    if target.basic is not None:
        return [("Username", target.basic.username)]
    if target.api_key is not None:
        return [("Key name", target.api_key.name), ("Key location", target.api_key.location)]
    if target.digest is not None:
        return [("Username", target.digest.username)]
    if target.aws_sigv4 is not None:
        a = target.aws_sigv4
        return [("Access key ID", a.access_key_id), ("Region", a.region),
                ("Service", a.service)]
    if target.http_signature is not None:
        h = target.http_signature
        return [("Algorithm", h.algorithm), ("Key ID", h.key_id),
                ("Components", " ".join(h.components)), ("Label", h.label),
                ("Lifetime", f"{h.lifetime} seconds")]
    if target.jwt is not None:
        j = target.jwt
        return [("Algorithm", j.algorithm),
                ("Claims", json.dumps(j.claims, ensure_ascii=False)),
                ("Lifetime", f"{j.lifetime} seconds"),
                ("Header", f"{j.header_name}: {j.prefix + ' ' if j.prefix else ''}<signed JWT>")]
    return []


def _state_text(state: str, env_name: str) -> str:
    return {
        "stored": "stored",
        "env": f"env ({env_name})",
        "missing": "[red]missing[/red]",
    }[state]


def remove_target(opts: RemoveOptions, deps: Deps) -> None:
    from astra_auth.storage.lookup import lookup
    from astra_auth.storage.secretstore import KINDS, entry, remove_entries
    from astra_auth.storage.token_state import write_state

    config = deps.config.load()
    # Removing a name that does not exist: creating it is no fix.
    target = lookup(config, opts.name, deps, offer_create=False)
    if not opts.yes:
        if not deps.io.can_prompt():
            raise UsageError(
                f"refusing to remove {opts.name!r} without confirmation "
                "(not running interactively); pass --yes"
            )
        if not deps.prompter.confirm(
            f"Remove target {opts.name} and its secrets from the keyring?", default=False
        ):
            deps.io.info("Nothing was removed.")
            return
    keys = [entry(opts.name, kind) for kind in KINDS]
    uses_keyring = target.auth_type is not None and target.secrets_mode == "keyring"
    # Secrets go first: if the keyring fails, the target stays, so the user
    # can retry and no secret is orphaned without a target to name it.
    remove_entries(deps.secrets, keys, strict=uses_keyring)
    with deps.config.edit() as fresh:
        fresh.targets.pop(opts.name, None)
    write_state(deps.config_path, opts.name, None)
    deps.io.success(f"Removed target {opts.name}.")
