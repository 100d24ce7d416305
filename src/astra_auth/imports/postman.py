"""The auth of a Postman collection (v2.1 or v2.0), with its environment, as
astra-auth settings and secrets.

The auth is the collection's, or that of the folder or request an item path
names (`Folder/Sub/Request`, or an item's id), inherited as Postman inherits
it: an item without `auth` (or with type `inherit`) uses its parent's, up to
the collection; `noauth` stops the search with no auth.  `{{variables}}` are
resolved from the collection's `variable` list and the environment's enabled
`values` (the environment wins, as in Postman), recursively.

| Postman | astra-auth |
| --- | --- |
| `oauth2`, `grant_type` `client_credentials` | `oauth2`, `grant_type = "client_credentials"` |
| `password_credentials` | `password` (`username`; the password is a secret) |
| `authorization_code`, `authorization_code_with_pkce` (the default) | `authorization_code` (always with PKCE S256) |
| `accessTokenUrl`, `authUrl`, `clientId`, `scope` | `token_url`, `authorization_url`, `client_id`, `scope` |
| `client_authentication` `header` / `body` | `client_auth = "basic"` / `"post"` (`"none"` for an authorization code client without a secret) |
| `tokenRequestParams` sent in the body: `audience`, others | `audience`, `extra_params` |
| `clientSecret`, `password` | secrets `client_secret`, `password` |
| `basic` `username`, `password` | `basic`, `username`; secret `password` |
| `bearer` `token` | `bearer`; secret `bearer_token` |
| `apikey` `key`, `value`, `in` (`header`, `query`) | `api_key`, `name`, `location`; secret `api_key` |
| `awsv4` `accessKey`, `secretKey`, `sessionToken`, `region`, `service` | `aws_sigv4`, `access_key_id`, `region`, `service`; secrets `secret_access_key`, `session_token` |
| `digest` `username`, `password` | `digest`, `username`; secret `password` |
| the `baseUrl` variable, else the one origin of the item's requests | `url` |
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from astra_auth.core import validate
from astra_auth.imports.document import JsonPath, Loaded, parse, read_file, shape_error, where
from astra_auth.imports.model import IMPLICIT, DocumentError, Imported, Scheme, Secret, Setting
from astra_auth.text.safetext import clean

# Postman's own pattern for a variable reference (postman-collection's
# Substitutor.REGEX_EXTRACT_VARS).
VARIABLE = re.compile(r"\{\{([^{}]*?)\}\}")
# How many times a value is expanded (a variable's value may use variables),
# and how long it may grow.
MAX_PASSES = 20
MAX_EXPANDED = 64 * 1024
GRANTS = {"client_credentials": "client_credentials", "password_credentials": "password",
          "authorization_code": "authorization_code",
          "authorization_code_with_pkce": "authorization_code"}
# Postman's auth types astra-auth has nothing for, by the names Postman shows.
OTHER_TYPES = {"oauth1": "OAuth 1.0", "hawk": "Hawk", "ntlm": "NTLM",
               "edgegrid": "Akamai EdgeGrid", "akamai": "Akamai EdgeGrid", "asap": "ASAP",
               "jwt": "JWT Bearer"}
SUPPORTED = ("astra-auth imports Postman's OAuth 2.0, Basic, Bearer Token, API Key, "
             "AWS Signature and Digest auth")
DIGEST_ALGORITHMS = ("MD5", "MD5-SESS", "SHA-256", "SHA-256-SESS")


def read_postman(collection: str, environment: str | None = None,
                 item: str | None = None) -> Imported:
    """The auth of `collection` (or of the item that `item` names), with
    `environment`'s variables; DocumentError when it cannot be read."""
    loaded = Loaded(parse(read_file(collection), collection, ".json"), collection)
    env = None
    if environment is not None:
        env = Loaded(parse(read_file(environment), environment, ".json"), environment)
    return from_collection(loaded, env, item)


