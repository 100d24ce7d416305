"""`configure --from-openapi` and `--from-postman`: each scheme kind and each
Postman auth type imported through `configure`, in CI (flags) and at a
terminal (the scripted prompter), with what the document cannot say given by
flags, variables or answers; and the documents and choices it refuses."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.fakes import CLIENT_SECRET, PASSWORD, ScriptedPrompter, Step
from tests.postman_tools import DOCUMENTS

OPENAPI_30 = str(DOCUMENTS / "openapi-3.0.yaml")
OPENAPI_31 = str(DOCUMENTS / "openapi-3.1.json")
OPENAPI_32 = str(DOCUMENTS / "openapi-3.2.yaml")
SWAGGER_JSON = str(DOCUMENTS / "swagger-2.0.json")
SWAGGER_YAML = str(DOCUMENTS / "swagger-2.0.yaml")
V21 = str(DOCUMENTS / "collection-v2.1.json")
V20 = str(DOCUMENTS / "collection-v2.0.json")
ENV = str(DOCUMENTS / "environment.json")
ENV20 = str(DOCUMENTS / "environment-v2.0.json")
# The secrets the test collections and environments hold (tests/test_import_postman.py).
FILE_SECRETS = {"client_secret": "cs-Zq4sN8vB3kTw", "admin_password": "ap-Lm5xQ9rD2hGv",
                "api_key": "k-Xc7Vb2Nm4Qw8", "rotate_token": "rot-4f9c2b7e1d",
                "user_password": "up-Rt6yU8iO0pAs", "aws": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "digest": "dg-7Hq2wLm9Zx", "legacy": "lg-Pq8rT5vW2y",
                "cached_token": "eyJhbGciOiJub25lIn0.eyJjYWNoZWQiOnRydWV9."}
SAVE = [Step("confirm", "Save", True), Step("confirm", "Run test-token", False)]
QUESTION = "OpenAPI document or a Postman collection"


@pytest.fixture(autouse=True)
def _watch_file_secrets(leaks):  # type: ignore[no-untyped-def]
    leaks.watch(*FILE_SECRETS.values())


def target(config_path: Path, name: str) -> dict:
    return tomllib.loads(config_path.read_text())["targets"][name]


def write(folder: Path, name: str, data: object) -> str:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


# ---------------------------------------------------------------------------
# OpenAPI, in CI: every scheme kind


def test_openapi_client_credentials_takes_url_token_url_and_required_scopes(
        cli, config_path, store):
    result = cli("configure", "payments", "--from-openapi", OPENAPI_30, "--scheme",
                 "machine:clientCredentials", "--client-id", "scanner-app",
                 "--client-secret-stdin", "--no-input", stdin=CLIENT_SECRET + "\n")
    assert target(config_path, "payments") == {
        "url": "https://eu.payments.example.com:8443/v2", "auth_type": "oauth2",
        "oauth2": {"grant_type": "client_credentials",
                   "token_url": "https://idp.example.com/oauth2/token",
                   "client_id": "scanner-app", "client_auth": "basic",
                   "scope": "payments:read payments:audit payments:write refunds:write",
                   "secrets": "keyring"}}
    assert store.data == {"payments:client_secret": CLIENT_SECRET}
    assert ("From " + OPENAPI_30 + " (OpenAPI 3.0.3), the security scheme "
            "machine:clientCredentials: OAuth 2.0 Client Credentials") in result.err
    assert "- The document names 2 servers; the first is the API's URL." in result.err


def test_openapi_authorization_code_takes_the_authorization_url_and_offers_login(
        cli, config_path):
    result = cli("configure", "web", "--from-openapi", OPENAPI_30, "--scheme",
                 "machine:authorizationCode", "--client-id", "web-app", "--client-auth", "none",
                 "--no-input")
    oauth = target(config_path, "web")["oauth2"]
    assert (oauth["grant_type"], oauth["authorization_url"], oauth["token_url"]) == (
        "authorization_code", "https://idp.example.com/oauth2/authorize",
        "https://idp.example.com/oauth2/token")
    assert oauth["scope"] == "payments:read payments:audit payments:write refunds:write"
    assert "Next, log in once (renewal is unattended afterwards): astra-auth login web" \
        in result.err


def test_openapi_password_flow_needs_the_user_from_flags(cli, config_path, store):
    result = cli("configure", "clerk", "--from-openapi", OPENAPI_30, "--scheme", "clerk",
                 "--client-id", "desk", "--no-input", expect=2)
    assert ("missing required values (not running interactively, so nothing is asked): "
            "--username, --client-secret-stdin (or ASTRA_AUTH_CLIENT_SECRET), "
            "--password-stdin (or ASTRA_AUTH_PASSWORD)") in result.err
    cli("configure", "clerk", "--from-openapi", OPENAPI_30, "--scheme", "clerk",
        "--client-id", "desk", "--username", "john.doe", "--client-secret-stdin",
        "--password-stdin", "--no-input", stdin=f"{CLIENT_SECRET}\n{PASSWORD}\n")
    oauth = target(config_path, "clerk")["oauth2"]
    assert (oauth["grant_type"], oauth["username"], oauth["scope"]) == (
        "password", "john.doe", "refunds:write")
    assert store.data == {"clerk:client_secret": CLIENT_SECRET, "clerk:password": PASSWORD}


def test_openapi_32_device_authorization_flow(cli, config_path):
    cli("configure", "tv", "--from-openapi", OPENAPI_32, "--scheme", "tv",
        "--client-id", "tv-app", "--client-auth", "none", "--no-input")
    entry = target(config_path, "tv")
    assert entry["url"] == "http://127.0.0.1:8080/api"
    assert entry["oauth2"] == {
        "grant_type": "device_code", "token_url": "https://idp.example.com/tenants/tv/token",
        "client_id": "tv-app", "client_auth": "none", "scope": "devices:read devices:link",
        "secrets": "keyring",
        "device_authorization_url": "https://idp.example.com/tenants/tv/device"}


@pytest.mark.parametrize("scheme,settings", [
    ("apiKeyHeader", {"name": "X-API-Key", "location": "header"}),
    ("apiKeyQuery", {"name": "api_key", "location": "query"}),
    ("sessionCookie", {"name": "SESSION", "location": "cookie"}),
    ("partner", {"name": "X-Partner-Key", "location": "header"}),  # a $ref of a $ref
])
def test_openapi_api_keys_take_name_and_place(cli, config_path, store, scheme, settings):
    key = "k-9f8e7d6c5b4a"
    cli("configure", "keyed", "--from-openapi", OPENAPI_30, "--scheme", scheme,
        "--api-key-stdin", "--no-input", stdin=key + "\n")
    assert target(config_path, "keyed")["api_key"] == {**settings, "secrets": "keyring"}
    assert store.data == {"keyed:api_key": key}


def test_openapi_http_basic_asks_the_username_of_the_flags(cli, config_path, store):
    result = cli("configure", "legacy", "--from-openapi", OPENAPI_30, "--scheme", "basicAuth",
                 "--no-input", expect=2)
    assert "--username" in result.err
    cli("configure", "legacy", "--from-openapi", OPENAPI_30, "--scheme", "basicAuth",
        "--username", "scanner", "--password-stdin", "--no-input", stdin=PASSWORD + "\n")
    assert target(config_path, "legacy")["basic"] == {"username": "scanner",
                                                       "secrets": "keyring"}
    assert store.data == {"legacy:password": PASSWORD}


def test_openapi_http_bearer(cli, config_path, store):
    token = "static-9d8c7b6a5f4e"
    cli("configure", "static", "--from-openapi", OPENAPI_30, "--scheme", "bearerAuth",
        "--token-stdin", "--no-input", stdin=token + "\n")
    assert target(config_path, "static")["auth_type"] == "bearer"
    assert store.data == {"static:bearer_token": token}


def _key_and_certificate(folder: Path) -> tuple[Path, Path]:
    """A P-256 key and its self-signed certificate, as PEM files in `folder`."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ledger-scanner")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    key_file, cert_file = folder / "client.pem", folder / "client-cert.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def test_openapi_31_mutual_tls_with_oauth2_is_a_bound_tls_client(cli, config_path,
                                                                  tmp_path_factory):
    # Outside the test's own folder, where a private key file would be taken for a leak.
    key, cert = _key_and_certificate(tmp_path_factory.mktemp("keys"))
    cli("configure", "ledger", "--from-openapi", OPENAPI_31, "--scheme", "bound",
        "--client-id", "ledger-scanner", "--private-key-file", str(key), "--certificate",
        str(cert), "--no-input")
    entry = target(config_path, "ledger")
    assert entry["url"] == "https://ledger.example.com/v1"
    assert entry["oauth2"]["client_auth"] == "tls_client_auth"
    assert entry["oauth2"]["certificate_bound"] is True
    assert entry["oauth2"]["token_url"] == "https://mtls.idp.example.com/token"


