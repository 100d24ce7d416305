"""Hints for identity providers recognisable from their URL or their error body.

Each names the setting as that provider's documentation and console name it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from astra_auth.core.failure import Category, Failure
from astra_auth.diagnosis.hints import Context


def provider_of(token_url: str, failure: Failure | None = None) -> str | None:
    parts = urlsplit(token_url)
    host = (parts.hostname or "").lower()
    text = f"{failure.oauth_error_description or ''} {failure.message}" if failure else ""
    if host.startswith("login.microsoftonline.") or host.endswith(".ciamlogin.com") \
            or "AADSTS" in text:
        return "entra"
    if host.endswith((".okta.com", ".oktapreview.com", ".okta-emea.com")):
        return "okta"
    if host.endswith(".auth0.com") or "audience parameter" in text:
        return "auth0"
    if "/realms/" in parts.path and "/protocol/openid-connect/" in parts.path:
        return "keycloak"
    return None


def provider_hints(failure: Failure, ctx: Context) -> list[str]:
    provider = provider_of(ctx.token_url, failure)
    if provider is None:
        return []
    return _RULES[provider](failure, ctx)


def _description(failure: Failure) -> str:
    return failure.oauth_error_description or failure.message or ""


def _entra(f: Failure, ctx: Context) -> list[str]:
    text = _description(f)
    codes = set(re.findall(r"AADSTS(\d+)", text))
    hints = []
    if "7000215" in codes:
        hints.append(
            "Microsoft Entra ID (AADSTS7000215): the client secret is wrong. Often the "
            "secret's ID was pasted instead of its Value: in the app registration's "
            "Certificates & secrets, copy the Value column (shown only when the secret is "
            "created), then store it with --client-secret-stdin.")
    if "7000222" in codes:
        hints.append(
            "Microsoft Entra ID (AADSTS7000222): the client secret has expired. Create a new "
            "one under Certificates & secrets in the app registration and store its Value.")
    if "700016" in codes:
        hints.append(
            "Microsoft Entra ID (AADSTS700016): no application with this Client ID in the "
            "tenant. Check the Application (client) ID on the app registration's Overview, "
            "and that the tenant ID in the token URL is the app's Directory (tenant) ID.")
    if ctx.grant_type == "client_credentials" and not (ctx.scope or "").endswith("/.default"):
        hints.append(
            "Microsoft Entra ID: for Client Credentials the scope must be the resource's "
            "Application ID URI followed by /.default, e.g. --scope api://<app-id>/.default "
            "(or https://graph.microsoft.com/.default).")
    if not hints:
        hints.append("Microsoft Entra ID: look the AADSTS code up at "
                     "https://login.microsoftonline.com/error?code=<number>.")
    return hints


def _okta(f: Failure, ctx: Context) -> list[str]:
    path = urlsplit(ctx.token_url).path
    hints = []
    if not re.fullmatch(r"/oauth2(/[^/]+)?/v1/token", path):
        hints.append(
            "Okta: token URLs look like https://{yourOktaDomain}/oauth2/default/v1/token "
            "for a custom authorization server (…/oauth2/{authorizationServerId}/v1/token), "
            "or …/oauth2/v1/token for the org authorization server.")
    elif path == "/oauth2/v1/token" and ctx.grant_type == "client_credentials":
        hints.append(
            "Okta: the org authorization server (/oauth2/v1/token) issues Client Credentials "
            "tokens only for Okta's own API scopes; for your API use a custom authorization "
            "server, e.g. /oauth2/default/v1/token.")
    text = _description(f).lower()
    if f.category in (Category.INVALID_CLIENT, Category.INVALID_REQUEST) or "multiple client credentials" in text:
        hints.append(
            "Okta: the app's Client authentication setting allows one method (Client secret "
            "basic or Client secret post) and a request must carry exactly one; match it with "
            f"--client-auth {'post' if ctx.client_auth == 'basic' else 'basic'} if it differs.")
    if f.category in (Category.UNAUTHORIZED_CLIENT, Category.UNSUPPORTED_GRANT_TYPE):
        hints.append("Okta: enable the grant under the app's General Settings → Grant type "
                     "(Client Credentials, or Resource Owner Password).")
    return hints


def _auth0(f: Failure, ctx: Context) -> list[str]:
    text = _description(f).lower()
    hints = []
    if "audience" in text or not ctx.audience:
        hints.append(
            "Auth0: access tokens for an API need an audience, the API's Identifier under "
            "Applications → APIs: --audience https://api.example.com (or set a Default "
            "Audience in the tenant settings).")
    if "not been granted" in text or f.category in (Category.UNAUTHORIZED_CLIENT, Category.OAUTH_ERROR):
        hints.append(
            "Auth0: the application must be authorised for the API: Applications → APIs → "
            "(your API) → Machine To Machine Applications → switch the application on and "
            "grant the scopes it needs.")
    if ctx.grant_type == "password":
        hints.append("Auth0: the password grant needs the Password grant type enabled "
                     "(Application → Advanced Settings → Grant Types) and a Default Directory "
                     "(connection) set in the tenant settings.")
    return hints


def _keycloak(f: Failure, ctx: Context) -> list[str]:
    text = _description(f).lower()
    hints = []
    if ctx.grant_type == "client_credentials" and (
            "service account" in text or f.category == Category.UNAUTHORIZED_CLIENT):
        hints.append("Keycloak: enable Service accounts roles (Service Accounts Enabled) in "
                     "the client's Settings → Capability config.")
    if ctx.grant_type == "password" and ("direct access" in text
                                         or f.category == Category.UNAUTHORIZED_CLIENT):
        hints.append("Keycloak: enable Direct access grants in the client's Settings → "
                     "Capability config.")
    if "invalid client" in text or f.category == Category.INVALID_CLIENT:
        hints.append("Keycloak: the client needs Client authentication switched on "
                     "(a confidential client); copy the secret from its Credentials tab.")
    if not hints:
        hints.append("Keycloak: the token URL is "
                     "https://{host}/realms/{realm}/protocol/openid-connect/token; check the "
                     "realm name and the client's Capability config.")
    return hints


_RULES = {"entra": _entra, "okta": _okta, "auth0": _auth0, "keycloak": _keycloak}