def from_collection(collection: Loaded, environment: Loaded | None = None,
                    item: str | None = None) -> Imported:
    """The same from parsed documents (no I/O)."""
    data = collection.data
    if not isinstance(data, dict):
        raise shape_error(collection.name, (), "an object", data)
    version = _version(collection)
    variables = _Variables(collection, environment)
    items = data.get("item", [])
    if not isinstance(items, list):
        raise shape_error(collection.name, ("item",), "a list", items)
    chain = _find(collection, items, item) if item else []
    reader = _Auth(collection, variables, chain)
    scheme = reader.scheme(item or "")
    url = _url(variables, chain[-1][1] if chain else data, reader.doc_notes)
    files = {name for s in scheme.secrets for name in s.found_in} | reader.token_files
    ordered = [n for n in (collection.name, environment.name if environment else None)
               if n in files]
    return Imported(source=collection.name, format=f"Postman collection {version}", url=url,
                    schemes=(scheme,), notes=tuple(reader.doc_notes),
                    files_with_secrets=tuple(ordered))


def _version(collection: Loaded) -> str:
    data = collection.data
    if "openapi" in data or "swagger" in data:
        raise DocumentError(f"{collection.name}: this is an OpenAPI document, not a Postman "
                            "collection", hints=["Import it with --from-openapi."])
    if "values" in data and "item" not in data:
        raise DocumentError(f"{collection.name}: this is a Postman environment, not a "
                            "collection")
    info = data.get("info")
    if not isinstance(info, dict):
        if "requests" in data or "order" in data:
            raise DocumentError(
                f"{collection.name}: a Postman collection in the old v1 format",
                hints=["Export it again as Collection v2.1 (in Postman: the collection's "
                       "… menu, Export, Collection v2.1)."])
        raise DocumentError(f"{collection.name}: not a Postman collection (it has no `info`)")
    schema = info.get("schema")
    schema = schema if isinstance(schema, str) else ""
    for marker, version in (("/v2.1.", "v2.1"), ("/v2.0.", "v2.0")):
        if marker in schema:
            return version
    raise DocumentError(f"{collection.name}: not a Postman collection v2.1 or v2.0 (info.schema "
                        f"is {schema[:100]!r})")


class _Variables:
    """The collection's variables, overridden by the environment's enabled ones."""

    def __init__(self, collection: Loaded, environment: Loaded | None) -> None:
        # name → (value, the file that defines it)
        self.values: dict[str, tuple[str, str]] = {}
        listed = collection.data.get("variable", [])
        for name, value in _entries(collection, listed, ("variable",), "disabled"):
            self.values[name] = (value, collection.name)
        if environment is not None:
            data = environment.data
            if not isinstance(data, dict):
                raise shape_error(environment.name, (), "an object", data)
            if "item" in data and "info" in data:
                raise DocumentError(f"{environment.name}: this is a Postman collection, not an "
                                    "environment")
            for name, value in _entries(environment, data.get("values", []), ("values",),
                                        "enabled"):
                self.values[name] = (value, environment.name)

    def expand(self, text: str) -> tuple[str, list[str], set[str]]:
        """`text` with every variable it uses (and theirs) replaced; the names
        left unresolved; the files the values came from."""
        files: set[str] = set()
        for _ in range(MAX_PASSES):
            if "{{" not in text:
                break
            size = len(text)

            def value(match: re.Match[str]) -> str:
                nonlocal size
                found = self.values.get(match.group(1))
                if found is None:
                    return match.group()
                # Counted before the pieces are joined: a value used many times
                # never makes a large string.
                size += len(found[0]) - len(match.group())
                if size > MAX_EXPANDED:
                    raise DocumentError(f"its variables expand to more than "
                                        f"{MAX_EXPANDED // 1024} KiB of text")
                files.add(found[1])
                return found[0]

            expanded = VARIABLE.sub(value, text)
            if expanded == text:
                break
            text = expanded
        unresolved = list(dict.fromkeys(VARIABLE.findall(text)))
        return text, unresolved, files


