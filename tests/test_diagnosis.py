"""A `Diagnosis` and its renderings: the JSON object and the panel are built
from the typed result alone, with plain values (no server).  Then the hints,
from `hints_for` and as test-token gives them against real servers."""

from __future__ import annotations

import ast
import json
import uuid
from dataclasses import replace
from pathlib import Path

from astra_auth.commands.shared.report import print_panel, to_json
from astra_auth.commands.shared.verbose import answer_lines, request_lines, response_lines
from astra_auth.core.failure import Category, Failure
from astra_auth.diagnosis.apicheck import ApiCheck
from astra_auth.diagnosis.diagnose import Diagnosis, TokenFacts
from astra_auth.diagnosis.hints import Context, hints_for
from astra_auth.oauth.grant import Exchange
from astra_auth.oauth.token_response import RawResponse
from astra_auth.storage.config import Basic, OAuth2, Target
from astra_auth.text.redact import Redactor
from astra_auth.text.safetext import dumps
from tests.fakes import CLIENT_SECRET, add_client, make_deps, run_test_token_json

TOKEN_URL = "https://idp.example.com/oauth/token"


def oauth2_target(grant_type: str = "client_credentials", **more: object) -> Target:
    return Target(name="payments-api", url="https://api.example.com", auth_type="oauth2",
                  oauth2=OAuth2(grant_type=grant_type, token_url=TOKEN_URL,
                                client_id="scanner-app"), **more)  # type: ignore[arg-type]


def facts(**more: object) -> TokenFacts:
    values: dict[str, object] = {
        "token_type": "Bearer", "expires_in": 3600, "scope": "read:things",
        "jwt_claims": {"sub": "scanner-app"}, "client_auth": "basic", "http_status": 200}
    values.update(more)
    return TokenFacts(**values)  # type: ignore[arg-type]


def test_json_of_a_token_the_api_refused_keeps_the_token_facts_then_adds_the_error():
    refused = Failure(Category.API_FORBIDDEN, "The API answered 403 Forbidden.",
                      http_status=403, oauth_error="insufficient_scope")
    diagnosis = Diagnosis(
        oauth2_target(), facts(), refused, ["Ask for the scope."], ["a warning"],
        secret_sources={"client_secret": "keyring"},
        api=ApiCheck(url="https://api.example.com/", http_status=403, ok=False,
                     www_authenticate='Bearer error="insufficient_scope"', elapsed_ms=35),
        elapsed_ms=84)
    data = to_json(diagnosis)
    assert list(data) == ["ok", "target", "grant_type", "token_url", "http_status", "token_type",
                          "expires_in", "scope", "refresh_token_issued", "jwt_claims",
                          "client_auth", "elapsed_ms", "warnings", "auth_type",
                          "secret_sources", "api", "error", "hints"]
    assert data == {
        "ok": False, "target": "payments-api", "grant_type": "client_credentials",
        "token_url": TOKEN_URL, "http_status": 200, "token_type": "Bearer",
        "expires_in": 3600, "scope": "read:things", "refresh_token_issued": False,
        "jwt_claims": {"sub": "scanner-app"}, "client_auth": "basic", "elapsed_ms": 84,
        "warnings": ["a warning"], "auth_type": "oauth2",
        "secret_sources": {"client_secret": "keyring"},
        "api": {"url": "https://api.example.com/", "http_status": 403, "ok": False,
                "www_authenticate": 'Bearer error="insufficient_scope"', "elapsed_ms": 35},
        "error": {"category": "api_forbidden", "message": "The API answered 403 Forbidden.",
                  "http_status": 403, "oauth_error": "insufficient_scope",
                  "oauth_error_description": None},
        "hints": ["Ask for the scope."],
    }
    assert diagnosis.exit_code == 7


