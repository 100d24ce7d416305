"""From the API's own documents to a passing `test-token`, against the suite's
real OAuth servers (Authlib's, tests/servers/authserver.py; panva's
oidc-provider, tests/oidc), with only the client ID and secret typed; and a
collection made by Postman's own converter (openapi-to-postmanv2) from a test
document, imported, then run with Newman through `astra-auth proxy`."""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import strip_ansi
from tests.fakes import CLIENT_SECRET, ScriptedPrompter, Step
from tests.postman_tools import DOCUMENTS, convert
from tests.test_scanners import (  # noqa: F401 - astra_proxy is a fixture
    assert_every_request_authenticated_across_renewals,
    astra_proxy,
    newman_cli,
    run,
)

QUESTION = "OpenAPI document or a Postman collection"


def write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
    return path


def openapi_for(idp) -> dict:  # type: ignore[no-untyped-def]
    """What the owners of Authlib's test API would publish: its URL and its
    client credentials scheme, with the scope its operations require."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Things", "version": "1"},
        "servers": [{"url": f"{idp.base}/api/resource"}],
        "security": [{"machine": ["read:things"]}],
        "paths": {"/": {"get": {"responses": {"200": {"description": "ok"}}}}},
        "components": {"securitySchemes": {"machine": {
            "type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": idp.token_url, "scopes": {"read:things": ""}}}}}},
    }


def test_openapi_file_to_a_passing_test_token_typing_only_client_id_and_secret(
        cli, idp, tmp_path, store):
    document = write(tmp_path, "openapi.json", openapi_for(idp))
    steps = [
        Step("text", "Target name", "things"),
        Step("text", QUESTION, str(document)),
        Step("text", "Client ID", "scanner-app"),
        Step("select", "Client authentication", None),
        Step("secret", "Client secret", CLIENT_SECRET),
        Step("text", "Audience", None),
        Step("text", "Extra token parameters", None),
        Step("confirm", "Save", None),
        Step("confirm", "Run test-token", None),
    ]
    # None is Enter: besides the target's name and the document, only the client ID
    # and the secret are typed (and the prompter fails on any question not scripted).
    assert [s.answer for s in steps if s.answer is not None] == [
        "things", str(document), "scanner-app", CLIENT_SECRET]
    result = cli("configure", tty=True, prompter=ScriptedPrompter(steps))
    assert "things: token obtained" in result.out
    assert "API check" in result.out and "200" in result.out
    oauth = tomllib.loads(cli.config_path.read_text())["targets"]["things"]
    assert oauth["url"] == f"{idp.base}/api/resource"
    assert oauth["oauth2"]["scope"] == "read:things"
    assert store.data == {"things:client_secret": CLIENT_SECRET}


def test_openid_connect_document_to_a_passing_test_token(cli, oidc, tmp_path, leaks):
    document = write(tmp_path, "openapi.yaml", (
        "openapi: 3.0.3\n"
        "info: {title: Things, version: '1'}\n"
        "paths: {}\n"
        "components:\n"
        "  securitySchemes:\n"
        "    login:\n"
        "      type: openIdConnect\n"
        f"      openIdConnectUrl: {oidc.issuer}/.well-known/openid-configuration\n"))
    prompter = ScriptedPrompter([
        Step("text", QUESTION, str(document)),
        Step("text", "API URL", None),  # the document names no server
        Step("select", "Grant type", None),  # Client Credentials
        Step("text", "Client ID", "oidc-basic"),
        Step("select", "Client authentication", None),  # basic, as the metadata prefers
        Step("secret", "Client secret", oidc.secret),
        Step("text", "Audience", None),
        Step("text", "Extra token parameters", None),
        Step("confirm", "Save", None),
        Step("confirm", "Run test-token", None),
    ])
    result = cli("configure", "oidc", tty=True, prompter=prompter)
    assert f"Access Token URL from {oidc.issuer}/.well-known/openid-configuration: " \
        f"{oidc.token_url}" in result.err
    assert "oidc: token obtained" in result.out
    saved = tomllib.loads(cli.config_path.read_text())["targets"]["oidc"]["oauth2"]
    assert (saved["token_url"], saved["client_auth"]) == (oidc.token_url, "basic")


def test_postman_collection_to_a_passing_test_token_typing_only_client_id_and_secret(
        cli, idp, tmp_path, store):
    collection = write(tmp_path, "things.postman_collection.json", {
        "info": {"name": "Things", "schema": "https://schema.getpostman.com/json/collection/"
                 "v2.1.0/collection.json"},
        "auth": {"type": "oauth2", "oauth2": [
            {"key": "grant_type", "value": "client_credentials"},
            {"key": "accessTokenUrl", "value": "{{idp}}/oauth/token"},
            {"key": "clientId", "value": "{{clientId}}"},
            {"key": "clientSecret", "value": "{{clientSecret}}"},
            {"key": "client_authentication", "value": "body"},
            {"key": "scope", "value": "read:things"}]},
        "variable": [{"key": "idp", "value": idp.base},
                     {"key": "baseUrl", "value": f"{idp.base}/api"}],
        "item": [{"name": "Resource", "request": {"method": "GET",
                                                  "url": "{{baseUrl}}/resource"}}]})
    prompter = ScriptedPrompter([
        Step("text", QUESTION, str(collection)),
        Step("text", "Postman environment file that defines {{clientId}}, {{clientSecret}}",
             None),  # none: the two values are typed instead
        Step("text", "Client ID", "scanner-app"),
        Step("secret", "Client secret", CLIENT_SECRET),
        Step("confirm", "Save", None),
        Step("confirm", "Run test-token", None),
    ])
    result = cli("configure", "things", "--url", f"{idp.base}/api/resource", tty=True,
                 prompter=prompter)
    assert "things: token obtained" in result.out
    oauth = tomllib.loads(cli.config_path.read_text())["targets"]["things"]["oauth2"]
    assert (oauth["client_auth"], oauth["scope"]) == ("post", "read:things")
    assert store.data == {"things:client_secret": CLIENT_SECRET}


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[Path, str]]:  # type: ignore[no-untyped-def]
    """A folder served over http on loopback, as a team's docs server would."""
    folder = tmp_path / "site"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_openapi_by_url_in_ci_with_test_exits_with_the_tests_code(cli, idp, served):
    folder, base = served
    write(folder, "openapi.json", openapi_for(idp))
    result = cli("configure", "things", "--from-openapi", f"{base}/openapi.json",
                 "--client-id", "scanner-app", "--client-secret-stdin", "--test", "--no-input",
                 stdin=CLIENT_SECRET + "\n")
    assert f"From {base}/openapi.json (OpenAPI 3.1.0)" in result.err
    assert "things: token obtained" in result.out
    # The same with a wrong client ID: test-token's own exit code, 4 (invalid_client).
    cli("configure", "things", "--from-openapi", f"{base}/openapi.json", "--client-id",
        "nobody", "--test", "--no-input", expect=4)