def _entries(doc: Loaded, listed: Any, path: JsonPath, switch: str) -> Iterator[tuple[str, str]]:
    """(key, value) of a Postman variable list; `switch` is "disabled" (the
    collection's, off when true) or "enabled" (the environment's, off when false)."""
    if listed is None:
        return
    if not isinstance(listed, list):
        raise shape_error(doc.name, path, "a list", listed)
    for index, entry in enumerate(listed):
        if not isinstance(entry, dict):
            raise shape_error(doc.name, (*path, index), "an object", entry)
        key = entry.get("key")  # Postman's SDK names a variable by its key, never its id
        value = entry.get("value")
        off = (entry.get("disabled") is True if switch == "disabled"
               else entry.get("enabled") is False)
        if not isinstance(key, str) or off:
            continue
        if isinstance(value, str):
            yield key, value
        elif isinstance(value, bool):
            yield key, "true" if value else "false"
        elif isinstance(value, int | float):
            yield key, str(value)


def _find(collection: Loaded, items: list[Any], wanted: str) -> list[tuple[JsonPath, dict[str, Any]]]:
    """The chain of items from the top down to the one `wanted` names: a path of
    names separated by "/" (a name may itself hold a "/"), or an item's id."""
    matches: list[list[tuple[JsonPath, dict[str, Any]]]] = []

    def walk(children: Any, base: JsonPath, rest: str,
             chain: list[tuple[JsonPath, dict[str, Any]]]) -> None:
        if not isinstance(children, list):
            return
        for index, node in enumerate(children):
            if not isinstance(node, dict):
                continue
            name = str(node.get("name", ""))
            here = [*chain, ((*base, index), node)]
            if name == rest:
                matches.append(here)
            elif rest.startswith(name + "/") and name:
                walk(node.get("item"), (*base, index, "item"), rest[len(name) + 1:], here)

    def by_id(children: Any, base: JsonPath,
              chain: list[tuple[JsonPath, dict[str, Any]]]) -> None:
        if not isinstance(children, list):
            return
        for index, node in enumerate(children):
            if isinstance(node, dict):
                here = [*chain, ((*base, index), node)]
                if wanted in (node.get("id"), node.get("_postman_id")):
                    matches.append(here)
                by_id(node.get("item"), (*base, index, "item"), here)

    walk(items, ("item",), wanted, [])
    if not matches and wanted.strip("/") != wanted:
        # "/Admin/" for "Admin"; names often start with "/" (a path), so only now.
        walk(items, ("item",), wanted.strip("/"), [])
    if not matches:
        by_id(items, ("item",), [])
    if len(matches) == 1:
        return matches[0]
    if not matches:
        top = [str(n.get("name", "")) for n in items if isinstance(n, dict)][:10]
        raise DocumentError(f"{collection.name}: no item {wanted[:200]!r}",
                            hints=["Name a folder or request by its path, its names separated "
                                   "by '/' (the collection's top level: "
                                   + ", ".join(repr(t[:60]) for t in top) + "), or by its id."])
    ids = [clean(str(chain[-1][1].get("id") or chain[-1][1].get("_postman_id")
                     or where(chain[-1][0]))[:80], one_line=True) for chain in matches][:10]
    raise DocumentError(f"{collection.name}: {len(matches)} items are named {wanted[:200]!r}",
                        hints=["Name one by its id: " + ", ".join(ids) + "."])


@dataclass
class _Found:
    """What one auth object maps to."""

    auth_type: str | None
    description: str
    settings: dict[str, Setting] = field(default_factory=dict)
    secrets: list[Secret] = field(default_factory=list)
    unsupported: str | None = None