def test_json_of_a_failed_grant_names_the_error_and_no_token_fields():
    failure = Failure(Category.INVALID_CLIENT, "The provider rejected the request: "
                      "invalid_client", http_status=401, oauth_error="invalid_client")
    data = to_json(Diagnosis(oauth2_target(), None, failure, ["Check the secret."],
                             secret_sources={"client_secret": "ASTRA_AUTH_CLIENT_SECRET"},
                             elapsed_ms=91))
    assert json.loads(dumps(data)) == {
        "ok": False, "target": "payments-api", "grant_type": "client_credentials",
        "token_url": TOKEN_URL,
        "error": {"category": "invalid_client",
                  "message": "The provider rejected the request: invalid_client",
                  "http_status": 401, "oauth_error": "invalid_client",
                  "oauth_error_description": None},
        "hints": ["Check the secret."], "elapsed_ms": 91, "warnings": [],
        "auth_type": "oauth2", "secret_sources": {"client_secret": "ASTRA_AUTH_CLIENT_SECRET"},
        "api": None,
    }


def test_json_of_a_type_without_a_token_endpoint_has_null_grant_fields():
    target = Target(name="legacy", auth_type="basic", basic=Basic(username="scanner"))
    failure = Failure(Category.MISSING_SECRET, "No password for legacy.")
    data = to_json(Diagnosis(target, None, failure, ["Store it."],
                             secret_sources={"password": "missing"}))
    assert list(data) == ["ok", "target", "grant_type", "token_url", "http_status", "error",
                          "hints", "elapsed_ms", "warnings", "auth_type", "secret_sources",
                          "api"]
    assert (data["grant_type"], data["token_url"], data["http_status"]) == (None, None, None)
    assert data["error"]["category"] == "missing_secret"


def test_only_the_login_grants_report_when_the_refresh_token_expires():
    login = to_json(Diagnosis(oauth2_target("device_code"),
                              facts(refresh_token_issued=True, refresh_token_expires_in=None)))
    assert login["refresh_token_expires_in"] is None
    assert "refresh_token_expires_in" not in to_json(Diagnosis(oauth2_target(), facts()))


def test_a_warning_acknowledged_at_configure_is_in_the_json_but_not_in_the_panel(
        tmp_path: Path, capsys):  # type: ignore[no-untyped-def]
    said = "idp.example.com resolves to private address 10.0.0.5: a scanner outside..."
    diagnosis = Diagnosis(oauth2_target(private_host_ok="idp.example.com"), facts(),
                          warnings=[said, "The token expires in 30 seconds."],
                          acknowledged=[said])
    assert to_json(diagnosis)["warnings"] == [said, "The token expires in 30 seconds."]
    print_panel(diagnosis, make_deps(tmp_path / "config.toml"))
    shown = capsys.readouterr().out
    assert "The token expires in 30 seconds." in shown
    assert "10.0.0.5" not in shown
    assert "payments-api: token obtained" in shown


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_command_imports_another_commands_module():
    """configure checks and logs in through the diagnosis layer and the shared
    login flow, never through `test_token` or `login`.  `shared` (flows and
    rendering) and `options` (every command's options dataclass, which the CLI
    reads without importing the command) are not commands."""
    import astra_auth.commands

    root = Path(astra_auth.commands.__file__).parent
    commands = {p.stem if p.is_file() else p.name
                for p in root.iterdir()
                if (p.suffix == ".py" and p.stem != "__init__")
                or (p.is_dir() and (p / "__init__.py").exists()
                    and p.name not in ("shared", "options"))}
    crossings = []
    for path in root.rglob("*.py"):
        own = path.relative_to(root).parts[0].removesuffix(".py")
        for name in _imported_modules(path):
            parts = name.split(".")
            if parts[:2] == ["astra_auth", "commands"] and len(parts) > 2 \
                    and parts[2] in commands and parts[2] != own:
                crossings.append(f"{path.relative_to(root)} imports {name}")
    assert commands >= {"configure", "login", "test_token"}
    assert crossings == []


