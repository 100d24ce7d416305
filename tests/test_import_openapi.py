"""Reading the security schemes of OpenAPI 3.0/3.1/3.2 and Swagger 2.0 documents
(astra_auth.imports.openapi): the test documents in tests/documents, two public
API descriptions as their npm packages ship them, and hostile documents."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from astra_auth.core.errors import ExitCode
from astra_auth.imports.model import DocumentError, Imported, Scheme
from astra_auth.imports.openapi import read_openapi
from astra_auth.net.transport import make_client
from tests.postman_tools import BLOCKFROST, DOCUMENTS, FIGMA, public_document

IMPLICIT_REASON = ("the OAuth 2.0 implicit flow is not supported: it hands the token to a "
                   "browser page, with no refresh token and no client authentication, and "
                   "RFC 9700 §2.1.2 deprecates it. astra-auth supports the authorization code "
                   "flow (with PKCE) instead: ask the provider to allow it for this client, or "
                   "choose another scheme")


def by_id(imported: Imported) -> dict[str, Scheme]:
    return {s.id: s for s in imported.schemes}


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


def refused(source: str, **kwargs) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        read_openapi(source, **kwargs)
    return caught.value


# --- OpenAPI 3.0, YAML ------------------------------------------------------------


def test_openapi_30_yaml_maps_every_scheme_kind_to_its_settings():
    doc = read_openapi(str(DOCUMENTS / "openapi-3.0.yaml"))
    assert doc.format == "OpenAPI 3.0.3"
    got = {s.id: (s.auth_type, dict(s.settings)) for s in doc.schemes}
    assert got == {
        "machine:clientCredentials": ("oauth2", {
            "grant_type": "client_credentials",
            "token_url": "https://idp.example.com/oauth2/token",
            "scope": "payments:read payments:audit payments:write refunds:write"}),
        "machine:authorizationCode": ("oauth2", {
            "grant_type": "authorization_code",
            "authorization_url": "https://idp.example.com/oauth2/authorize",
            "token_url": "https://idp.example.com/oauth2/token",
            "scope": "payments:read payments:audit payments:write refunds:write"}),
        "machine:implicit": (None, {}),
        "clerk:password": ("oauth2", {
            "grant_type": "password", "token_url": "https://idp.example.com/oauth2/token",
            "scope": "refunds:write"}),
        "user": ("oauth2", {"scope": "openid payments:read"}),
        "basicAuth": ("basic", {}),
        "bearerAuth": ("bearer", {}),
        "digestAuth": ("digest", {}),
        "negotiate": (None, {}),
        "apiKeyHeader": ("api_key", {"name": "X-API-Key", "location": "header"}),
        "apiKeyQuery": ("api_key", {"name": "api_key", "location": "query"}),
        "sessionCookie": ("api_key", {"name": "SESSION", "location": "cookie"}),
        "partner": ("api_key", {"name": "X-Partner-Key", "location": "header"}),
        "partnerAlias": ("api_key", {"name": "X-Partner-Key", "location": "header"}),
    }
    assert all(s.secrets == () for s in doc.schemes)
    assert not doc.holds_secrets


def test_the_first_server_with_its_variables_defaults_is_the_url():
    doc = read_openapi(str(DOCUMENTS / "openapi-3.0.yaml"))
    assert doc.url == "https://eu.payments.example.com:8443/v2"
    assert doc.notes == ("The document names 2 servers; the first is the API's URL.",)


def test_scopes_come_from_global_and_operation_requirements_in_order_of_appearance():
    # Global `security` first, then each operation, a $ref'd path item's too;
    # the flow's other declared scopes are not requested.
    schemes = by_id(read_openapi(str(DOCUMENTS / "openapi-3.0.yaml")))
    assert schemes["machine:clientCredentials"].settings["scope"] == (
        "payments:read payments:audit payments:write refunds:write")
    assert schemes["clerk:password"].settings["scope"] == "refunds:write"


def test_a_chain_of_refs_to_a_scheme_is_followed():
    partner = by_id(read_openapi(str(DOCUMENTS / "openapi-3.0.yaml")))["partner"]
    assert partner.description == "API key in the header X-Partner-Key"


def test_the_implicit_flow_is_named_with_what_is_supported_instead():
    implicit = by_id(read_openapi(str(DOCUMENTS / "openapi-3.0.yaml")))["machine:implicit"]
    assert not implicit.usable
    assert implicit.unsupported == IMPLICIT_REASON
    assert implicit.description == "OAuth 2.0 implicit flow (not supported)"


def test_an_http_scheme_other_than_basic_bearer_digest_says_what_is_supported():
    negotiate = by_id(read_openapi(str(DOCUMENTS / "openapi-3.0.yaml")))["negotiate"]
    assert negotiate.unsupported == (
        "components.securitySchemes.negotiate.scheme: HTTP 'negotiate' authentication is not "
        "supported; astra-auth supports OAuth 2.0 (clientCredentials, authorizationCode, "
        "deviceAuthorization and password flows), OpenID Connect, HTTP basic, bearer and "
        "digest, API keys, and mutual TLS with OAuth 2.0")


def test_openid_connect_gives_the_issuer_for_discovery():
    user = by_id(read_openapi(str(DOCUMENTS / "openapi-3.0.yaml")))["user"]
    assert user.issuer == "https://login.example.com/realms/main"
    assert user.description == ("OpenID Connect: discovery at https://login.example.com/realms/"
                                "main/.well-known/openid-configuration")


def test_each_scheme_has_a_one_line_description_for_a_pick_list():
    schemes = by_id(read_openapi(str(DOCUMENTS / "openapi-3.0.yaml")))
    assert schemes["machine:clientCredentials"].description == (
        "OAuth 2.0 Client Credentials: token URL https://idp.example.com/oauth2/token, scope "
        "payments:read payments:audit payments:write refunds:write")
    assert schemes["bearerAuth"].description == "HTTP Bearer token (JWT), issued elsewhere"
    assert all("\n" not in s.description for s in schemes.values())


# --- OpenAPI 3.1, JSON ------------------------------------------------------------


def test_openapi_31_json_mutual_tls_required_with_oauth2_makes_tls_client_auth():
    schemes = by_id(read_openapi(str(DOCUMENTS / "openapi-3.1.json")))
    assert dict(schemes["bound:clientCredentials"].settings) == {
        "grant_type": "client_credentials", "token_url": "https://mtls.idp.example.com/token",
        "scope": "ledger:read ledger:list", "client_auth": "tls_client_auth",
        "certificate_bound": True}
    assert dict(schemes["mtls"].settings) == {"client_auth": "tls_client_auth",
                                              "certificate_bound": True}
    assert schemes["mtls"].auth_type == "oauth2"


def test_a_relative_token_url_is_resolved_against_the_server_url():
    doc = read_openapi(str(DOCUMENTS / "openapi-3.1.json"))
    assert doc.format == "OpenAPI 3.1.0"
    assert doc.url == "https://ledger.example.com/v1"
    relative = by_id(doc)["relative:clientCredentials"]
    assert relative.settings["token_url"] == "https://ledger.example.com/oauth/token"
    # The scope comes from a path item in components.pathItems; webhooks' are not the API's.
    assert relative.settings["scope"] == "ledger:write"


def test_a_plain_http_token_url_makes_the_scheme_unusable_and_says_where():
    plain = by_id(read_openapi(str(DOCUMENTS / "openapi-3.1.json")))["plainToken:clientCredentials"]
    assert plain.auth_type is None
    assert plain.unsupported == (
        "components.securitySchemes.plainToken.flows.clientCredentials.tokenUrl: the token URL "
        "must use https: credentials would cross the network in clear text (plain http is "
        "accepted only for loopback hosts)")


def test_an_openid_connect_url_that_is_not_well_known_leaves_the_issuer_to_ask():
    odd = by_id(read_openapi(str(DOCUMENTS / "openapi-3.1.json")))["oddDiscovery"]
    assert odd.issuer is None
    assert odd.notes == ("components.securitySchemes.oddDiscovery.openIdConnectUrl is not a "
                         "provider's well-known URL (…/.well-known/openid-configuration): the "
                         "issuer or the token URL is asked for.",)
    oidc = by_id(read_openapi(str(DOCUMENTS / "openapi-3.1.json")))["oidc"]
    assert oidc.issuer == "https://idp.example.com"


# --- OpenAPI 3.2 ------------------------------------------------------------------


def test_openapi_32_device_authorization_flow_becomes_the_device_code_grant():
    doc = read_openapi(str(DOCUMENTS / "openapi-3.2.yaml"))
    assert doc.format == "OpenAPI 3.2.0"
    assert doc.url == "http://127.0.0.1:8080/api"  # plain http: loopback only
    tv = by_id(doc)["tv:deviceAuthorization"]
    assert dict(tv.settings) == {
        "grant_type": "device_code",
        "device_authorization_url": "https://idp.example.com/tenants/tv/device",
        "token_url": "https://idp.example.com/tenants/tv/token",
        # From a `query` operation and an additionalOperations one (OpenAPI 3.2).
        "scope": "devices:read devices:link"}
    # oauth2MetadataUrl: RFC 8414 §3's well-known URL inserted before the issuer's path.
    assert tv.issuer == "https://idp.example.com/tenants/tv"


def test_a_deprecated_scheme_says_so():
    old = by_id(read_openapi(str(DOCUMENTS / "openapi-3.2.yaml")))["oldKey"]
    assert old.description == "API key in the header X-Old-Key (deprecated)"


# --- Swagger 2.0 --------------------------------------------------------------------


def test_swagger_20_json_maps_its_flows_and_builds_the_url_from_host_and_base_path():
    doc = read_openapi(str(DOCUMENTS / "swagger-2.0.json"))
    assert doc.format == "Swagger 2.0"
    assert doc.url == "https://inventory.example.com:8443/api/v1"  # https of [http, https]
    got = {s.id: (s.auth_type, dict(s.settings)) for s in doc.schemes}
    token = "https://auth.example.com/oauth/token"
    assert got == {
        "app:application": ("oauth2", {"grant_type": "client_credentials", "token_url": token,
                                       "scope": "stock:read stock:list"}),
        "staff:password": ("oauth2", {"grant_type": "password", "token_url": token,
                                      "scope": "stock:write"}),
        "web:accessCode": ("oauth2", {
            "grant_type": "authorization_code",
            "authorization_url": "https://auth.example.com/oauth/authorize",
            "token_url": token, "scope": "stock:write"}),
        "browser:implicit": (None, {}),
        "basic": ("basic", {}),
        "partnerKey": ("api_key", {"name": "X-Partner", "location": "header"}),
        "queryKey": ("api_key", {"name": "key", "location": "query"}),
    }


def test_swagger_20_yaml_with_an_alias_and_no_schemes_assumes_https():
    doc = read_openapi(str(DOCUMENTS / "swagger-2.0.yaml"))
    assert doc.url == "https://warehouse.example.com/v1"
    assert doc.notes == ("The document names no scheme (`schemes`): https is assumed.",)
    robot = by_id(doc)["robot:application"]
    assert robot.settings["scope"] == "warehouse:move"


# --- documents that cannot be read ---------------------------------------------------


def test_a_yaml_syntax_error_says_the_file_line_and_column(tmp_path):
    path = write(tmp_path, "bad.yaml", 'openapi: 3.0.0\ninfo:\n  title: x\n version: "1"\n')
    assert str(refused(path)) == (f"{path}, line 4, column 2: not valid YAML: did not find "
                                  "expected key")


def test_a_json_syntax_error_says_the_file_line_and_column(tmp_path):
    path = write(tmp_path, "bad.json", '{"openapi": "3.0.0",\n "info": {}\n "paths": {}}')
    error = refused(path)
    assert str(error) == f"{path}, line 3, column 2: not valid JSON: Expecting ',' delimiter"
    assert error.exit_code == ExitCode.USAGE


def test_a_yaml_python_tag_is_refused_and_never_constructed(tmp_path):
    marker = tmp_path / "constructed"
    path = write(tmp_path, "tag.yaml", "openapi: 3.0.0\ninfo: !!python/object/apply:"
                 f"pathlib.Path.touch [!!python/object/apply:pathlib.Path ['{marker}']]\n")
    assert "could not determine a constructor for the tag" in str(refused(path))
    assert not marker.exists()


def test_a_scheme_of_the_wrong_shape_says_its_json_path(tmp_path):
    path = write(tmp_path, "shape.yaml", """