class _Auth:
    def __init__(self, collection: Loaded, variables: _Variables,
                 chain: list[tuple[JsonPath, dict[str, Any]]]) -> None:
        self.collection = collection
        self.variables = variables
        self.chain = chain
        self.notes: list[str] = []
        self.doc_notes: list[str] = []
        self.unresolved: dict[str, None] = {}
        self.token_files: set[str] = set()

    def scheme(self, name: str) -> Scheme:
        path, auth, source = self._effective()
        inherited = f", inherited from {source}" if source else ""
        if auth is None:
            what = f"{name!r}" if name else "The collection"
            found = _Found(None, "No auth", unsupported=(
                f"{what} uses no auth (Postman's No Auth{inherited}): there is nothing to "
                "import; name a folder or request that has an auth"
                + ("" if name else " (--item)")))
        else:
            found = self._map(path, auth)
            if source:
                found.description += f" (inherited from {source})"
        return Scheme(name=name, description=found.description, auth_type=found.auth_type,
                      settings=found.settings, secrets=tuple(found.secrets),
                      unsupported=found.unsupported, notes=tuple(self.notes),
                      unresolved=tuple(self.unresolved))

    def _effective(self) -> tuple[JsonPath, dict[str, Any] | None, str | None]:
        """The auth in force for the last item of the chain: where it is, the
        auth object (None: no auth), and the level it is inherited from (None:
        the item's own)."""
        levels: list[tuple[JsonPath, Any, str]] = [((), self.collection.data, "the collection")]
        for path, node in self.chain:
            level = "folder" if isinstance(node.get("item"), list) else "request"
            label = f"{level} {str(node.get('name', ''))[:60]!r}"
            request = node.get("request")
            if level == "request" and isinstance(request, dict):
                levels.append(((*path, "request"), request, label))
            else:
                levels.append((path, node, label))
        for depth in range(len(levels) - 1, -1, -1):
            path, node, label = levels[depth]
            auth = node.get("auth")
            if auth is None:
                continue
            if not isinstance(auth, dict):
                raise shape_error(self.collection.name, (*path, "auth"), "an object", auth)
            kind = auth.get("type")
            if kind == "inherit":
                continue
            source = None if depth == len(levels) - 1 else label
            return (*path, "auth"), (None if kind == "noauth" else auth), source
        return (), None, None

    # --- reading one auth object ---------------------------------------------------

    def _map(self, path: JsonPath, auth: dict[str, Any]) -> _Found:
        kind = auth.get("type")
        if not isinstance(kind, str):
            raise shape_error(self.collection.name, (*path, "type"), "text", kind)
        params = self._params(auth, kind, path)
        at = (*path, kind)
        if kind == "oauth2":
            return self._oauth2(params, at)
        if kind == "basic":
            found = _Found("basic", "Basic: a username and password")
            self._setting(found, params, "username", "username", at)
            self._secret(found, params, "password", "password", at)
            return found
        if kind == "digest":
            found = _Found("digest", "Digest: a username and password (RFC 7616)")
            self._setting(found, params, "username", "username", at)
            self._secret(found, params, "password", "password", at)
            algorithm = params.get("algorithm")
            if isinstance(algorithm, str) and algorithm and \
                    algorithm.upper() not in DIGEST_ALGORITHMS:
                self.notes.append(f"Postman is set to the digest algorithm "
                                  f"{algorithm[:40]!r}; astra-auth answers the API's challenge "
                                  "with MD5 or SHA-256 (and their -sess forms).")
            return found
        if kind == "bearer":
            found = _Found("bearer", "Bearer token, issued elsewhere")
            self._secret(found, params, "token", "bearer_token", at)
            return found
        if kind == "apikey":
            return self._api_key(params, at)
        if kind == "awsv4":
            found = _Found("aws_sigv4", "AWS Signature Version 4")
            self._setting(found, params, "accessKey", "access_key_id", at)
            self._setting(found, params, "region", "region", at)
            self._setting(found, params, "service", "service", at)
            self._secret(found, params, "secretKey", "secret_access_key", at)
            self._secret(found, params, "sessionToken", "session_token", at)
            if params.get("addAuthDataToQuery") in (True, "true"):
                self.notes.append("Postman puts the signature into the query string; "
                                  "astra-auth signs with headers.")
            return found
        label = OTHER_TYPES.get(kind, repr(kind[:40]))
        instead = (" To have astra-auth sign its own JWT, configure the jwt auth type."
                   if kind == "jwt" else "")
        return _Found(None, f"{label} (not supported)", unsupported=(
            f"{where(path)}: Postman's {label} auth is not supported; {SUPPORTED}.{instead}"))

    def _params(self, auth: dict[str, Any], kind: str, path: JsonPath) -> dict[str, Any]:
        """The auth's parameters by key: v2.1 lists {key, value} pairs, v2.0 has
        an object (either is taken in either version, as Postman does)."""
        raw = auth.get(kind)
        if raw is None:
            return {}
        if isinstance(raw, dict):
            return {str(k): v for k, v in raw.items()}
        if not isinstance(raw, list):
            raise shape_error(self.collection.name, (*path, kind), "a list or an object", raw)
        params: dict[str, Any] = {}
        for index, entry in enumerate(raw):
            if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
                raise shape_error(self.collection.name, (*path, kind, index),
                                  "a {key, value} object", entry)
            params.setdefault(entry["key"], entry.get("value"))
        return params

    def _text(self, params: dict[str, Any], key: str, at: JsonPath
              ) -> tuple[str | None, set[str]]:
        """The value of `key` with its variables resolved, and the files it came
        from; None when absent, empty, or using a variable that is not defined."""
        value = params.get(key)
        if value is None or value == "":
            return None, set()
        if isinstance(value, bool | int | float):
            value = str(value).lower() if isinstance(value, bool) else str(value)
        if not isinstance(value, str):
            raise shape_error(self.collection.name, (*at, key), "text", value)
        try:
            text, unresolved, files = self.variables.expand(value)
        except DocumentError as exc:
            raise DocumentError(f"{self.collection.name}: {where((*at, key))}: "
                                f"{exc.message}") from None
        if unresolved:
            self.unresolved.update(dict.fromkeys(unresolved))
            names = ", ".join("{{" + n[:60] + "}}" for n in unresolved[:3])
            self.notes.append(f"{key} uses {names}, which neither the collection nor the "
                              "environment defines: it is asked for.")
            return None, set()
        if VARIABLE.sub("", value):
            files.add(self.collection.name)  # written in the collection itself, at least in part
        return (text or None), files

    def _setting(self, found: _Found, params: dict[str, Any], key: str, setting: str,
                 at: JsonPath) -> str | None:
        value, _ = self._text(params, key, at)
        if value is not None:
            found.settings[setting] = value
        return value

    def _secret(self, found: _Found, params: dict[str, Any], key: str, kind: str,
                at: JsonPath) -> bool:
        value, files = self._text(params, key, at)
        if value is None:
            return False
        order = [self.collection.name, *sorted(files - {self.collection.name})]
        found.secrets.append(Secret(kind=kind, value=value,
                                    found_in=tuple(n for n in order if n in files)))
        return True

    def _url(self, params: dict[str, Any], key: str, setting: str, found: _Found,
             at: JsonPath) -> None:
        value, _ = self._text(params, key, at)
        if value is None:
            return
        try:
            found.settings[setting] = validate.token_url(value)
        except ValueError as exc:
            found.unsupported = f"{where((*at, key))}: {exc}"

    def _oauth2(self, params: dict[str, Any], at: JsonPath) -> _Found:
        raw_grant = params.get("grant_type") or "authorization_code"  # Postman's default
        grant = GRANTS.get(str(raw_grant))
        if grant is None:
            shown = str(raw_grant)[:40]
            return _Found(None, f"OAuth 2.0 {shown} (not supported)", unsupported=(
                IMPLICIT if raw_grant == "implicit" else
                f"{where((*at, 'grant_type'))}: the grant type {shown!r} is not supported; "
                "astra-auth imports client_credentials, password_credentials, "
                "authorization_code and authorization_code_with_pkce"))
        found = _Found("oauth2", "")
        found.settings["grant_type"] = grant
        self._url(params, "accessTokenUrl", "token_url", found, at)
        if grant == "authorization_code":
            self._url(params, "authUrl", "authorization_url", found, at)
        self._setting(found, params, "clientId", "client_id", at)
        has_secret = self._secret(found, params, "clientSecret", "client_secret", at)
        method = params.get("client_authentication") or "header"
        found.settings["client_auth"] = {"header": "basic", "body": "post"}.get(str(method),
                                                                                  "basic")
        if method not in ("header", "body"):
            self.notes.append(f"client_authentication {str(method)[:40]!r} is not header or "
                              "body: the client secret is sent in the header (basic).")
        if (grant == "authorization_code" and not has_secret
                and params.get("clientSecret") in (None, "")):
            found.settings["client_auth"] = "none"  # a public client (RFC 7636 with PKCE)
        self._setting(found, params, "scope", "scope", at)
        if grant == "password":
            self._setting(found, params, "username", "username", at)
            self._secret(found, params, "password", "password", at)
        self._token_params(params, found, at)
        self._oauth2_notes(params, grant)
        label = validate.GRANT_LABELS[grant]
        token_url = found.settings.get("token_url")
        found.description = f"OAuth 2.0 {label}" + (f": token URL {token_url}" if token_url
                                                     else "")
        return found

    def _token_params(self, params: dict[str, Any], found: _Found, at: JsonPath) -> None:
        rows = params.get("tokenRequestParams")
        if not isinstance(rows, list):
            return
        extra: dict[str, str] = {}
        for index, row in enumerate(rows):
            if not isinstance(row, dict) or row.get("enabled") is False:
                continue
            name = row.get("key")
            if not isinstance(name, str) or not name:
                continue
            if row.get("send_as", "request_body") != "request_body":
                self.notes.append(f"The token request parameter {name[:60]!r} goes into a "
                                  "header or the URL in Postman; astra-auth sends extra "
                                  "parameters in the body only, so it is left out.")
                continue
            value, _ = self._text(row, "value", (*at, "tokenRequestParams", index))
            if value is None:
                continue
            if name == "audience":
                found.settings["audience"] = value
                continue
            try:
                validate.extra_param(name, value)
            except ValueError as exc:
                self.notes.append(f"The token request parameter {name[:60]!r} is left out: "
                                  f"{exc}.")
                continue
            extra[name] = value
        if extra:
            found.settings["extra_params"] = extra

    def _oauth2_notes(self, params: dict[str, Any], grant: str) -> None:
        for key in ("accessToken", "refreshToken"):
            if isinstance(params.get(key), str) and params[key]:
                self.token_files.add(self.collection.name)
                self.doc_notes.append(
                    f"The collection holds an OAuth 2.0 {key} from an earlier run of Postman; "
                    "it is not imported (astra-auth obtains its own), but anyone who can read "
                    "the file can use it until it expires.")
        if params.get("addTokenTo") == "queryParams":
            self.notes.append("Postman adds the token to the query string; astra-auth sends "
                              "it in the Authorization header.")
        if grant == "authorization_code":
            if params.get("challengeAlgorithm") == "plain":
                self.notes.append("Postman uses the plain PKCE challenge; astra-auth always "
                                  "uses S256 (RFC 7636 §4.2).")
            rows = params.get("authRequestParams")
            if isinstance(rows, list) and any(isinstance(r, dict) and r.get("enabled") is not
                                              False for r in rows):
                self.notes.append("Authorization request parameters (authRequestParams) are "
                                  "not imported.")
            self.notes.append("astra-auth receives the authorization code on a loopback "
                              "redirect (http://127.0.0.1:PORT/…, RFC 8252 §7.3): the provider "
                              "must allow it for this client.")

    def _api_key(self, params: dict[str, Any], at: JsonPath) -> _Found:
        found = _Found("api_key", "API key")
        name = self._setting(found, params, "key", "name", at)
        location = params.get("in") or "header"
        if location not in ("header", "query"):
            found.unsupported = (f"{where((*at, 'in'))}: expected header or query, found "
                                 f"{str(location)[:40]!r}")
            return found
        found.settings["location"] = location
        if name is not None:
            try:
                validate.key_name(name)
            except ValueError as exc:
                found.unsupported = f"{where((*at, 'key'))}: {exc}"
                return found
            found.description = f"API key in the {location} {name}"
        self._secret(found, params, "value", "api_key", at)
        return found