# ---------------------------------------------------------------------------
# --verbose: an exchange, masked by name and by value


def test_verbose_request_masks_the_authorization_header_and_credential_fields():
    exchange = Exchange("basic", TOKEN_URL,
                        headers={"Accept": "application/json",
                                 "Authorization": "Basic c2Nhbm5lcjpzM2NyM3Q="},
                        form={"grant_type": "password", "username": "john.doe",
                              "password": "pw-3c1d9e", "scope": "read things"}, sent=True)
    assert request_lines(exchange, Redactor("pw-3c1d9e")) == [
        f"POST {TOKEN_URL}", "Accept: application/json", "Authorization: Basic ••••••",
        "Content-Type: application/x-www-form-urlencoded", "",
        "grant_type=password&username=john.doe&password=••••••&scope=read+things"]


def test_verbose_answer_masks_cookies_token_fields_and_known_secrets_anywhere():
    body = json.dumps({"data": {"access_token": "at-5e1f"},
                       "note": "echo of cs-9d2e7f41"}).encode()
    raw = RawResponse(200, "OK", [("Set-Cookie", "sid=abc"), ("Content-Type", "application/json")],
                      body, False)
    assert answer_lines(raw, Redactor("cs-9d2e7f41")) == [
        "HTTP 200 OK", "Set-Cookie: ••••••", "Content-Type: application/json", "",
        '{\n  "data": {\n    "access_token": "••••••"\n  },\n  "note": "echo of ••••••"\n}']


def test_verbose_says_why_an_exchange_has_no_answer():
    unsigned = Exchange("private_key_jwt", TOKEN_URL,
                        failure=Failure(Category.INVALID_KEY, "The key cannot sign."))
    assert request_lines(unsigned, Redactor()) == [f"POST {TOKEN_URL}"]
    assert response_lines(unsigned, Redactor()) == ["(not sent: The key cannot sign.)"]
    timed_out = Exchange("basic", TOKEN_URL, headers={}, form={}, sent=True,
                         failure=Failure(Category.TIMEOUT, "No answer within 10 seconds."))
    assert response_lines(timed_out, Redactor()) == [
        "(no answer: timeout: No answer within 10 seconds.)"]


# ---------------------------------------------------------------------------
# Hints: no contradiction, no repeat, the guide only where it can be the cause

GUIDE_REACH = ("Verify that the Access Token URL is reachable from the scanner's environment and "
               "that the Client ID and Client Secret are correct.")
CTX_CC = Context("payments-api", "client_credentials", "scanner-app", "basic",
                 "https://idp.example.com/oauth/token")


def test_once_both_methods_failed_the_other_method_is_not_suggested():
    failure = Failure("invalid_client", "m", details={
        "other_client_auth": "post", "other_client_auth_result": "invalid_client"})
    text = "\n".join(hints_for(failure, CTX_CC))
    assert "--client-auth post" not in text
    assert "which failed too" in text
    failure = Failure("http_error", "m", http_status=401, details={
        "other_client_auth": "post", "other_client_auth_result": "401"})
    assert "--client-auth" not in "\n".join(hints_for(failure, CTX_CC))


def test_the_generic_guide_only_where_the_client_and_its_secret_can_be_the_cause():
    # Not where the token endpoint was never reached, nor where it said what was
    # wrong with the request rather than the client.
    for category in ("dns_error", "connection_refused", "connection_error", "timeout",
                     "tls_error", "redirect", "not_found", "method_not_allowed", "rate_limited",
                     "server_error", "not_json", "invalid_token_response", "invalid_request",
                     "invalid_grant", "invalid_scope"):
        assert GUIDE_REACH not in hints_for(Failure(category, "m"), CTX_CC), category
    # The provider refused the client without a reason, or with its own code.
    for failure in (Failure("invalid_client", "m"), Failure("http_error", "m", http_status=401),
                    Failure("http_error", "m", http_status=400),
                    Failure("oauth_error", "m", oauth_error="unauthorized")):
        assert hints_for(failure, CTX_CC)[-1] == GUIDE_REACH, failure.category
    # A client without a secret (public, or with a key): the guide's "Client Secret"
    # cannot be the cause.
    for method in ("none", "private_key_jwt", "tls_client_auth"):
        ctx = replace(CTX_CC, client_auth=method)
        for category in ("invalid_client", "http_error", "oauth_error"):
            assert GUIDE_REACH not in hints_for(Failure(category, "m", http_status=401), ctx), (
                method, category)