openapi: 3.1.0
info: {title: t, version: "1"}
components:
  securitySchemes:
    oauth: {type: oauth2, flows: [clientCredentials]}
    key: {type: apiKey, name: X-Key, in: body}
""")
    schemes = by_id(read_openapi(path))
    assert schemes["oauth"].unsupported == (
        "components.securitySchemes.oauth.flows: expected an object with at least one flow, "
        "found a list")
    assert schemes["key"].unsupported == (
        "components.securitySchemes.key.in: expected header, query or cookie, found 'body'")


def test_a_document_of_the_wrong_shape_says_its_json_path(tmp_path):
    path = write(tmp_path, "shape.yaml", """
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /pets:
    get:
      security: read
""")
    assert str(refused(path)) == (f"{path}: paths['/pets'].get.security: expected a list of "
                                  "security requirements, found text")
    path = write(tmp_path, "shape2.yaml", "openapi: 3.0.0\ncomponents:\n  securitySchemes: [a]\n")
    assert str(refused(path)) == (f"{path}: components.securitySchemes: expected an object, "
                                  "found a list")


def test_a_ref_into_another_document_is_refused_and_never_fetched(tmp_path):
    path = write(tmp_path, "remote.yaml", """
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /pets: {$ref: "https://127.0.0.1:1/paths.yaml#/pets"}
components:
  securitySchemes:
    shared: {$ref: "common.yaml#/components/securitySchemes/oauth"}