def test_openapi_31_relative_token_url_is_resolved_against_the_server(cli, config_path):
    cli("configure", "ledger", "--from-openapi", OPENAPI_31, "--scheme", "relative",
        "--client-id", "w", "--no-input", environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert target(config_path, "ledger")["oauth2"]["token_url"] == (
        "https://ledger.example.com/oauth/token")


@pytest.mark.parametrize("document,scheme,url,token_url,scope", [
    (SWAGGER_JSON, "app", "https://inventory.example.com:8443/api/v1",
     "https://auth.example.com/oauth/token", "stock:read stock:list"),
    (SWAGGER_YAML, "robot", "https://warehouse.example.com/v1",
     "https://auth.example.com/token", "warehouse:move"),
])
def test_swagger_20_documents_json_and_yaml(cli, config_path, document, scheme, url,
                                            token_url, scope):
    cli("configure", "old", "--from-openapi", document, "--scheme", scheme, "--client-id",
        "robot", "--no-input", environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    entry = target(config_path, "old")
    assert entry["url"] == url
    assert (entry["oauth2"]["grant_type"], entry["oauth2"]["token_url"],
            entry["oauth2"]["scope"]) == ("client_credentials", token_url, scope)


def test_swagger_20_basic_and_api_key(cli, config_path):
    cli("configure", "b", "--from-openapi", SWAGGER_JSON, "--scheme", "basic", "--username",
        "u", "--no-input", environ={"ASTRA_AUTH_PASSWORD": PASSWORD})
    assert target(config_path, "b")["basic"]["username"] == "u"
    cli("configure", "k", "--from-openapi", SWAGGER_JSON, "--scheme", "queryKey", "--no-input",
        environ={"ASTRA_AUTH_API_KEY": "k-1234567890"})
    assert target(config_path, "k")["api_key"] == {"name": "key", "location": "query",
                                                    "secrets": "keyring"}


def test_a_flag_given_wins_over_the_document(cli, config_path):
    cli("configure", "payments", "--from-openapi", OPENAPI_30, "--scheme",
        "machine:clientCredentials", "--client-id", "x", "--url", "https://staging.example.com",
        "--scope", "payments:read", "--token-url", "https://other.example.com/token",
        "--client-auth", "post", "--no-input", environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    entry = target(config_path, "payments")
    assert entry["url"] == "https://staging.example.com"
    assert entry["oauth2"]["scope"] == "payments:read"
    assert entry["oauth2"]["token_url"] == "https://other.example.com/token"
    assert entry["oauth2"]["client_auth"] == "post"


def test_grant_type_flag_chooses_among_the_flows_of_one_scheme(cli, config_path):
    cli("configure", "web", "--from-openapi", OPENAPI_30, "--scheme", "machine",
        "--grant-type", "authorization_code", "--client-id", "w", "--client-auth", "none",
        "--no-input")
    assert target(config_path, "web")["oauth2"]["grant_type"] == "authorization_code"


# ---------------------------------------------------------------------------
# OpenAPI, in CI: what is refused


def test_several_schemes_without_a_terminal_name_each_scheme_flag(cli, config_path):
    result = cli("configure", "payments", "--from-openapi", OPENAPI_30, "--no-input", expect=2)
    assert (f"error: {OPENAPI_30} describes 12 ways to authenticate: choose one with --scheme "
            "(not running interactively, so nothing is asked)") in result.err
    for value in ("machine:clientCredentials", "machine:authorizationCode", "clerk:password",
                  "user", "basicAuth", "bearerAuth", "digestAuth", "apiKeyHeader", "apiKeyQuery",
                  "sessionCookie", "partner", "partnerAlias"):
        assert f"--scheme {value}: " in result.err
    assert "--scheme machine:implicit" not in result.err
    assert ("Left out, as astra-auth cannot use them: machine:implicit (OAuth 2.0 implicit "
            "flow (not supported)); ") in result.err
    assert "negotiate (HTTP negotiate authentication (not supported))" in result.err
    assert not config_path.exists()


def test_a_scheme_name_with_several_flows_names_each_flow(cli):
    result = cli("configure", "payments", "--from-openapi", OPENAPI_30, "--scheme", "machine",
                 "--no-input", expect=2)
    assert "describes 2 ways to authenticate" in result.err
    assert "--scheme machine:clientCredentials: OAuth 2.0 Client Credentials" in result.err
    assert "--scheme machine:authorizationCode: OAuth 2.0 Authorization Code" in result.err


def test_an_unknown_scheme_lists_the_schemes_there_are(cli):
    result = cli("configure", "payments", "--from-openapi", OPENAPI_30, "--scheme", "nope",
                 "--no-input", expect=2)
    assert f"--scheme nope: {OPENAPI_30} has no security scheme of that name" in result.err
    assert "; machine:implicit (OAuth 2.0 implicit flow (not supported)); " in result.err


def test_the_implicit_flow_is_refused_with_what_to_use_instead(cli):
    result = cli("configure", "payments", "--from-openapi", OPENAPI_30, "--scheme",
                 "machine:implicit", "--no-input", expect=2)
    assert f"error: {OPENAPI_30}: the OAuth 2.0 implicit flow is not supported" in result.err
    assert "authorization code flow (with PKCE) instead" in result.err


def test_an_http_scheme_astra_auth_lacks_is_named_with_what_it_supports(cli):
    result = cli("configure", "payments", "--from-openapi", OPENAPI_30, "--scheme",
                 "negotiate", "--no-input", expect=2)
    assert (f"error: {OPENAPI_30}: components.securitySchemes.negotiate.scheme: HTTP "
            "'negotiate' authentication is not supported; astra-auth supports OAuth 2.0"
            in result.err)


def test_auth_type_flag_that_no_scheme_has_lists_what_the_document_has(cli):
    result = cli("configure", "x", "--from-openapi", SWAGGER_YAML, "--auth-type", "api_key",
                 "--no-input", expect=2)
    assert f"--auth-type api_key: {SWAGGER_YAML} describes no such way to authenticate" \
        in result.err
    assert "It describes: robot:application (OAuth 2.0 Client Credentials" in result.err


def test_a_document_that_cannot_be_read_says_where(cli, tmp_path):
    broken = write(tmp_path, "broken.yaml", "openapi: 3.0.0\ninfo: {title: x\npaths: {}\n")
    result = cli("configure", "x", "--from-openapi", broken, "--no-input", expect=2)
    assert (f"error: {broken}, line 3, column 6: not valid YAML: did not find expected ',' "
            "or '}'") in result.err
    shaped = write(tmp_path, "shaped.json", {"openapi": "3.1.0", "components": {
        "securitySchemes": {"k": {"type": "apiKey", "name": 5, "in": "header"}}}})
    result = cli("configure", "x", "--from-openapi", shaped, "--no-input", expect=2)
    assert (f"error: {shaped}: components.securitySchemes.k.name: expected text, found a "
            "number") in result.err
    result = cli("configure", "x", "--from-openapi", str(tmp_path / "none.yaml"),
                 "--no-input", expect=2)
    assert f"{tmp_path / 'none.yaml'}: no such file" in result.err


def test_a_document_without_schemes_says_so(cli, tmp_path):
    bare = write(tmp_path, "bare.json", {"openapi": "3.0.0", "servers": [
        {"url": "https://api.example.com"}], "paths": {}})
    result = cli("configure", "x", "--from-openapi", bare, "--no-input", expect=2)
    assert f"error: {bare} describes no way to authenticate (it has no security scheme)" \
        in result.err


@pytest.mark.parametrize("args,message", [
    (["--from-openapi", OPENAPI_30, "--from-postman", V21],
     "--from-openapi and --from-postman cannot be used together"),
    (["--scheme", "machine"], "--scheme: only with --from-openapi"),
    (["--item", "Admin"], "--item: only with --from-postman"),
    (["--environment", ENV], "--environment: only with --from-postman"),
    (["--from-postman", V21, "--scheme", "x"], "--scheme: only with --from-openapi"),
])
def test_import_flags_that_do_not_fit_together(cli, config_path, args, message):
    result = cli("configure", "x", *args, "--no-input", expect=2)
    assert message in result.err
    assert not config_path.exists()


def test_a_value_from_the_document_that_is_not_usable_names_the_setting(cli, tmp_path):
    bad = write(tmp_path, "bad.json", {"openapi": "3.0.0", "components": {"securitySchemes": {
        "k": {"type": "apiKey", "name": "X-Key", "in": "header"}}},
        "servers": [{"url": "https://api.example.com"}]})
    cli("configure", "x", "--from-openapi", bad, "--api-key-stdin", "--no-input",
        stdin="k-1234567890\n")
    collection = write(tmp_path, "c.json", {
        "info": {"name": "c", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/"
                 "collection.json"},
        "auth": {"type": "oauth2", "oauth2": [
            {"key": "grant_type", "value": "client_credentials"},
            {"key": "accessTokenUrl", "value": "https://idp.example.com/token"},
            {"key": "clientId", "value": "line\u001b[2Jbreak"}]},
        "item": []})
    result = cli("configure", "y", "--from-postman", collection, "--no-input", expect=2)
    assert f"error: {collection}: OAuth 2.0 Client Credentials: token URL " in result.err
    assert ": its client_id cannot be used: " in result.err


# ---------------------------------------------------------------------------
# Postman, in CI: each auth type


def test_postman_oauth2_with_environment_secret_to_keyring_and_a_warning(
        cli, config_path, store):
    result = cli("configure", "payments", "--from-postman", V21, "--environment", ENV,
                 "--no-input")
    assert target(config_path, "payments") == {
        "url": "https://api.payments.example.com/v2", "auth_type": "oauth2",
        "oauth2": {"grant_type": "client_credentials",
                   "token_url": "https://idp.staging.example.com/oauth2/token",
                   "client_id": "payments-scanner", "client_auth": "post",
                   "scope": "payments:read payments:write", "audience": "https://api.example.com",
                   "secrets": "keyring",
                   "extra_params": {"resource": "https://api.payments.example.com/v2"}}}
    assert store.data == {"payments:client_secret": FILE_SECRETS["client_secret"]}
    assert (f"! {ENV} holds secrets (client secret): anyone who can read the file can use "
            "them; keep it out of version control and away from others") in result.err
    assert (f"! {V21} holds secrets (a token from an earlier run of Postman)") in result.err
    assert ("The client secret from the file goes to the OS keyring when the settings are "
            "saved, never to the config file.") in result.err


def test_postman_secrets_are_left_to_variables_with_secrets_env(cli, config_path, store):
    result = cli("configure", "payments", "--from-postman", V21, "--environment", ENV,
                 "--secrets", "env", "--no-input")
    assert store.data == {}
    assert target(config_path, "payments")["oauth2"]["secrets"] == "env"
    assert (f"! {ENV} holds secrets (client secret) (none is stored here: secrets = env): "
            "anyone who can read the file can use them") in result.err
    assert ("ASTRA_AUTH_PAYMENTS_CLIENT_SECRET (or ASTRA_AUTH_CLIENT_SECRET) is not set here; "
            "set it wherever astra-auth runs") in result.err


def test_a_secret_given_with_a_flag_wins_over_the_files(cli, store):
    cli("configure", "payments", "--from-postman", V21, "--environment", ENV,
        "--client-secret-stdin", "--no-input", stdin=CLIENT_SECRET + "\n")
    assert store.data == {"payments:client_secret": CLIENT_SECRET}


def test_in_ci_a_variable_wins_over_the_files_secret(cli, store):
    cli("configure", "payments", "--from-postman", V21, "--environment", ENV, "--no-input",
        environ={"ASTRA_AUTH_PAYMENTS_CLIENT_SECRET": CLIENT_SECRET})
    assert store.data == {"payments:client_secret": CLIENT_SECRET}


def test_postman_unresolved_variables_are_missing_flags_with_the_environment_named(
        cli, config_path):
    result = cli("configure", "payments", "--from-postman", V21, "--no-input", expect=2)
    assert "clientSecret uses {{clientSecret}}, which neither the collection nor the " \
        "environment defines" in result.err
    assert ("- Give --environment with a Postman environment that defines {{clientSecret}}, "
            "or the flags for the values that use them.") in result.err
    assert "--client-secret-stdin (or ASTRA_AUTH_CLIENT_SECRET)" in result.err
    assert not config_path.exists()


def test_postman_password_grant_takes_both_secrets(cli, config_path, store):
    cli("configure", "me", "--from-postman", V21, "--environment", ENV, "--item",
        "Users/As a user", "--no-input")
    oauth = target(config_path, "me")["oauth2"]
    assert (oauth["grant_type"], oauth["username"]) == ("password", "jane.doe")
    assert store.data == {"me:client_secret": FILE_SECRETS["client_secret"],
                          "me:password": FILE_SECRETS["user_password"]}


def test_postman_authorization_code_with_pkce_is_a_public_client(cli, config_path, store):
    result = cli("configure", "web", "--from-postman", V21, "--environment", ENV, "--item",
                 "Users/In a browser", "--no-input")
    oauth = target(config_path, "web")["oauth2"]
    assert (oauth["grant_type"], oauth["client_auth"], oauth["authorization_url"]) == (
        "authorization_code", "none", "https://idp.staging.example.com/oauth2/authorize")
    assert store.data == {}
    assert "astra-auth login web" in result.err


def test_postman_basic_inherited_from_a_folder(cli, config_path, store):
    cli("configure", "audit", "--from-postman", V21, "--environment", ENV, "--item",
        "Admin/Audit log", "--no-input")
    assert target(config_path, "audit")["basic"] == {"username": "auditor",
                                                      "secrets": "keyring"}
    assert store.data == {"audit:password": FILE_SECRETS["admin_password"]}


def test_postman_bearer_token_by_item_id(cli, config_path, store):
    result = cli("configure", "rotate", "--from-postman", V21, "--item", "item-rotate",
                 "--no-input")
    assert target(config_path, "rotate")["auth_type"] == "bearer"
    assert store.data == {"rotate:bearer_token": FILE_SECRETS["rotate_token"]}
    assert f"! {V21} holds secrets (bearer token)" in result.err


def test_postman_api_key_in_the_query(cli, config_path, store):
    cli("configure", "search", "--from-postman", V21, "--environment", ENV, "--item",
        "Admin/Keys/Search", "--no-input")
    assert target(config_path, "search")["api_key"] == {
        "name": "api_key", "location": "query", "secrets": "keyring"}
    assert store.data == {"search:api_key": FILE_SECRETS["api_key"]}


def test_postman_v20_collection(cli, config_path):
    cli("configure", "old", "--from-postman", V20, "--environment", ENV20, "--secrets", "env",
        "--no-input")
    assert target(config_path, "old")["auth_type"] == "oauth2"


def test_postman_auth_astra_auth_lacks_is_named(cli):
    result = cli("configure", "o1", "--from-postman", V21, "--item", "Signed/OAuth 1",
                 "--no-input", expect=2)
    assert (f"error: {V21}: item[2].item[2].request.auth: Postman's OAuth 1.0 auth is not "
            "supported; astra-auth imports Postman's OAuth 2.0, Basic, Bearer Token, API Key, "
            "AWS Signature and Digest auth.") in result.err


def test_postman_collection_without_usable_auth_offers_its_items_by_flag(cli, tmp_path):
    collection = write(tmp_path, "items.json", {
        "info": {"name": "c", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/"
                 "collection.json"},
        "item": [
            {"id": "one", "name": "Admin", "auth": {"type": "basic", "basic": [
                {"key": "username", "value": "admin"}]},
             "item": [{"name": "List", "request": {"url": "https://api.example.com/a"}}]},
            {"id": "two", "name": "Keyed", "request": {"url": "https://api.example.com/k",
                                                       "auth": {"type": "apikey", "apikey": [
                                                           {"key": "key", "value": "X-Key"}]}}},
            {"id": "three", "name": "Also admin", "auth": {"type": "basic", "basic": [
                {"key": "username", "value": "admin"}]}, "item": []},
        ]})
    result = cli("configure", "x", "--from-postman", collection, "--no-input", expect=2)
    assert (f"error: {collection} describes 2 ways to authenticate: choose one with --item"
            in result.err)
    assert "--item Admin: Basic: a username and password" in result.err
    assert "--item Keyed: API key in the header X-Key" in result.err


def test_a_secret_in_the_file_that_cannot_be_used_is_refused_without_showing_it(
        cli, tmp_path_factory, leaks):
    folder = tmp_path_factory.mktemp("files")  # outside the leak guard's own folder
    secret = "multi\u0000line-secret-98765"
    leaks.watch(secret)
    collection = write(folder, "c.json", {
        "info": {"name": "c", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/"
                 "collection.json"},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": secret}]}, "item": []})
    result = cli("configure", "x", "--from-postman", collection, "--no-input", expect=2)
    assert (f"error: {collection}: the bearer token it holds cannot be used: the bearer token "
            "contains a line break or NUL character") in result.err


# ---------------------------------------------------------------------------
# At a terminal


def test_the_question_takes_an_openapi_path_and_asks_only_what_it_cannot_say(
        cli, config_path, store):
    prompter = ScriptedPrompter([
        Step("text", "Target name", "payments"),
        Step("text", QUESTION, OPENAPI_30),
        Step("select", "describes 12 ways to authenticate; which one", 0),
        Step("text", "Client ID", "scanner-app"),
        Step("select", "Client authentication", None),
        Step("secret", "Client secret", CLIENT_SECRET),
        Step("text", "Audience", ""),
        Step("text", "Extra token parameters", ""),
        *SAVE,
    ])
    result = cli("configure", tty=True, prompter=prompter)
    assert ("Left out, as astra-auth cannot use them: machine:implicit (OAuth 2.0 implicit "
            "flow (not supported)); ") in result.err
    assert target(config_path, "payments")["oauth2"]["token_url"] == (
        "https://idp.example.com/oauth2/token")
    assert store.data == {"payments:client_secret": CLIENT_SECRET}
    assert "Summary" in result.out


def test_the_pick_list_says_what_each_scheme_is(cli, config_path):
    seen: list[tuple[str, str]] = []

    class Recording(ScriptedPrompter):
        def select(self, message, choices, default=0):  # type: ignore[no-untyped-def]
            if "ways to authenticate" in message:
                seen.extend((c.label, c.help) for c in choices)
            return super().select(message, choices, default)

    prompter = Recording([
        Step("select", "ways to authenticate", 4),  # basicAuth
        Step("text", "Username", "scanner"),
        Step("secret", "Password", PASSWORD),
        *SAVE,
    ])
    cli("configure", "legacy", "--from-openapi", OPENAPI_30, tty=True, prompter=prompter)
    assert seen[:5] == [
        ("machine:clientCredentials", "OAuth 2.0 Client Credentials: token URL "
         "https://idp.example.com/oauth2/token, scope payments:read payments:audit "
         "payments:write refunds:write"),
        ("machine:authorizationCode", "OAuth 2.0 Authorization Code: token URL "
         "https://idp.example.com/oauth2/token, scope payments:read payments:audit "
         "payments:write refunds:write"),
        ("clerk:password", "OAuth 2.0 Resource Owner Password: token URL "
         "https://idp.example.com/oauth2/token, scope refunds:write"),
        ("user", "OpenID Connect: discovery at "
         "https://login.example.com/realms/main/.well-known/openid-configuration"),
        ("basicAuth", "HTTP Basic: a username and password"),
    ]
    assert target(config_path, "legacy")["basic"]["username"] == "scanner"


def test_the_question_takes_a_postman_collection_and_offers_an_environment(
        cli, config_path, store):
    prompter = ScriptedPrompter([
        Step("text", QUESTION, V21),
        Step("text", "Postman environment file that defines {{clientSecret}}", ENV),
        *SAVE,  # the collection says the rest, audience and extra parameters included
    ])
    result = cli("configure", "payments", tty=True, prompter=prompter)
    oauth = target(config_path, "payments")["oauth2"]
    assert (oauth["client_id"], oauth["client_auth"]) == ("payments-scanner", "post")
    assert store.data == {"payments:client_secret": FILE_SECRETS["client_secret"]}
    assert f"! {ENV} holds secrets (client secret)" in result.err


def test_without_an_environment_the_values_it_would_give_are_asked(cli, store):
    prompter = ScriptedPrompter([
        Step("text", QUESTION, V21),
        Step("text", "Postman environment file", ""),
        Step("secret", "Client secret", CLIENT_SECRET),
        *SAVE,
    ])
    cli("configure", "payments", tty=True, prompter=prompter)
    assert store.data == {"payments:client_secret": CLIENT_SECRET}


def test_a_path_that_cannot_be_read_is_said_and_enter_goes_on_without(cli, tmp_path,
                                                                       config_path):
    prompter = ScriptedPrompter([
        Step("text", QUESTION, str(tmp_path / "missing.yaml")),
        Step("text", QUESTION, ""),
        Step("text", "API URL", "https://api.example.com"),
        Step("select", "Authentication type", 2),  # Bearer token
        Step("secret", "Bearer token", "static-1234567890"),
        *SAVE,
    ])
    result = cli("configure", "static", tty=True, prompter=prompter)
    assert f"! {tmp_path / 'missing.yaml'}: no such file" in result.err
    assert "Give another file or URL, or press Enter to type the settings." in result.err
    assert target(config_path, "static")["auth_type"] == "bearer"


def test_a_document_with_nothing_usable_is_said_and_asked_again(cli, tmp_path):
    only = write(tmp_path, "implicit.json", {"openapi": "3.0.0", "components": {
        "securitySchemes": {"web": {"type": "oauth2", "flows": {"implicit": {
            "authorizationUrl": "https://idp.example.com/authorize", "scopes": {}}}}}}})
    prompter = ScriptedPrompter([
        Step("text", QUESTION, only),
        Step("text", QUESTION, KeyboardInterrupt),
    ])
    result = cli("configure", "web", tty=True, prompter=prompter, expect=130)
    assert f"! {only}: the OAuth 2.0 implicit flow is not supported" in result.err


def test_the_question_is_not_asked_when_type_flags_chose_the_settings(cli, store):
    prompter = ScriptedPrompter([
        Step("text", "API URL", ""),
        Step("select", "Authentication type", 0),
        Step("secret", "Client secret", CLIENT_SECRET),
        Step("text", "Scope", ""), Step("text", "Audience", ""),
        Step("text", "Extra token parameters", ""),
        *SAVE,
    ])
    cli("configure", "new-one", "--grant-type", "client_credentials", "--token-url",
        "https://idp.example.com/oauth/token", "--client-id", "abc", "--client-auth", "post",
        tty=True, prompter=prompter)
    assert store.data == {"new-one:client_secret": CLIENT_SECRET}


def test_importing_into_a_configured_target_shows_its_settings_to_change(cli, config_path,
                                                                         store):
    cli("configure", "payments", "--grant-type", "client_credentials", "--token-url",
        "https://old.example.com/token", "--client-id", "scanner-app",
        environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    prompter = ScriptedPrompter([Step("select", "Which setting?", None), *SAVE])
    result = cli("configure", "payments", "--from-openapi", OPENAPI_30, "--scheme",
                 "machine:clientCredentials", tty=True, prompter=prompter)
    oauth = target(config_path, "payments")["oauth2"]
    assert oauth["token_url"] == "https://idp.example.com/oauth2/token"
    assert oauth["client_id"] == "scanner-app"
    token_row = next(line for line in result.out.splitlines() if "Access Token URL" in line)
    assert "← changed" in token_row
    assert store.data == {"payments:client_secret": CLIENT_SECRET}


@pytest.mark.parametrize("scheme,asked,saved", [
    ("apiKeyQuery", [Step("secret", "API key", "k-1234567890")],
     {"auth_type": "api_key", "api_key": {"name": "api_key", "location": "query",
                                          "secrets": "keyring"}}),
    ("bearerAuth", [Step("secret", "Bearer token", "static-1234567890")],
     {"auth_type": "bearer", "bearer": {"secrets": "keyring"}}),
    ("basicAuth", [Step("text", "Username", "scanner"), Step("secret", "Password", PASSWORD)],
     {"auth_type": "basic", "basic": {"username": "scanner", "secrets": "keyring"}}),
    ("clerk", [Step("text", "Client ID", "desk"),
               Step("select", "Client authentication", None),
               Step("secret", "Client secret", CLIENT_SECRET),
               Step("text", "Username", "john.doe"), Step("secret", "Password", PASSWORD),
               Step("text", "Audience", None), Step("text", "Extra token parameters", None)],
     {"grant_type": "password", "username": "john.doe", "scope": "refunds:write"}),
])
def test_at_a_terminal_each_kind_asks_only_what_the_document_cannot_say(
        cli, config_path, scheme, asked, saved):
    prompter = ScriptedPrompter([*asked, *SAVE])
    cli("configure", "t", "--from-openapi", OPENAPI_30, "--scheme", scheme, tty=True,
        prompter=prompter)
    entry = target(config_path, "t")
    if "auth_type" in saved:
        assert {k: entry[k] for k in saved} == saved
    else:
        assert {k: entry["oauth2"][k] for k in saved} == saved
    assert entry["url"] == "https://eu.payments.example.com:8443/v2"


def test_at_a_terminal_the_device_flow_asks_the_client_and_offers_the_login(cli, config_path):
    prompter = ScriptedPrompter([
        Step("select", "describes 2 ways to authenticate", None),  # tv, then oldKey
        Step("text", "Client ID", "tv-app"),
        Step("select", "Client authentication", 4),  # none: a public client
        Step("text", "Audience", None), Step("text", "Extra token parameters", None),
        Step("confirm", "Save", True),
        Step("confirm", "Log in now?", False),
    ])
    result = cli("configure", "tv", "--from-openapi", OPENAPI_32, tty=True, prompter=prompter)
    assert "Left out, as astra-auth cannot use them" not in result.err
    assert "astra-auth login tv" in result.err
    assert target(config_path, "tv")["oauth2"]["device_authorization_url"] == (
        "https://idp.example.com/tenants/tv/device")


def test_at_a_terminal_a_postman_password_grant_asks_nothing_the_files_give(
        cli, config_path, store):
    prompter = ScriptedPrompter(SAVE)
    result = cli("configure", "me", "--from-postman", V21, "--environment", ENV, "--item",
                 "Users/As a user", tty=True, prompter=prompter)
    assert "The client secret and password from the file go to the OS keyring" in result.err
    assert store.data == {"me:client_secret": FILE_SECRETS["client_secret"],
                          "me:password": FILE_SECRETS["user_password"]}
    assert "•••••• (new, to the OS keyring)" in result.out
    assert target(config_path, "me")["oauth2"]["username"] == "jane.doe"


def test_hostile_scheme_names_are_shown_escaped_and_quoted(cli, tmp_path):
    document = write(tmp_path, "hostile.json", {
        "openapi": "3.1.0", "servers": [{"url": "https://api.example.com"}],
        "components": {"securitySchemes": {
            "a b$(touch pwned)": {"type": "http", "scheme": "bearer"},
            "\u001b]52;c;aGk=\u0007\u202e": {"type": "apiKey", "name": "X-Key",
                                                "in": "header"}}}})
    result = cli("configure", "h", "--from-openapi", document, "--no-input", expect=2)
    # Quoted for a shell; its control characters escaped (the leak guard fails the
    # test on any raw one in an output).
    assert "--scheme 'a b$(touch pwned)': HTTP Bearer token, issued elsewhere" in result.err
    assert "\\x1b]52;c;aGk=\\x07\\u202e" in result.err
    prompter = ScriptedPrompter([Step("select", "ways to authenticate", 1),
                                 Step("secret", "API key", "k-1234567890"), *SAVE])
    cli("configure", "h", "--from-openapi", document, tty=True, prompter=prompter)


@pytest.mark.parametrize("item,auth_type,settings,secrets", [
    ("Signed/Digest", "digest", {"username": "scanner"}, {"password": FILE_SECRETS["digest"]}),
    ("Signed/AWS", "aws_sigv4", {"access_key_id": "AKIAIOSFODNN7EXAMPLE",
                                 "region": "eu-central-1", "service": "execute-api"},
     {"secret_access_key": FILE_SECRETS["aws"]}),
])
def test_signed_types_are_imported(cli, config_path, store, item,
                                                          auth_type, settings, secrets):
    cli("configure", "signed", "--from-postman", V21, "--environment", ENV, "--item", item,
        "--no-input")
    entry = target(config_path, "signed")
    assert entry["auth_type"] == auth_type
    assert {k: entry[auth_type][k] for k in settings} == settings
    assert store.data == {f"signed:{kind}": value for kind, value in secrets.items()}
