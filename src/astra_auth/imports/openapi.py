"""The security schemes of an OpenAPI 3.0/3.1/3.2 or Swagger 2.0 document,
as astra-auth settings.

| document | astra-auth |
| --- | --- |
| `servers[0].url`, `{variables}` by their `default` (Swagger 2.0: `schemes`, `host`, `basePath`) | `url` |
| `oauth2`, flow `clientCredentials` (2.0: `application`) | `oauth2`, `grant_type = "client_credentials"` |
| `oauth2`, flow `password` | `oauth2`, `grant_type = "password"` |
| `oauth2`, flow `authorizationCode` (2.0: `accessCode`) | `oauth2`, `grant_type = "authorization_code"` |
| `oauth2`, flow `deviceAuthorization` (3.2) | `oauth2`, `grant_type = "device_code"` |
| `tokenUrl`, `authorizationUrl`, `deviceAuthorizationUrl` | `token_url`, `authorization_url`, `device_authorization_url` |
| the scopes the `security` requirements name for the scheme (global and per operation) | `scope` |
| `oauth2MetadataUrl` (3.2), `openIdConnect`'s `openIdConnectUrl` | the issuer, for discovery |
| `http`, scheme `basic` (2.0: type `basic`), `bearer`, `digest` | `basic`, `bearer`, `digest` |
| `apiKey`, `name`, `in` (`header`, `query`, `cookie`) | `api_key`, `name`, `location` |
| `mutualTLS` (3.1), alone or required together with an OAuth 2.0 scheme | `oauth2`, `client_auth = "tls_client_auth"`, `certificate_bound = true` |

The implicit flow, other http schemes and unknown types come back as schemes
that say why they cannot be used (`Scheme.unsupported`).  Relative URLs are
resolved against the server URL (OpenAPI 3.1 §4.5.2), and it against the
document's own URL when it was fetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from astra_auth.core import validate
from astra_auth.imports.document import (
    FETCH_TIME,
    JsonPath,
    Loaded,
    load,
    resolve,
    shape_error,
    where,
)
from astra_auth.imports.model import IMPLICIT, DocumentError, Imported, Scheme, Setting
from astra_auth.text.safetext import clean

if TYPE_CHECKING:
    import httpx

# The operations of a path item (OpenAPI 3.2 adds `query`; Swagger 2.0 has no `trace`).
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")
# OpenAPI 3.x flow → grant type, in the order a scanner is best served by.
FLOWS = {"clientCredentials": "client_credentials", "authorizationCode": "authorization_code",
         "deviceAuthorization": "device_code", "password": "password"}
# Swagger 2.0's `flow` → grant type.
SWAGGER_FLOWS = {"application": "client_credentials", "accessCode": "authorization_code",
                 "password": "password"}
# The URLs each grant reads: (the document's field, the setting).
FLOW_URLS = {
    "client_credentials": (("tokenUrl", "token_url"),),
    "password": (("tokenUrl", "token_url"),),
    "authorization_code": (("authorizationUrl", "authorization_url"), ("tokenUrl", "token_url")),
    "device_code": (("deviceAuthorizationUrl", "device_authorization_url"),
                    ("tokenUrl", "token_url")),
}
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
SUPPORTED = ("astra-auth supports OAuth 2.0 (clientCredentials, authorizationCode, "
             "deviceAuthorization and password flows), OpenID Connect, HTTP basic, bearer and "
             "digest, API keys, and mutual TLS with OAuth 2.0")
SHOWN_SCOPE = 60


def read_openapi(source: str, make_client: Callable[[], httpx.Client] | None = None, *,
                 seconds: float = FETCH_TIME) -> Imported:
    """The document at `source` (a file, or an https URL fetched with a client
    from `make_client` within `seconds`), read; DocumentError when it cannot be."""
    return from_document(load(source, make_client, seconds=seconds))


def from_document(doc: Loaded) -> Imported:
    """The schemes of an already parsed document (no I/O)."""
    if not isinstance(doc.data, dict):
        raise shape_error(doc.name, (), "an object", doc.data)
    return _Reader(doc).read()


class _Reader:
    def __init__(self, doc: Loaded) -> None:
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.format, self.swagger = _version(doc)
        self.notes: list[str] = []
        self.url: str | None = None
        self.requirements: list[dict[str, list[str]]] = []
        self.types: dict[str, str] = {}
        self.with_mtls: set[str] = set()

    def read(self) -> Imported:
        self.url = self._swagger_url() if self.swagger else self._server_url()
        self.requirements = self._requirements()
        container_path: JsonPath = (("securityDefinitions",) if self.swagger
                                    else ("components", "securitySchemes"))
        container = self._object(container_path)
        self.types = self._types(container, container_path)
        self.with_mtls = {name for req in self.requirements
                          if any(self.types.get(k) == "mutualTLS" for k in req)
                          for name in req if self.types.get(name) != "mutualTLS"}
        schemes: list[Scheme] = []
        for key, raw in container.items():
            name = str(key)
            try:
                schemes.extend(self._scheme(name, raw, (*container_path, name)))
            except DocumentError as exc:
                schemes.append(Scheme(name=name,
                                      description=f"{_shown(name)} (cannot be used)",
                                      auth_type=None, unsupported=self._unusable(exc)))
        return Imported(source=self.doc.name, format=self.format, url=self.url,
                        schemes=tuple(schemes), notes=tuple(self.notes))

    def _unusable(self, exc: DocumentError) -> str:
        """Why a scheme cannot be used, where in the document: the message without
        the document's name, which every scheme shares."""
        prefix = f"{self.doc.name}: "
        return exc.message[len(prefix):] if exc.message.startswith(prefix) else exc.message

    # --- where the API is ------------------------------------------------------

    def _server_url(self) -> str | None:
        servers = self.data.get("servers")
        if servers is None or servers == []:
            if self.doc.url is None:
                self.notes.append("The document names no server (`servers`): the API's URL "
                                  "is asked for.")
                return None
            return self._checked_url(urljoin(self.doc.url, "/"), ("servers",))
        if not isinstance(servers, list):
            raise shape_error(self.doc.name, ("servers",), "a list", servers)
        first = servers[0]
        path: JsonPath = ("servers", 0)
        if not isinstance(first, dict):
            raise shape_error(self.doc.name, path, "an object", first)
        template = first.get("url")
        if not isinstance(template, str):
            raise shape_error(self.doc.name, (*path, "url"), "text", template)
        variables = first.get("variables", {})
        if not isinstance(variables, dict):
            raise shape_error(self.doc.name, (*path, "variables"), "an object", variables)
        if len(servers) > 1:
            self.notes.append(f"The document names {len(servers)} servers; the first is the "
                              "API's URL.")
        missing: list[str] = []

        def default(match: re.Match[str]) -> str:
            variable = variables.get(match.group(1))
            value = variable.get("default") if isinstance(variable, dict) else None
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
            missing.append(match.group(1))
            return match.group()

        url = re.sub(r"\{([^{}]*)\}", default, template)
        if missing:
            self.notes.append(f"{where((*path, 'url'))} uses the variable {missing[0]!r}, which "
                              "has no default: the API's URL is asked for.")
            return None
        return self._absolute(url, (*path, "url"), f"{where((*path, 'url'))} is relative")

    def _swagger_url(self) -> str | None:
        host = self.data.get("host")
        base_path = self.data.get("basePath", "")
        schemes = self.data.get("schemes")
        if host is not None and not isinstance(host, str):
            raise shape_error(self.doc.name, ("host",), "text", host)
        if not isinstance(base_path, str):
            raise shape_error(self.doc.name, ("basePath",), "text", base_path)
        if schemes is not None and not (isinstance(schemes, list)
                                        and all(isinstance(s, str) for s in schemes)):
            raise shape_error(self.doc.name, ("schemes",), "a list of text", schemes)
        fetched = urlsplit(self.doc.url) if self.doc.url else None
        if schemes:
            scheme = "https" if "https" in schemes else schemes[0]
        elif fetched is not None:
            scheme = fetched.scheme  # Swagger 2.0: the scheme the document came by
        else:
            scheme = "https"
            if host:
                self.notes.append("The document names no scheme (`schemes`): https is assumed.")
        if not host:
            if fetched is None:
                self.notes.append("The document names no host: the API's URL is asked for.")
                return None
            host = fetched.netloc
        return self._checked_url(f"{scheme}://{host}{base_path}", ("host",))

    def _absolute(self, url: str, path: JsonPath, why: str) -> str | None:
        if urlsplit(url).scheme:
            return self._checked_url(url, path)
        if self.doc.url is None:
            self.notes.append(f"{why} ({url!r}) and the document was read from a file: the "
                              "API's URL is asked for.")
            return None
        return self._checked_url(urljoin(self.doc.url, url), path)

    def _checked_url(self, url: str, path: JsonPath) -> str | None:
        try:
            return validate.api_url(url)
        except ValueError as exc:
            self.notes.append(f"{where(path)}: {exc}; the API's URL is asked for.")
            return None

    # --- which scopes the operations require -----------------------------------

    def _requirements(self) -> list[dict[str, list[str]]]:
        """Every security requirement object: the global ones, then each operation's."""
        found = self._requirement_list(("security",))
        paths = self.data.get("paths")
        if paths is None:
            return found
        if not isinstance(paths, dict):
            raise shape_error(self.doc.name, ("paths",), "an object", paths)
        for key, raw in paths.items():
            try:
                item, at = resolve(self.doc, raw, ("paths", str(key)))
            except DocumentError as exc:
                self.notes.append(f"{self._unusable(exc)}: the scopes its operations require "
                                  "are not known.")
                continue
            if not isinstance(item, dict):
                raise shape_error(self.doc.name, at, "an object", item)
            operations = [((*at, m), item[m]) for m in METHODS if m in item]
            extra = item.get("additionalOperations")  # OpenAPI 3.2
            if isinstance(extra, dict):
                operations += [((*at, "additionalOperations", str(m)), op)
                               for m, op in extra.items()]
            for op_path, operation in operations:
                if not isinstance(operation, dict):
                    raise shape_error(self.doc.name, op_path, "an object", operation)
                found += self._requirement_list((*op_path, "security"), operation)
        return found

    def _requirement_list(self, path: JsonPath, parent: dict[str, Any] | None = None
                          ) -> list[dict[str, list[str]]]:
        value = (self.data if parent is None else parent).get("security")
        if value is None:
            return []
        if not isinstance(value, list):
            raise shape_error(self.doc.name, path, "a list of security requirements", value)
        for index, requirement in enumerate(value):
            if not isinstance(requirement, dict):
                raise shape_error(self.doc.name, (*path, index), "an object", requirement)
            for name, scopes in requirement.items():
                if not (isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)):
                    raise shape_error(self.doc.name, (*path, index, str(name)),
                                      "a list of scopes", scopes)
        return [{str(k): v for k, v in requirement.items()} for requirement in value]

    def _scopes(self, name: str) -> tuple[list[str], bool]:
        """The scopes the requirements name for `name`, in the order they first
        appear, and whether any requirement names it at all."""
        scopes: dict[str, None] = {}
        named = False
        for requirement in self.requirements:
            if name in requirement:
                named = True
                scopes.update(dict.fromkeys(requirement[name]))
        return list(scopes), named

    # --- the schemes -----------------------------------------------------------

    def _object(self, path: JsonPath) -> dict[Any, Any]:
        node: Any = self.data
        for depth, key in enumerate(path):
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                return {}
            if not isinstance(node, dict):
                raise shape_error(self.doc.name, path[:depth + 1], "an object", node)
        return node

    def _types(self, container: dict[Any, Any], path: JsonPath) -> dict[str, str]:
        types: dict[str, str] = {}
        for key, raw in container.items():
            try:
                node, _ = resolve(self.doc, raw, (*path, str(key)))
            except DocumentError:
                continue
            if isinstance(node, dict) and isinstance(node.get("type"), str):
                types[str(key)] = node["type"]
        return types

    def _scheme(self, name: str, raw: Any, path: JsonPath) -> list[Scheme]:
        node, at = resolve(self.doc, raw, path)
        if not isinstance(node, dict):
            raise shape_error(self.doc.name, at, "a security scheme object", node)
        kind = node.get("type")
        if not isinstance(kind, str):
            raise shape_error(self.doc.name, (*at, "type"), "text", kind)
        suffix = " (deprecated)" if node.get("deprecated") is True else ""
        if kind == "oauth2":
            return self._oauth2(name, node, at, suffix)
        if kind == "apiKey":
            return [self._api_key(name, node, at, suffix)]
        if kind == "http" or (kind == "basic" and self.swagger):
            return [self._http(name, node, at, suffix)]
        if kind == "openIdConnect" and not self.swagger:
            return [self._openid(name, node, at, suffix)]
        if kind == "mutualTLS" and not self.swagger:
            return [Scheme(
                name=name, description="Mutual TLS: a client certificate (RFC 8705)" + suffix,
                auth_type="oauth2",
                settings={"client_auth": "tls_client_auth", "certificate_bound": True},
                notes=("astra-auth presents a client certificate as an OAuth 2.0 client "
                       "(tls_client_auth) and to the API (certificate-bound tokens); the "
                       "document names no token URL for it, so it is asked for.",))]
        return [Scheme(name=name,
                       description=f"{_shown(name)}: type {kind[:40]!r} (not supported)",
                       auth_type=None,
                       unsupported=f"{where((*at, 'type'))}: the security scheme type "
                                   f"{kind[:40]!r} is not supported; {SUPPORTED}")]

    def _oauth2(self, name: str, node: dict[str, Any], at: JsonPath,
                suffix: str) -> list[Scheme]:
        issuer = None
        metadata = node.get("oauth2MetadataUrl")  # OpenAPI 3.2: RFC 8414 metadata
        if isinstance(metadata, str) and not self.swagger:
            issuer = self._issuer(self._url(metadata, (*at, "oauth2MetadataUrl")))
        if self.swagger:
            flow = node.get("flow")
            if not isinstance(flow, str):
                raise shape_error(self.doc.name, (*at, "flow"), "text", flow)
            return [self._flow(name, flow, SWAGGER_FLOWS.get(flow), node, at, suffix, issuer)]
        flows = node.get("flows")
        if not isinstance(flows, dict) or not flows:
            raise shape_error(self.doc.name, (*at, "flows"), "an object with at least one flow",
                              flows)
        ordered = sorted(flows.items(), key=lambda kv: list(FLOWS).index(kv[0])
                         if kv[0] in FLOWS else len(FLOWS))
        schemes = []
        for flow, flow_node in ordered:
            flow_path = (*at, "flows", str(flow))
            try:
                if not isinstance(flow_node, dict):
                    raise shape_error(self.doc.name, flow_path, "an object", flow_node)
                schemes.append(self._flow(name, str(flow), FLOWS.get(str(flow)), flow_node,
                                          flow_path, suffix, issuer))
            except DocumentError as exc:
                schemes.append(Scheme(name=name, flow=str(flow), auth_type=None,
                                      description=f"OAuth 2.0 {flow} flow (cannot be used)",
                                      unsupported=self._unusable(exc)))
        return schemes

    def _flow(self, name: str, flow: str, grant: str | None, node: dict[str, Any],
              at: JsonPath, suffix: str, issuer: str | None) -> Scheme:
        if grant is None:
            shown = flow[:40]
            unsupported = IMPLICIT if flow == "implicit" else (
                f"{where(at)}: {shown!r} is not an OAuth 2.0 flow astra-auth knows; {SUPPORTED}")
            return Scheme(name=name, flow=flow, auth_type=None, unsupported=unsupported,
                          description=f"OAuth 2.0 {shown} flow (not supported)" + suffix)
        settings: dict[str, Setting] = {"grant_type": grant}
        notes: list[str] = []
        for field, setting in FLOW_URLS[grant]:
            value = node.get(field)
            if value is None:
                raise DocumentError(f"{self.doc.name}: {where((*at, field))}: missing; the "
                                    f"{validate.GRANT_LABELS[grant]} grant needs it")
            settings[setting] = self._url(value, (*at, field))
        refresh = node.get("refreshUrl")
        if isinstance(refresh, str) and refresh and refresh != node.get("tokenUrl"):
            notes.append(f"The document names a separate refresh URL ({_shown(refresh, 200)}); "
                         "astra-auth renews tokens at the token URL (RFC 6749 §6).")
        scope = self._scope(name, node, at, notes)
        if scope:
            settings["scope"] = scope
        if name in self.with_mtls:
            settings["client_auth"] = "tls_client_auth"
            settings["certificate_bound"] = True
            notes.append("The API requires mutual TLS together with this scheme: the client "
                         "certificate authenticates the client (tls_client_auth) and is "
                         "presented to the API (certificate-bound tokens, RFC 8705).")
        label = validate.GRANT_LABELS[grant]
        shown = scope if len(scope) <= SHOWN_SCOPE else scope[:SHOWN_SCOPE] + "…"
        description = (f"OAuth 2.0 {label}: token URL {settings['token_url']}"
                       + (f", scope {shown}" if scope else "") + suffix)
        return Scheme(name=name, flow=flow, description=description, auth_type="oauth2",
                      settings=settings, issuer=issuer, notes=tuple(notes))

    def _scope(self, name: str, node: dict[str, Any], at: JsonPath, notes: list[str]) -> str:
        declared = node.get("scopes")
        if declared is not None and not isinstance(declared, dict):
            raise shape_error(self.doc.name, (*at, "scopes"), "an object", declared)
        wanted, named = self._scopes(name)
        good = [s for s in wanted if SCOPE_TOKEN.fullmatch(s)]
        if len(good) < len(wanted):
            notes.append("Scopes with spaces, quotes or backslashes (RFC 6749 §3.3) were "
                         "left out.")
        if not good and declared:
            notes.append("No security requirement names a scope of this scheme: the token "
                         "is requested without one (the provider's default)."
                         if named else "No operation requires this scheme.")
        return " ".join(good)

    def _url(self, value: Any, path: JsonPath) -> str:
        if not isinstance(value, str):
            raise shape_error(self.doc.name, path, "a URL", value)
        url = value.strip()
        if not urlsplit(url).scheme:
            base = self.url or self.doc.url
            if base is None:
                raise DocumentError(f"{self.doc.name}: {where(path)}: {url[:200]!r} is a "
                                    "relative URL, and the document names no absolute "
                                    "server URL to resolve it against")
            url = urljoin(base, url)
        try:
            return validate.token_url(url)
        except ValueError as exc:
            raise DocumentError(f"{self.doc.name}: {where(path)}: {exc}") from None

    def _issuer(self, url: str) -> str | None:
        """The issuer whose well-known metadata `url` is (OpenID Connect
        Discovery §4, RFC 8414 §3), or None when it is not a well-known URL."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path.rstrip("/")
        for well_known in ("/.well-known/openid-configuration",
                           "/.well-known/oauth-authorization-server"):
            if path.endswith(well_known):
                return origin + path[:-len(well_known)]
            if path.startswith(well_known + "/"):
                return origin + path[len(well_known):]
        return None

    def _openid(self, name: str, node: dict[str, Any], at: JsonPath, suffix: str) -> Scheme:
        url = self._url(node.get("openIdConnectUrl"), (*at, "openIdConnectUrl"))
        issuer = self._issuer(url)
        notes = ["The grant type and the token URL come from the provider's discovery "
                 "document."]
        if issuer is None:
            notes = [f"{where((*at, 'openIdConnectUrl'))} is not a provider's well-known "
                     "URL (…/.well-known/openid-configuration): the issuer or the token URL "
                     "is asked for."]
        settings: dict[str, Setting] = {}
        scope = self._scope(name, {}, at, notes)
        if scope:
            settings["scope"] = scope
        if name in self.with_mtls:
            settings["client_auth"] = "tls_client_auth"
            settings["certificate_bound"] = True
        return Scheme(name=name, description=f"OpenID Connect: discovery at {url}" + suffix,
                      auth_type="oauth2", settings=settings, issuer=issuer, notes=tuple(notes))

    def _api_key(self, name: str, node: dict[str, Any], at: JsonPath, suffix: str) -> Scheme:
        key_name, location = node.get("name"), node.get("in")
        if not isinstance(key_name, str):
            raise shape_error(self.doc.name, (*at, "name"), "text", key_name)
        if location not in validate.KEY_LOCATIONS:
            raise DocumentError(f"{self.doc.name}: {where((*at, 'in'))}: expected header, "
                                f"query or cookie, found {str(location)[:40]!r}")
        try:
            validate.key_name(key_name)
        except ValueError as exc:
            raise DocumentError(f"{self.doc.name}: {where((*at, 'name'))}: {exc}") from None
        return Scheme(name=name, description=f"API key in the {location} {key_name}" + suffix,
                      auth_type="api_key", settings={"name": key_name, "location": location})

    def _http(self, name: str, node: dict[str, Any], at: JsonPath, suffix: str) -> Scheme:
        scheme = "basic" if node.get("type") == "basic" else node.get("scheme")
        if not isinstance(scheme, str):
            raise shape_error(self.doc.name, (*at, "scheme"), "text", scheme)
        scheme = scheme.lower()  # RFC 9110 §11.1: case-insensitive
        if scheme == "basic":
            return Scheme(name=name, description="HTTP Basic: a username and password" + suffix,
                          auth_type="basic")
        if scheme == "bearer":
            bearer_format = node.get("bearerFormat")
            shown = f" ({_shown(bearer_format)})" if isinstance(bearer_format, str) else ""
            return Scheme(name=name, description=f"HTTP Bearer token{shown}, issued elsewhere"
                          + suffix, auth_type="bearer")
        if scheme == "digest":
            return Scheme(name=name, description="HTTP Digest: a username and password "
                          "(RFC 7616)" + suffix, auth_type="digest")
        return Scheme(name=name, auth_type=None,
                      description=f"HTTP {scheme[:40]} authentication (not supported)",
                      unsupported=f"{where((*at, 'scheme'))}: HTTP {scheme[:40]!r} "
                                  f"authentication is not supported; {SUPPORTED}")


def _shown(text: str, limit: int = 40) -> str:
    """Text from the document inside a one-line description or note."""
    return clean(text if len(text) <= limit else text[:limit] + "…", one_line=True)


def _version(doc: Loaded) -> tuple[str, bool]:
    """("OpenAPI 3.1.0", False) or ("Swagger 2.0", True); DocumentError for anything else."""
    data = doc.data
    if "openapi" in data:
        version = str(data["openapi"])
        if version.startswith("3."):
            return f"OpenAPI {version[:20]}", False
        raise DocumentError(f"{doc.name}: OpenAPI {version[:20]!r} is not a version astra-auth "
                            "reads (OpenAPI 3.0, 3.1, 3.2 and Swagger 2.0)")
    if "swagger" in data:
        version = str(data["swagger"])
        if version in ("2.0", "2"):
            return "Swagger 2.0", True
        raise DocumentError(f"{doc.name}: Swagger {version[:20]!r} is not a version astra-auth "
                            "reads (OpenAPI 3.0, 3.1, 3.2 and Swagger 2.0)",
                            hints=["Convert it to OpenAPI 3 first (Swagger Editor and "
                                   "swagger2openapi do)."])
    info = data.get("info")
    if isinstance(info, dict) and ("_postman_id" in info or "getpostman.com"
                                   in str(info.get("schema", ""))):
        raise DocumentError(f"{doc.name}: this is a Postman collection, not an OpenAPI "
                            "document", hints=["Import it with --from-postman."])
    raise DocumentError(f"{doc.name}: not an OpenAPI document: it has neither an `openapi` "
                        "nor a `swagger` field")