def _url(variables: _Variables, node: dict[str, Any], notes: list[str]) -> str | None:
    """The API's URL: the `baseUrl` variable (what Postman and its OpenAPI
    converter call it) unless no request under `node` uses it, else the one
    origin those requests go to."""
    urls = []
    for raw in _request_urls(node):
        url, unresolved, _ = variables.expand(raw)
        parts = urlsplit(url)
        if not unresolved and parts.scheme in ("http", "https") and parts.netloc:
            urls.append(url)
    candidate = None
    if "baseUrl" in variables.values:
        base, unresolved, _ = variables.expand("{{baseUrl}}")
        if (not unresolved and urlsplit(base).scheme in ("http", "https")
                and (not urls or any(url.startswith(base) for url in urls))):
            candidate = base
    if candidate is None:
        origins = list(dict.fromkeys(f"{p.scheme}://{p.netloc}" for p in map(urlsplit, urls)))
        if len(origins) > 1:
            notes.append(f"The requests go to {len(origins)} different hosts: the API's URL is "
                         "asked for.")
        if len(origins) != 1:
            return None
        candidate = origins[0]
    try:
        return validate.api_url(candidate)
    except ValueError as exc:
        notes.append(f"The API's URL ({candidate[:200]}): {exc}; it is asked for.")
        return None