def test_one_second_is_singular():
    failure = Failure("rate_limited", "m", details={"retry_after": "1"})
    assert hints_for(failure, CTX_CC)[0] == "Wait 1 second before trying again."


def test_a_redirect_to_a_token_endpoint_gives_the_ready_command_and_nothing_contrary():
    failure = Failure("redirect", "m", details={
        "location": "https://login.example.com/tenant/oauth2/v2.0/token"})
    assert hints_for(failure, CTX_CC) == [
        "The provider sends token requests on to "
        "https://login.example.com/tenant/oauth2/v2.0/token, which looks like its token "
        "endpoint: save it with: astra-auth configure payments-api --token-url "
        "https://login.example.com/tenant/oauth2/v2.0/token --no-input",
        "astra-auth never re-sends credentials to a redirect's location: the saved URL must "
        "be the one that answers.",
    ]
    login = Failure("redirect", "m", details={"location": "https://idp.example.com/login"})
    assert "looks like its token endpoint" not in " ".join(hints_for(login, CTX_CC))


def test_a_404_cites_no_discovery_document_that_was_not_found(cli, faults):
    add_client(cli, "pay", faults.url(f"{uuid.uuid4().hex}/tokn"), environ={
        "ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    data = run_test_token_json(cli, "pay", 6, metadata_lookup="network")
    assert data["error"]["category"] == "not_found"
    assert not any("well-known" in hint for hint in data["hints"])


def test_a_404_cites_the_discovery_document_under_the_token_urls_prefix(cli, faults):
    # django-oauth-toolkit serves its metadata under /o/, beside its /o/token/.
    prefix = f"{uuid.uuid4().hex}/o"
    issuer = faults.url(prefix)
    faults.answer(f"{prefix}/.well-known/openid-configuration", {
        "issuer": issuer, "token_endpoint": f"{issuer}/token/",
        "authorization_endpoint": f"{issuer}/authorize/"})
    add_client(cli, "pay", f"{issuer}/tokn/", environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    data = run_test_token_json(cli, "pay", 6, metadata_lookup="network")
    assert data["hints"][0] == (
        f"The provider's discovery document ({issuer}/.well-known/openid-configuration) names "
        f"the token endpoint {issuer}/token/: astra-auth configure pay --token-url "
        f"{issuer}/token/ --no-input")


def test_a_token_that_lives_one_second_says_second(cli, faults):
    url = faults.answer(f"{uuid.uuid4().hex}/token", {
        "access_token": "tk-opaque-short-lived-4f1c", "token_type": "Bearer",
        "expires_in": 1})
    add_client(cli, "pay", url, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    data = run_test_token_json(cli, "pay", 0, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert any(w.startswith("The token expires in 1 second: ") for w in data["warnings"])


def test_a_one_letter_secret_does_not_garble_the_diagnosis(cli, idp):
    import json

    cli("configure", "t", "--grant-type", "password", "--username", "john.doe", "--token-url",
        idp.token_url, "--client-id", "scanner-app", "--secrets", "env")
    result = cli("test-token", "t", "--json", expect=4,
                 environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET, "ASTRA_AUTH_PASSWORD": "p"})
    data = json.loads(result.out)
    assert data["error"]["category"] == "invalid_grant"
    assert "Confirm the username and password" in " ".join(data["hints"])