def test_a_document_url_that_redirects_is_refused(cli, served):
    folder, base = served
    (folder / "docs").mkdir()
    write(folder / "docs", "index.html", "<html></html>")
    # The folder's URL without its slash: the server answers 301 to add it.
    result = cli("configure", "things", "--from-openapi", f"{base}/docs", "--no-input",
                 expect=2)
    assert (f"{base}/docs: the server answered HTTP 301 (a redirect to /docs/); astra-auth "
            "follows no redirect: give the document's own URL") in result.err


# ---------------------------------------------------------------------------
# Postman's converter, then Newman through the proxy


def test_converted_collection_imported_then_run_with_newman_through_the_proxy(
        proc, steady_target, astra_proxy, tmp_path, leaks):  # noqa: F811
    newman = newman_cli()
    api = steady_target.api
    document = tmp_path / "scan-api.yaml"
    document.write_text((DOCUMENTS / "scan-api.yaml").read_text().replace(
        "http://127.0.0.1:8080", api.base))
    convert(tmp_path, {"scan-api": document})
    collection = tmp_path / "scan-api.v21.json"
    # What Postman's converter made of the scheme: the collection's auth.
    auth = json.loads(collection.read_text())["auth"]
    assert auth["type"] == "oauth2"
    proc("configure", "converted", "--from-postman", str(collection), "--client-id",
         "scan-steady", "--secrets", "env", "--no-input")
    saved = tomllib.loads(proc.config_path.read_text())["targets"]["converted"]
    assert saved["url"] == api.base
    assert (saved["oauth2"]["token_url"], saved["oauth2"]["scope"]) == (
        api.token_url, "read:things")
    proxy = astra_proxy("converted")
    done = run(leaks, [newman, "run", str(collection), "--env-var", f"baseUrl={proxy}",
                       "--reporters", "cli", "--color", "off"], dict(proc.env), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"requests\s*│\s*3\s*│\s*0\s*│", strip_ansi(done.stdout))
    log = api.log()
    assert [(r.method, r.valid) for r in log] == [("GET", True), ("POST", True),
                                                   ("GET", True)]
    assert {r.client for r in log} == {"scan-steady"}


def test_a_converted_collection_whose_own_auth_is_unusable_takes_its_requests(cli, tmp_path):
    convert(tmp_path, {"payments": DOCUMENTS / "openapi-3.0.yaml"})
    collection = str(tmp_path / "payments.v21.json")
    # The converter gave the collection the first flow of the global scheme, implicit;
    # the one request with an auth astra-auth can use is /legacy's (Basic).
    result = cli("configure", "p", "--from-postman", collection, "--username", "u",
                 "--no-input", environ={"ASTRA_AUTH_PASSWORD": "pw-1234567890"})
    assert ("Left out, as astra-auth cannot use them: the collection (OAuth 2.0 implicit "
            "(not supported))") in result.err
    assert (f"From {collection} (Postman collection v2.1), the auth of request '/legacy': "
            "Basic: a username and password.") in result.err
    saved = tomllib.loads(cli.config_path.read_text())["targets"]["p"]
    assert (saved["auth_type"], saved["basic"]["username"]) == ("basic", "u")
    assert saved["url"] == "https://eu.payments.example.com:8443/v2"