def _request_urls(node: Any) -> Iterator[str]:
    """The raw URL of every request at or under `node` (a collection, folder or request)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, dict):
            continue
        request = current.get("request")
        url = request.get("url") if isinstance(request, dict) else request
        if isinstance(url, dict):
            url = url.get("raw")
        if isinstance(url, str):
            yield url
        children = current.get("item")
        if isinstance(children, list):
            stack.extend(reversed(children))


def items_with_auth(collection: Loaded) -> list[tuple[str, str]]:
    """Each folder and request that sets an auth of its own, in the
    collection's order: how `from_collection`'s `item` names it (its path of
    names where that names it alone, else its id; an item with neither is
    left out), and where it is, to show ("request 'Admin' › 'Rotate'")."""
    every: list[str] = []
    found: list[tuple[tuple[str, ...], str | None, bool]] = []

    def walk(children: Any, names: tuple[str, ...]) -> None:
        if not isinstance(children, list):
            return
        for node in children:
            if not isinstance(node, dict):
                continue
            here = (*names, str(node.get("name", "")))
            every.append("/".join(here))
            request = node.get("request")
            folder = isinstance(node.get("item"), list)
            owner = request if not folder and isinstance(request, dict) else node
            auth = owner.get("auth")
            if isinstance(auth, dict) and auth.get("type") not in (None, "inherit"):
                ident = node.get("id") or node.get("_postman_id")
                found.append((here, ident if isinstance(ident, str) else None, folder))
            walk(node.get("item"), here)

    data = collection.data
    walk(data.get("item") if isinstance(data, dict) else None, ())
    named = []
    for names, ident, folder in found:
        path = "/".join(names)
        shown = ("folder " if folder else "request ") + " › ".join(
            repr(clean(name[:60], one_line=True)) for name in names)
        if every.count(path) == 1 and all(name and "/" not in name for name in names):
            named.append((path, shown))
        elif ident is not None:
            named.append((ident, shown))
    return named