""")
    doc = read_openapi(path)
    assert by_id(doc)["shared"].unsupported == (
        "components.securitySchemes.shared: $ref 'common.yaml#/components/securitySchemes/"
        "oauth' points into another document; astra-auth reads only the document it is given "
        "and fetches nothing else: bundle the description into one document first (Redocly "
        "CLI's or swagger-cli's `bundle` command does)")
    assert doc.notes == (
        "The document names no server (`servers`): the API's URL is asked for.",
        "paths['/pets']: $ref 'https://127.0.0.1:1/paths.yaml#/pets' points into another "
        "document; astra-auth reads only the document it is given and fetches nothing else: "
        "bundle the description into one document first (Redocly CLI's or swagger-cli's "
        "`bundle` command does): the scopes its operations require are not known.")


def test_a_loop_of_refs_is_reported_not_followed_forever(tmp_path):
    path = write(tmp_path, "loop.yaml", """
openapi: 3.0.0
components:
  securitySchemes:
    a: {$ref: "#/components/securitySchemes/b"}
    b: {$ref: "#/components/securitySchemes/a"}
    c: {$ref: "#/components/securitySchemes/missing"}
""")
    schemes = by_id(read_openapi(path))
    assert schemes["a"].unsupported == ("components.securitySchemes.a: $ref "
                                        "'#/components/securitySchemes/b' leads into a loop of "
                                        "references")
    assert schemes["c"].unsupported == ("$ref '#/components/securitySchemes/missing': the "
                                        "document has nothing at components.securitySchemes."
                                        "missing")


def test_a_document_nested_too_deeply_is_refused(tmp_path):
    path = write(tmp_path, "deep.json", '{"openapi": "3.0.0", "x": ' + "[" * 300 + "]" * 300
                 + "}")
    assert str(refused(path)) == (f"{path}: nested more than 200 levels deep; astra-auth reads "
                                  "documents up to that depth")
    path = write(tmp_path, "deep.yaml", "openapi: 3.0.0\nx: " + "[" * 300 + "]" * 300 + "\n")
    assert str(refused(path)) == (f"{path}: nested more than 200 levels deep; astra-auth reads "
                                  "documents up to that depth")
    # Deeper still, libyaml stops before Python ever sees the structure.
    path = write(tmp_path, "deeper.yaml", "openapi: 3.0.0\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    assert str(refused(path)) == (f"{path}, line 2, column 1003: not valid YAML: exceeded "
                                  "maximum nesting depth")


def test_yaml_aliases_are_not_expanded_into_a_billion_laughs(tmp_path):
    lines = ["openapi: 3.0.0", "components:", "  securitySchemes:",
             "    k: {type: apiKey, name: K, in: header}", "x0: &a0 [lol, lol, lol]"]
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    path = write(tmp_path, "laughs.yaml", "\n".join(lines) + "\n")
    assert by_id(read_openapi(path))["k"].settings["name"] == "K"


def test_a_file_over_10_mib_is_refused_before_parsing(tmp_path):
    path = write(tmp_path, "big.json", b'{"openapi": "3.0.0", "x": "' + b"a" * (10 * 1024 * 1024)
                 + b'"}')
    assert str(refused(path)) == (f"{path}: larger than 10 MiB; astra-auth reads documents up "
                                  "to that size")


def test_unreadable_inputs_say_what_is_wrong(tmp_path):
    assert str(refused(str(tmp_path / "none.yaml"))) == f"{tmp_path / 'none.yaml'}: no such file"
    assert str(refused(str(tmp_path))) == f"{tmp_path}: is not a file"
    path = write(tmp_path, "latin1.yaml", b"openapi: 3.0.0\ninfo: {title: caf\xe9}\n")
    assert str(refused(path)) == f"{path}: not UTF-8 text (byte 32)"
    path = write(tmp_path, "v4.yaml", "openapi: 4.0.0\n")
    assert str(refused(path)) == (f"{path}: OpenAPI '4.0.0' is not a version astra-auth reads "
                                  "(OpenAPI 3.0, 3.1, 3.2 and Swagger 2.0)")
    path = write(tmp_path, "none.json", '{"info": {"title": "t"}}')
    assert str(refused(path)) == (f"{path}: not an OpenAPI document: it has neither an "
                                  "`openapi` nor a `swagger` field")


def test_a_postman_collection_is_recognised_and_sent_to_the_postman_import():
    error = refused(str(DOCUMENTS / "collection-v2.1.json"))
    assert str(error) == (f"{DOCUMENTS / 'collection-v2.1.json'}: this is a Postman collection, "
                          "not an OpenAPI document")
    assert error.hints == ["Import it with --from-postman."]


def test_a_server_variable_without_a_default_leaves_the_url_to_ask(tmp_path):
    path = write(tmp_path, "var.yaml", """
