"""Each category's message and hints, one provider error code at a time."""

from __future__ import annotations

import json

import pytest

from astra_auth.oauth.failure import CATEGORIES, Failure
from astra_auth.oauth.grant import _Raw, classify_response
from astra_auth.oauth.hints import GUIDE_GRANT, GUIDE_PASSWORD, GUIDE_REACH, Context, hints_for
from astra_auth.oauth.redact import Redactor

CTX_CC = Context("payments-api", "client_credentials", "scanner-app", "basic",
                 "https://idp.example.com/oauth/token", scope="read:things")
CTX_PW = Context("hr", "password", "hr-app", "post", "https://idp.example.com/oauth/token")


def _error(code: str, status: int = 400) -> Failure:
    body = json.dumps({"error": code, "error_description": f"desc of {code}"}).encode()
    token, failure = classify_response(_Raw(status, "Bad Request", [], body, False),
                                       Redactor())
    assert token is None and failure is not None
    return failure


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


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_has_hints_for_both_grants(category):
    failure = Failure(category, "m", oauth_error="x" if category == "oauth_error" else None)
    for ctx in (CTX_CC, CTX_PW):
        hints = hints_for(failure, ctx)
        assert hints and all(isinstance(h, str) and h for h in hints)


def test_the_troubleshooting_guide_is_covered():
    all_hints = {
        h
        for category in CATEGORIES
        for ctx in (CTX_CC, CTX_PW)
        for h in hints_for(Failure(category, "m"), ctx)
    }
    assert {GUIDE_REACH, GUIDE_PASSWORD, GUIDE_GRANT} <= all_hints


def test_password_grant_rejections_carry_the_password_guide():
    for code in ("invalid_grant", "unauthorized_client", "unsupported_grant_type"):
        assert GUIDE_PASSWORD in hints_for(Failure(code, "m"), CTX_PW)


def test_grant_hints_name_the_grant_to_enable_and_the_switch_command():
    hints = hints_for(Failure("unauthorized_client", "m"), CTX_CC)
    assert "Enable the Client Credentials grant for client 'scanner-app'" in hints[0]
    assert "Service Accounts Enabled" in hints[0]
    assert GUIDE_GRANT in hints
    assert ("astra-auth configure payments-api --grant-type password --no-input"
            in " ".join(hints))


def test_invalid_scope_hint_shows_the_scope_sent():
    assert "'read:things'" in hints_for(Failure("invalid_scope", "m"), CTX_CC)[0]


def test_tls_hint_names_ca_bundle_and_ssl_cert_file():
    text = " ".join(hints_for(Failure("tls_error", "m"), CTX_CC))
    assert "--ca-bundle" in text and "SSL_CERT_FILE" in text


def test_not_found_hint_points_at_discovery_document():
    text = " ".join(hints_for(Failure("not_found", "m"), CTX_CC))
    assert "https://idp.example.com/.well-known/openid-configuration" in text
    assert "token_endpoint" in text


def test_redirect_hint_offers_the_location_only_when_https():
    f = Failure("redirect", "m", details={"location": "https://idp.example.com/token/"})
    assert "--token-url https://idp.example.com/token/" in " ".join(hints_for(f, CTX_CC))
    f = Failure("redirect", "m", details={"location": "http://evil.example/"})
    assert "evil" not in " ".join(hints_for(f, CTX_CC))
