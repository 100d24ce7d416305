"""Each category's exit code, message and hints, one category and provider code at a time.

Expectations are written out here as literals: a test that computed them from
the product's own tables could not fail when a table is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from astra_auth.core.failure import Category, CredentialError, Failure
from astra_auth.credentials.interface import open_source
from astra_auth.diagnosis.hints import Context, explain, hints_for
from astra_auth.oauth.token_response import RawResponse, classify_response
from astra_auth.storage.config import OAuth2, Target
from astra_auth.text.redact import Redactor
from tests.fakes import make_deps

CTX_CC = Context("payments-api", "client_credentials", "scanner-app", "basic",
                 "https://idp.example.com/oauth/token", scope="read:things")
CTX_PW = Context("hr", "password", "hr-app", "post", "https://idp.example.com/oauth/token")

# The troubleshooting guide, word for word.
GUIDE_REACH = ("Verify that the Access Token URL is reachable from the scanner's environment and "
               "that the Client ID and Client Secret are correct.")
GUIDE_PASSWORD = ("Confirm the username and password are valid and that the Resource Owner "
                  "Password flow is enabled on the identity provider.")
GUIDE_GRANT = ("Unsure which grant type to use? Client Credentials when no user context is "
               "needed; Resource Owner Password when a specific user account must be "
               "authenticated. Check the identity provider's documentation.")

# Every category and its exit code, as docs/exit-codes.md lists them.
EXIT_CODES = {
    "dns_error": 5, "connection_refused": 5, "connection_error": 5, "timeout": 5, "tls_error": 5,
    "redirect": 6, "not_found": 6, "method_not_allowed": 6, "rate_limited": 6,
    "server_error": 6, "http_error": 6, "not_json": 6, "invalid_token_response": 6,
    "invalid_request": 4, "invalid_client": 4, "invalid_grant": 4, "unauthorized_client": 4,
    "unsupported_grant_type": 4, "invalid_scope": 4, "oauth_error": 4,
    "login_required": 4, "login_timeout": 4, "access_denied": 4, "issuer_mismatch": 4,
    "insecure_url": 4,
    "missing_secret": 3, "invalid_key": 3,
    "api_unauthorized": 7, "api_forbidden": 7,
}


def _error(code: str, status: int = 400) -> Failure:
    body = json.dumps({"error": code, "error_description": f"desc of {code}"}).encode()
    failure = classify_response(RawResponse(status, "Bad Request", [], body, False), Redactor())
    assert isinstance(failure, Failure)
    return failure


def test_the_categories_are_exactly_the_contracts():
    assert sorted(c.value for c in Category) == sorted(EXIT_CODES)


@pytest.mark.parametrize(("category", "code"), sorted(EXIT_CODES.items()))
def test_each_category_has_the_contracts_exit_code(category, code):
    assert int(Category(category).exit_code) == code
    assert int(Failure(category, "m").exit_code) == code


def test_a_category_outside_the_contract_is_refused():
    with pytest.raises(ValueError, match="connection_reset"):
        Failure("connection_reset", "m")


def test_the_json_names_the_category_as_a_plain_string():
    data = Failure(Category.TIMEOUT, "m").to_json()
    assert json.loads(json.dumps(data))["category"] == "timeout"
    assert type(data["category"]) is str


@pytest.mark.parametrize("code", ["invalid_request", "invalid_client", "invalid_grant",
                                  "unauthorized_client", "unsupported_grant_type",
                                  "invalid_scope"])
def test_each_rfc6749_error_is_its_own_category_with_exact_message(code):
    failure = _error(code)
    assert failure.category == code
    assert failure.exit_code == 4
    assert failure.message == f"The provider rejected the request: {code} — desc of {code}"
    assert failure.oauth_error == code
    assert failure.oauth_error_description == f"desc of {code}"


def test_unknown_provider_code_is_oauth_error():
    failure = _error("access_denied", 403)
    assert failure.category == "oauth_error" and failure.oauth_error == "access_denied"


@pytest.mark.parametrize("category", sorted(EXIT_CODES))
def test_every_category_has_hints_for_both_grants(category):
    failure = Failure(category, "m", oauth_error="x" if category == "oauth_error" else None)
    for ctx in (CTX_CC, CTX_PW):
        hints = hints_for(failure, ctx)
        assert hints and all(isinstance(h, str) and h for h in hints)
        assert len(hints) == len(set(hints)), "a hint repeats"


# The first hint of each category, for the client-credentials target: the one
# `test-token --all` and the proxy show.
FIRST_HINTS = {
    "dns_error": "Check the host name 'idp.example.com' in the Access Token URL; fix it with: "
                 "astra-auth configure payments-api --token-url https://… --no-input",
    "connection_refused": "Check the port in the Access Token URL and that the identity "
                          "provider is running and listening at idp.example.com.",
    "connection_error": "The connection to idp.example.com broke before a complete answer "
                        "arrived: try again; a provider restarting, or a load balancer "
                        "dropping connections, breaks some requests.",
    "timeout": "A firewall that silently drops packets looks like this: check the network path "
               "from the scanner to idp.example.com.",
    "tls_error": "If your organisation uses its own certificate authority (a TLS-inspecting "
                 "proxy, an internal CA), pass its certificate with --ca-bundle PATH or set "
                 "SSL_CERT_FILE=PATH; installing it into the system trust store also works.",
    "redirect": "A redirect to a login page means this URL is a web page, not the token "
                "endpoint; the provider's documentation or admin console names its token "
                "endpoint (token_endpoint in its OpenID Connect discovery document, if it "
                "has one).",
    "not_found": "Check the path of the Access Token URL (/oauth/token): the provider's "
                 "documentation or admin console names its token endpoint.",
    "method_not_allowed": "Token endpoints accept POST; this URL does not, so it is another "
                          "page or API; the provider's documentation or admin console names "
                          "its token endpoint (token_endpoint in its OpenID Connect discovery "
                          "document, if it has one).",
    "rate_limited": "Wait a while before trying again.",
    "server_error": "The provider failed on its side: try again later, and check its status "
                    "page or logs.",
    "http_error": GUIDE_REACH,
    "not_json": "Check that the Access Token URL is the token endpoint, not an API gateway, "
                "a web page or a proxy's error page.",
    "invalid_token_response": "A token endpoint answers with access_token and token_type "
                              "(RFC 6749 §5.1): check that the Access Token URL is the token "
                              "endpoint and not another API.",
    "invalid_request": "The provider found the request malformed or missing a parameter; its "
                       "description above names it.",
    "invalid_client": "The provider did not accept client 'scanner-app': check the Client ID "
                      "and the Client Secret (paste the secret's value, not its ID), then "
                      "store it again with: printf '%s\\n' \"$CLIENT_SECRET\" | astra-auth "
                      "configure payments-api --client-secret-stdin --no-input",
    "invalid_grant": "The provider rejected the grant itself: check that this client may use "
                     "Client Credentials and that any audience or resource it needs is set "
                     "(--audience).",
    "unauthorized_client": "Enable the Client Credentials grant for client 'scanner-app' on "
                           "the identity provider (Keycloak: 'Service Accounts Enabled' for "
                           "Client Credentials, 'Direct Access Grants Enabled' for the "
                           "password grant; Okta and Auth0: the application's allowed grant "
                           "types).",
    "unsupported_grant_type": "The provider does not support grant_type=client_credentials: "
                              "enable the Client Credentials grant on the provider.",
    "invalid_scope": "The scope sent was 'read:things': check that each value exists on the "
                     "provider and is granted to this client.",
    "oauth_error": "The provider answered with its own error code 'x'; its description above "
                   "says more, and the provider's documentation lists the code.",
    "login_required": "Log in once in a browser (MFA included), after which renewal is "
                      "unattended: astra-auth login payments-api",
    "login_timeout": "The login was not completed before the code expired: run astra-auth "
                     "login payments-api again and finish it in the browser.",
    "access_denied": "The login was declined at the provider: run astra-auth login "
                     "payments-api again and approve the request.",
    "issuer_mismatch": "Log in again: astra-auth login payments-api. If this comes back, "
                       "something other than the provider answers the login (a browser "
                       "extension, a proxy, or a wrong Authorization URL): check the target's "
                       "authorization URL with: astra-auth targets show payments-api",
    "insecure_url": "Use the provider's https token URL: astra-auth configure payments-api "
                    "--token-url https://… --no-input",
    "missing_secret": "Store the client secret in the keyring with: printf '%s\\n' "
                      "\"$CLIENT_SECRET\" | astra-auth configure payments-api "
                      "--client-secret-stdin --no-input",
    "invalid_key": "The key must be a PEM private key that fits the algorithm (RS256 and "
                   "PS256: an RSA key; ES256: an EC P-256 key); store it again with: "
                   "astra-auth configure payments-api --private-key-file PATH --no-input",
    "api_unauthorized": "The API did not accept the token (401): its WWW-Authenticate answer "
                        "above says why. A token for another audience is the usual cause; set "
                        "the one the API expects with: astra-auth configure payments-api "
                        "--audience … --no-input",
    "api_forbidden": "The API accepted the token but refused the request (403): the token "
                     "lacks a scope or role. Ask for it with: astra-auth configure "
                     "payments-api --scope '…' --no-input",
}


@pytest.mark.parametrize(("category", "first"), sorted(FIRST_HINTS.items()))
def test_each_categorys_first_hint_is_its_own(category, first):
    failure = Failure(category, "m", oauth_error="x" if category == "oauth_error" else None)
    assert hints_for(failure, CTX_CC)[0] == first


def test_the_first_hints_cover_every_category():
    assert sorted(FIRST_HINTS) == sorted(EXIT_CODES)


def test_dns_hint_gives_the_command_that_fixes_the_token_url():
    hints = hints_for(Failure("dns_error", "m"), CTX_PW)
    assert hints[0] == ("Check the host name 'idp.example.com' in the Access Token URL; fix it "
                        "with: astra-auth configure hr --token-url https://… --no-input")
    assert hints[1:] == ["If the host is only known inside a VPN or to a corporate DNS server, "
                         "run the scanner (and astra-auth) where that DNS answers."]


def test_tls_name_mismatch_says_which_name_the_certificate_must_carry():
    failure = Failure("tls_error", "m", details={
        "tls_reason": "certificate verify failed: IP address mismatch, certificate is not "
                      "valid for '127.0.0.1'."})
    hints = hints_for(failure, CTX_CC)
    assert hints[0] == ("The certificate is not valid for 'idp.example.com': use the host name "
                        "the certificate was issued for in the Access Token URL.")
    assert "self-signed" not in " ".join(hints)


def test_tls_unknown_ca_says_to_trust_it_never_to_turn_verification_off():
    failure = Failure("tls_error", "m", details={
        "tls_reason": "certificate verify failed: self-signed certificate in certificate chain"})
    assert hints_for(failure, CTX_CC)[0] == (
        "The certificate is self-signed or issued by an unknown CA: trust that CA with "
        "--ca-bundle PATH (never turn verification off).")


def test_invalid_client_with_basic_offers_the_post_command():
    hints = hints_for(Failure("invalid_client", "m"), CTX_CC)
    assert hints[1] == ("Check the client authentication method: this request used `basic`; "
                        "the provider may expect the other one: astra-auth configure "
                        "payments-api --client-auth post --no-input")


def test_invalid_client_with_post_offers_the_basic_command():
    hints = hints_for(Failure("invalid_client", "m"), CTX_PW)
    assert ("astra-auth configure hr --client-auth basic --no-input" in hints[1])


CTX_PKJWT = Context("pk", "client_credentials", "scanner-app", "private_key_jwt",
                    "https://idp.example.com/oauth/token")


def test_invalid_client_for_private_key_jwt_offers_assertion_kid():
    failure = Failure("invalid_client", "m", details={"kid": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAf"})
    assert hints_for(failure, CTX_PKJWT)[2] == (
        "The header named the key by kid 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAf' (its RFC 7638 "
        "thumbprint): register the public key under that kid in the client's JWKS, or, where "
        "the provider gave the key a kid of its own (Okta, Auth0), send that kid: astra-auth "
        "configure pk --assertion-kid KID --no-input; or give the certificate with "
        "--certificate to send x5t#S256 instead.")


def test_invalid_client_with_an_assertion_kid_says_it_was_set_and_how_to_undo_it():
    from dataclasses import replace

    failure = Failure("invalid_client", "m", details={"kid": "key-2026-01"})
    ctx = replace(CTX_PKJWT, assertion_kid="key-2026-01")
    assert hints_for(failure, ctx)[2] == (
        "The header named the key by kid 'key-2026-01' (set with --assertion-kid): check that "
        "the provider registered the public key under exactly that kid, or give the one it "
        "shows: astra-auth configure pk --assertion-kid KID --no-input; or name the key by its "
        "RFC 7638 thumbprint again: astra-auth configure pk --assertion-kid '' --no-input")


def test_bare_401_names_the_other_method_as_a_command():
    hints = hints_for(Failure("http_error", "m", http_status=401), CTX_CC)
    assert hints[0] == ("The provider refused the client credentials without saying why: "
                        "check the Client ID and Client Secret, and the client authentication "
                        "method (now basic; to change it: astra-auth configure payments-api "
                        "--client-auth post --no-input).")


def test_both_methods_tried_says_so():
    failure = Failure("invalid_client", "m", details={"other_client_auth": "post",
                                                     "other_client_auth_result": "invalid_client"})
    assert ("astra-auth also tried client authentication `post`, which failed too "
            "(invalid_client): the Client ID or Client Secret itself is the likely problem."
            in hints_for(failure, CTX_CC))


def test_the_troubleshooting_guide_is_covered():
    all_hints = {
        h
        for category in EXIT_CODES
        for ctx in (CTX_CC, CTX_PW)
        for h in hints_for(Failure(category, "m"), ctx)
    }
    assert {GUIDE_REACH, GUIDE_PASSWORD, GUIDE_GRANT} <= all_hints


def test_password_grant_rejections_carry_the_password_guide():
    for code in ("invalid_grant", "unauthorized_client", "unsupported_grant_type"):
        assert GUIDE_PASSWORD in hints_for(Failure(code, "m"), CTX_PW)


def test_password_invalid_grant_gives_the_command_to_store_the_password_again():
    hints = hints_for(Failure("invalid_grant", "m"), CTX_PW)
    assert hints[2] == ("Store the password again with: printf '%s\\n' \"$PASSWORD\" | "
                        "astra-auth configure hr --password-stdin --no-input")


def test_grant_hints_name_the_grant_to_enable_and_the_switch_command():
    hints = hints_for(Failure("unauthorized_client", "m"), CTX_CC)
    assert "Enable the Client Credentials grant for client 'scanner-app'" in hints[0]
    assert "Service Accounts Enabled" in hints[0]
    assert GUIDE_GRANT in hints
    assert ("To use the other grant instead: astra-auth configure payments-api --grant-type "
            "password --no-input") in hints


def test_invalid_scope_hint_shows_the_scope_sent_and_how_to_change_it():
    hints = hints_for(Failure("invalid_scope", "m"), CTX_CC)
    assert hints == [
        "The scope sent was 'read:things': check that each value exists on the provider and "
        "is granted to this client.",
        "Change it with: astra-auth configure payments-api --scope '…' --no-input "
        "(or --scope '' to send none).",
    ]


def test_timeout_hint_offers_a_longer_timeout():
    assert ("If the provider is only slow, allow more time: astra-auth test-token payments-api "
            "--timeout 30") in hints_for(Failure("timeout", "m"), CTX_CC)


def test_rate_limit_hint_waits_as_long_as_the_provider_asked():
    failure = Failure("rate_limited", "m", details={"retry_after": "30"})
    assert hints_for(failure, CTX_CC)[0] == "Wait 30 seconds before trying again."


def test_login_required_gives_the_login_command_with_a_quoted_name():
    ctx = Context("a b", "device_code", "c", "none", "https://idp.example.com/token")
    assert hints_for(Failure("login_required", "m"), ctx)[0] == (
        "Log in once in a browser (MFA included), after which renewal is unattended: "
        "astra-auth login 'a b'")


def test_missing_password_names_both_ways_to_provide_it():
    hints = hints_for(Failure("missing_secret", "m", details={"kind": "password"}), CTX_PW)
    assert hints == [
        "Store the password in the keyring with: printf '%s\\n' \"$PASSWORD\" | astra-auth "
        "configure hr --password-stdin --no-input",
        "Or set ASTRA_AUTH_HR_PASSWORD where astra-auth runs (ASTRA_AUTH_PASSWORD works too, "
        "but applies to every target)."]


def test_not_found_hint_cites_no_discovery_document_it_did_not_check():
    # test-token adds the discovery document once it answered (tests/test_diagnosis.py).
    text = " ".join(hints_for(Failure("not_found", "m"), CTX_CC))
    assert "well-known" not in text
    assert "Save the right one with: astra-auth configure payments-api --token-url https://… " \
           "--no-input" in text


def test_redirect_hint_offers_the_location_only_when_https():
    f = Failure("redirect", "m", details={"location": "https://idp.example.com/token/"})
    assert hints_for(f, CTX_CC)[0] == (
        "The provider sends token requests on to https://idp.example.com/token/, which looks "
        "like its token endpoint: save it with: astra-auth configure payments-api --token-url "
        "https://idp.example.com/token/ --no-input")
    f = Failure("redirect", "m", details={"location": "http://evil.example/"})
    assert "evil" not in " ".join(hints_for(f, CTX_CC))


def test_html_answer_is_called_a_login_page():
    f = Failure("not_json", "m", details={"html": "yes"})
    assert hints_for(f, CTX_CC)[0] == (
        "This URL looks like a login page rather than a token endpoint; the provider's "
        "documentation or admin console names its token endpoint (token_endpoint in its "
        "OpenID Connect discovery document, if it has one).")
    # No discovery document is cited before one has answered.
    assert ".well-known" not in " ".join(hints_for(f, CTX_CC))


# ---------------------------------------------------------------------------
# A credential source says what failed; `explain` says what to do about it

OAUTH_ENV = Target(name="ci-api", auth_type="oauth2", oauth2=OAuth2(
    "client_credentials", "https://idp.example.com/oauth/token", "scanner-app", secrets="env"))


def _source_error(tmp_path: Path, target: Target, environ: dict[str, str] | None = None
                  ) -> CredentialError:
    deps = make_deps(tmp_path / "config.toml", environ=environ or {})
    with pytest.raises(CredentialError) as caught:
        open_source(target, deps).get()
    return caught.value


def test_an_oauth2_source_raises_its_failure_and_target_without_hints(tmp_path):
    error = _source_error(tmp_path, OAUTH_ENV)
    assert error.category == "missing_secret"
    assert error.hints == []
    assert error.target is OAUTH_ENV
    assert error.secret_sources == {"client_secret": "missing"}
    assert explain(error).hints == [
        "This target reads its client secret from the environment: set "
        "ASTRA_AUTH_CI_API_CLIENT_SECRET where astra-auth runs (ASTRA_AUTH_CLIENT_SECRET works "
        "too, but applies to every target)."]


def test_a_static_source_raises_without_hints_and_explain_gives_the_store_command(tmp_path):
    from astra_auth.storage.config import Bearer

    error = _source_error(tmp_path, Target(name="api", auth_type="bearer", bearer=Bearer()))
    assert (error.category, error.hints) == ("missing_secret", [])
    assert explain(error).hints == [
        "Store the bearer token in the keyring with: printf '%s\\n' \"$BEARER_TOKEN\" | "
        "astra-auth configure api --token-stdin --no-input",
        "Or set ASTRA_AUTH_API_BEARER_TOKEN where astra-auth runs (ASTRA_AUTH_BEARER_TOKEN "
        "works too, but applies to every target)."]


def test_a_jwt_key_that_does_not_fit_is_explained_with_the_variable_to_set(tmp_path):
    from astra_auth.storage.config import Jwt

    target = Target(name="signed", auth_type="jwt", jwt=Jwt("RS256", secrets="env"))
    error = _source_error(tmp_path, target, {"ASTRA_AUTH_SIGNED_SIGNING_KEY": "not a key"})
    assert (error.category, error.hints) == ("invalid_key", [])
    assert explain(error).hints == [
        "Give a PEM private key that fits RS256: astra-auth configure signed (or set "
        "ASTRA_AUTH_SIGNED_SIGNING_KEY)."]


def test_explain_names_the_variable_the_source_saw_supply_the_secret():
    keyring = Target(name="pay", auth_type="oauth2", oauth2=OAuth2(
        "client_credentials", "https://idp.example.com/oauth/token", "scanner-app"))
    error = CredentialError(Failure("invalid_client", "m"), target=keyring,
                            secret_sources={"client_secret": "ASTRA_AUTH_CLIENT_SECRET"})
    assert explain(error).hints[0] == (
        "The client secret came from ASTRA_AUTH_CLIENT_SECRET, which overrides the one stored "
        "in the keyring: check its value, or unset it to use the stored one: unset "
        "ASTRA_AUTH_CLIENT_SECRET")


def test_explain_keeps_hints_that_are_there_and_leaves_other_errors_alone():
    from astra_auth.core.errors import UsageError

    given = CredentialError(Failure("timeout", "m"), ["wait"], target=OAUTH_ENV)
    assert explain(given).hints == ["wait"]
    assert explain(CredentialError(Failure("timeout", "m"))).hints == []
    usage = UsageError("bad flag")
    assert explain(usage) is usage and usage.hints == []
