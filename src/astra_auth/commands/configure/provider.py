"""What the provider says about itself, and where the token URL points.

Every discovery call of `configure` (`deps.discover`, `deps.metadata_for`)
is in this module, so a change to discovery's interface changes one file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from astra_auth.commands.configure.answers import Session

if TYPE_CHECKING:
    from astra_auth.deps import Deps


def from_issuer(s: Session, issuer: str) -> str:
    """The token URL named by the issuer's discovery document (`--issuer`);
    failures are errors with their own exit codes."""
    s.metadata = s.deps.discover(issuer, _ca_bundle(s), _deadline(s))
    token_url: str = s.metadata.token_endpoint
    s.deps.io.info(f"Access Token URL from {s.metadata.source}: {token_url}")
    return token_url


def try_issuer(issuer: str, deps: Deps) -> Any:
    """The issuer's metadata, or None after saying why there is none (a typed
    issuer in the walk-through, which may be asked again)."""
    from astra_auth.oauth.discovery import DiscoveryError

    try:
        return deps.discover(issuer)
    except DiscoveryError as exc:
        deps.io.warn(exc.message)
        return None


def learn(s: Session, token_url: str, grant: str, *, changed: bool) -> None:
    """Look the token URL's provider up when nothing is known yet and the URL
    is new or given again; warn when its metadata does not list the grant."""
    if s.metadata is None and changed:
        s.metadata = _metadata(token_url, s.deps, _ca_bundle(s))
    warning = s.metadata.grant_warning(grant) if s.metadata is not None else None
    if warning:
        s.deps.io.warn(warning)


def suggested_client_auth(s: Session) -> str | None:
    """The client authentication the provider's metadata prefers, if any."""
    if s.metadata is None:
        return None
    method: str | None = s.metadata.client_auth()
    return method


def offered_client_auth(s: Session) -> list[str]:
    """The client-authentication methods to offer: those the provider's metadata
    lists (token_endpoint_auth_methods_supported), else every one."""
    from astra_auth.core import validate
    listed = s.metadata.client_auth_methods() if s.metadata is not None else []
    return listed or list(validate.CLIENT_AUTH_METHODS)


def use_mtls_alias(s: Session) -> None:
    """tls_client_auth: the provider's mtls_endpoint_aliases token endpoint
    (RFC 8705 §5), when it publishes one and no token URL was typed as a flag."""
    o = s.answers.oauth2
    if o.client_auth != "tls_client_auth" and not o.certificate_bound:
        return
    alias = getattr(s.metadata, "mtls_token_endpoint", None) if s.metadata else None
    if alias and alias != o.token_url and s.opts.token_url is None:
        s.deps.io.info(f"Token URL for mutual TLS, from the provider's mtls_endpoint_aliases: "
                       f"{alias}")
        o.token_url = alias


def client_auth_from_metadata(s: Session) -> str | None:
    """As `suggested_client_auth`, saying so (CI, where nothing is asked)."""
    method = suggested_client_auth(s)
    if method:
        s.deps.io.info(f"Client authentication {method!r}, from the provider's "
                       "token_endpoint_auth_methods_supported.")
    return method


def warn_about_url(s: Session, url: str) -> None:
    """A token URL that a scanner elsewhere may not reach (a private address):
    warned once, and the acknowledgement kept in the target (`private_host_ok`),
    so that test-token's panels do not repeat it on every run."""
    from urllib.parse import urlsplit

    deps = s.deps
    warning = deps.address_warning(url)
    host = urlsplit(url).hostname
    if not warning or " resolves to " not in warning or not host:
        s.answers.private_host_ok = None
        if warning:
            deps.io.warn(warning)
        return
    if s.answers.private_host_ok == host:
        return  # acknowledged before, for this very host
    s.answers.private_host_ok = host
    from astra_auth.text.shellcmd import command

    deps.io.warn(f"{warning}. This warning is given once: test-token does not repeat it, "
                 f"and {command('targets', 'show', s.answers.name)} keeps a note of it")


def _ca_bundle(s: Session) -> Path | None:
    """The target's CA bundle (`--ca-bundle` or saved) for discovery, too;
    refused when another user can change it."""
    if not s.answers.ca_bundle:
        return None
    from astra_auth.net.settings import check_ca_bundle

    bundle = Path(s.answers.ca_bundle).expanduser()
    check_ca_bundle(bundle)
    return bundle


def _deadline(s: Session) -> Any:
    """`--timeout` (or the target's) bounds discovery as every other exchange."""
    if s.answers.timeout is None:
        return None
    from astra_auth.net.transport import Deadline

    return Deadline(s.answers.timeout)


def _metadata(token_url: str, deps: Deps, ca_bundle: Path | None = None) -> Any:
    """The provider's metadata when it names this very token endpoint, else None."""
    metadata = deps.metadata_for(token_url, ca_bundle)
    if metadata is None:
        return None
    if metadata.token_endpoint.rstrip("/") != token_url.rstrip("/"):
        deps.io.warn(f"the provider's discovery document ({metadata.source}) names another "
                     f"token endpoint, {metadata.token_endpoint}; check the Access Token URL")
        return None
    return metadata