openapi: 3.0.0
servers: [{url: "https://{tenant}.example.com", variables: {tenant: {enum: [a, b]}}}]
""")
    doc = read_openapi(path)
    assert doc.url is None
    assert doc.notes == ("servers[0].url uses the variable 'tenant', which has no default: the "
                         "API's URL is asked for.",)


def test_a_relative_server_url_in_a_file_leaves_the_url_to_ask(tmp_path):
    path = write(tmp_path, "rel.yaml", "openapi: 3.0.0\nservers: [{url: /api/v3}]\n")
    doc = read_openapi(path)
    assert doc.url is None
    assert doc.notes == ("servers[0].url is relative ('/api/v3') and the document was read from "
                         "a file: the API's URL is asked for.",)


# --- documents at a URL --------------------------------------------------------------


class Site:
    """Loopback http server with fixed answers: path → (status, headers, body)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.hits: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                site.hits.append(self.path)
                status, headers, body = site.routes.get(self.path, (404, {}, b"not here"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers and "Transfer-Encoding" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if headers.get("Transfer-Encoding") == "chunked":
                    for start in range(0, len(body), 1 << 20):
                        piece = body[start:start + (1 << 20)]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture
def site() -> Iterator[Site]:
    running = Site()
    yield running
    running.server.shutdown()
    running.server.server_close()


def client():
    return make_client(5.0, None, {})


def test_a_document_is_read_from_a_loopback_url_and_relative_servers_resolve_against_it(site):
    site.routes["/specs/openapi.yaml"] = (200, {"Content-Type": "application/yaml"}, b"""
openapi: 3.0.0
servers: [{url: /api/v3}]
components:
  securitySchemes:
    cc:
      type: oauth2
      flows: {clientCredentials: {tokenUrl: /oauth/token, scopes: {}}}
""")
    url = site.base + "/specs/openapi.yaml"
    doc = read_openapi(url, client)
    assert doc.source == url
    assert doc.url == site.base + "/api/v3"
    assert by_id(doc)["cc:clientCredentials"].settings["token_url"] == site.base + "/oauth/token"


def test_a_url_document_read_the_same_as_the_file(site):
    site.routes["/openapi.json"] = (200, {}, (DOCUMENTS / "openapi-3.1.json").read_bytes())
    from_url = read_openapi(site.base + "/openapi.json", client)
    from_file = read_openapi(str(DOCUMENTS / "openapi-3.1.json"))
    assert from_url.schemes == from_file.schemes
    assert from_url.url == from_file.url


def test_a_redirect_is_reported_and_not_followed(site):
    site.routes["/old.yaml"] = (301, {"Location": "/new.yaml"}, b"")
    site.routes["/new.yaml"] = (200, {}, b"openapi: 3.0.0\n")
    error = refused(site.base + "/old.yaml", make_client=client)
    assert str(error) == (f"{site.base}/old.yaml: the server answered HTTP 301 (a redirect to "
                          "/new.yaml); astra-auth follows no redirect: give the document's own "
                          "URL")
    assert site.hits == ["/old.yaml"]


def test_an_error_answer_is_reported_with_its_status(site):
    assert str(refused(site.base + "/missing.yaml", make_client=client)) == (
        f"{site.base}/missing.yaml: the server answered HTTP 404, not the document")


def test_a_body_over_10_mib_is_cut_off_with_or_without_a_length(site):
    big = b"openapi: 3.0.0\nx: " + b"a" * (10 * 1024 * 1024) + b"\n"
    site.routes["/declared.yaml"] = (200, {}, big)
    site.routes["/chunked.yaml"] = (200, {"Transfer-Encoding": "chunked"}, big)
    for path in ("/declared.yaml", "/chunked.yaml"):
        assert str(refused(site.base + path, make_client=client)) == (
            f"{site.base}{path}: larger than 10 MiB; astra-auth reads documents up to that size")


def test_plain_http_to_another_host_is_refused_before_connecting():
    def no_client():
        raise AssertionError("no connection may be made")

    assert str(refused("http://api.example.com/openapi.json", make_client=no_client)) == (
        "http://api.example.com/openapi.json: the document URL must use https (plain http is "
        "accepted only for loopback hosts)")
    assert "user information" in str(refused("https://u:p@api.example.com/openapi.json",
                                              make_client=no_client))


def test_a_url_nobody_answers_is_unreachable_exit_5(closed_port):
    port = closed_port
    error = refused(f"http://127.0.0.1:{port}/openapi.json", make_client=client)
    assert error.exit_code == ExitCode.UNREACHABLE
    assert str(error) == (f"http://127.0.0.1:{port}/openapi.json: Nothing accepts connections at "
                          f"127.0.0.1:{port} (connection refused).")


# --- public API descriptions, as their npm packages ship them --------------------------


def test_figma_rest_api_spec_oauth2_and_personal_access_tokens():
    # @figma/rest-api-spec 0.43.0 (npm): OpenAPI 3.1 in YAML.
    doc = read_openapi(str(public_document(FIGMA)))
    assert (doc.format, doc.url) == ("OpenAPI 3.1.0", "https://api.figma.com")
    assert [s.id for s in doc.schemes] == ["PersonalAccessToken", "PlanAccessToken",
                                           "OAuth2:authorizationCode",
                                           "OrgOAuth2:authorizationCode"]
    schemes = by_id(doc)
    assert dict(schemes["PersonalAccessToken"].settings) == {"name": "X-Figma-Token",
                                                             "location": "header"}
    oauth = schemes["OAuth2:authorizationCode"]
    assert oauth.settings["grant_type"] == "authorization_code"
    assert oauth.settings["authorization_url"] == "https://www.figma.com/oauth"
    assert oauth.settings["token_url"] == "https://api.figma.com/v1/oauth/token"
    # The scopes its operations require, in the order they first appear.
    assert oauth.settings["scope"] == (
        "file_content:read files:read file_metadata:read projects:read project_metadata:read "
        "folders:read folder_metadata:read file_versions:read file_comments:read "
        "file_comments:write current_user:read team_library_content:read library_content:read "
        "library_assets:read webhooks:read webhooks:write file_variables:read "
        "file_variables:write file_dev_resources:read file_dev_resources:write "
        "library_analytics:read")
    assert oauth.notes == ("The document names a separate refresh URL (https://api.figma.com/"
                           "v1/oauth/refresh); astra-auth renews tokens at the token URL "
                           "(RFC 6749 §6).",)
    assert schemes["OrgOAuth2:authorizationCode"].settings["scope"] == "org:activity_log_read"


def test_blockfrost_openapi_project_id_header_key():
    # @blockfrost/openapi 0.1.93 (npm): OpenAPI 3.0.3 in YAML, four servers.
    doc = read_openapi(str(public_document(BLOCKFROST)))
    assert (doc.format, doc.url) == ("OpenAPI 3.0.3", "https://cardano-mainnet.blockfrost.io/api/v0")
    assert [(s.id, s.auth_type, dict(s.settings)) for s in doc.schemes] == [
        ("project_id", "api_key", {"name": "project_id", "location": "header"})]
    assert doc.notes == ("The document names 4 servers; the first is the API's URL.",)


def test_text_from_the_document_stays_on_one_line_without_control_characters(tmp_path):
    path = write(tmp_path, "esc.json", """{
  "openapi": "3.0.0",
  "security": [{"cc": ["read", "bad scope", "write"]}],
  "components": {"securitySchemes": {
    "cc": {"type": "oauth2", "flows": {"clientCredentials": {
      "tokenUrl": "https://idp.example.com/token",
      "refreshUrl": "https://idp.example.com/\\u001b]52;c;aGk=\\u0007\\nrefresh"}}},
    "evil\\u001b[2J\\nname": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT\\u202e"}
  }}
}""")
    schemes = by_id(read_openapi(path))
    cc = schemes["cc:clientCredentials"]
    # RFC 6749 §3.3: a scope with a space in it is two scopes, or none: left out.
    assert cc.settings["scope"] == "read write"
    assert cc.notes == (
        "The document names a separate refresh URL (https://idp.example.com/\\x1b]52;c;aGk="
        "\\x07\\x0arefresh); astra-auth renews tokens at the token URL (RFC 6749 §6).",
        "Scopes with spaces, quotes or backslashes (RFC 6749 §3.3) were left out.")
    evil = schemes["evil\x1b[2J\nname"]
    assert evil.description == "HTTP Bearer token (JWT\\u202e), issued elsewhere"
