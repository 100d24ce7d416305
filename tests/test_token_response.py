"""Judging a token endpoint's answer: plain values in, a Token or one Failure
out (no server).  tests/test_hints.py has one test per RFC 6749 error code;
tests/test_response_properties.py throws arbitrary answers at it."""

from __future__ import annotations

import json
import socket

import httpx

from astra_auth.core.failure import Category, Failure
from astra_auth.net.transport import NotLoopback
from astra_auth.oauth.token_response import (
    RawResponse,
    Token,
    classify_response,
    classify_transport,
    client_certificate_refused,
    seen_tokens,
)
from astra_auth.text.redact import Redactor

JSON = [("Content-Type", "application/json")]


def answer(status: int, body: object, headers: list[tuple[str, str]] | None = None,
           **more: object) -> RawResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return RawResponse(status, "Reason", JSON if headers is None else headers, data,
                       **{"truncated": False, **more})  # type: ignore[arg-type]


def test_a_token_answer_is_a_token_with_numbers_read_from_strings():
    judged = classify_response(answer(200, {
        "access_token": "at-1", "token_type": "Bearer", "expires_in": "3600",
        "scope": "read:things", "refresh_token": "rt-1", "refresh_expires_in": 86400,
    }), Redactor())
    assert judged == Token("at-1", "Bearer", 3600, "read:things", "rt-1", 86400)


def test_a_provider_error_is_its_rfc6749_category_with_code_and_description():
    judged = classify_response(answer(400, {"error": "invalid_grant",
                                            "error_description": "Wrong password"}), Redactor())
    assert judged == Failure(Category.INVALID_GRANT,
                             "The provider rejected the request: invalid_grant — Wrong password",
                             400, "invalid_grant", "Wrong password")
    assert judged.exit_code == 4


def test_an_error_description_that_echoes_a_secret_is_masked():
    judged = classify_response(answer(401, {"error": "invalid_client",
                                            "error_description": "bad secret cs-9d2e7f41"}),
                               Redactor("cs-9d2e7f41"))
    assert isinstance(judged, Failure)
    assert "cs-9d2e7f41" not in judged.message
    assert "cs-9d2e7f41" not in (judged.oauth_error_description or "")


def test_a_line_break_in_the_access_token_makes_the_answer_unusable():
    judged = classify_response(answer(200, {"access_token": "at\r\nX-Evil: 1",
                                            "token_type": "Bearer"}), Redactor())
    assert isinstance(judged, Failure)
    assert judged.category == Category.INVALID_TOKEN_RESPONSE


def test_an_html_login_page_is_not_json_and_named_by_its_title():
    judged = classify_response(answer(200, b"<!DOCTYPE html><html><title>Sign in</title></html>",
                                      [("Content-Type", "text/html")]), Redactor())
    assert isinstance(judged, Failure)
    assert judged.category == Category.NOT_JSON
    assert "an HTML page titled 'Sign in'" in judged.message
    assert judged.details == {"html": "yes"}


def test_a_redirect_names_where_it_went_and_that_nothing_was_sent_there():
    judged = classify_response(answer(302, b"", [("Location", "https://login.example.com/")]),
                               Redactor())
    assert isinstance(judged, Failure)
    assert judged.category == Category.REDIRECT
    assert judged.details == {"location": "https://login.example.com/"}


def test_an_answer_cut_off_at_the_size_limit_is_never_a_token():
    judged = classify_response(answer(200, {"access_token": "at-1", "token_type": "Bearer"},
                                      truncated=True), Redactor())
    assert isinstance(judged, Failure)
    assert judged.category == Category.INVALID_TOKEN_RESPONSE
    assert "larger than 1024 KiB" in judged.message


def test_seen_tokens_finds_credentials_at_any_depth_in_json_and_form_bodies():
    nested = json.dumps({"data": {"items": [{"accessToken": "at-2"}], "id_token": "it-2"},
                         "expires_in": 60}).encode()
    assert sorted(seen_tokens(nested)) == ["at-2", "it-2"]
    assert list(seen_tokens(b"access_token=at-3&expires_in=60")) == ["at-3"]
    # A JSON body cut off mid-way is searched by pattern.
    assert list(seen_tokens(b'{"refresh_token": "rt-4", "access_token": "at-4')) == [
        "rt-4", "at-4"]


def test_transport_failures_are_classified_by_what_broke():
    url = "https://idp.example.com:8443/token"
    cases = {
        Category.CONNECTION_REFUSED: ConnectionRefusedError(111, "Connection refused"),
        Category.DNS_ERROR: socket.gaierror(-2, "Name or service not known"),
        Category.TIMEOUT: httpx.ReadTimeout("timed out"),
        Category.CONNECTION_ERROR: httpx.RemoteProtocolError("peer closed connection"),
    }
    for category, exc in cases.items():
        assert classify_transport(exc, url, 10, Redactor()).category == category
    refused = classify_transport(ConnectionRefusedError(), url, 10, Redactor())
    assert refused.message == ("Nothing accepts connections at idp.example.com:8443 "
                               "(connection refused).")


def test_plain_http_to_a_host_that_is_not_loopback_is_refused_before_connecting():
    failure = classify_transport(NotLoopback("idp.example.com resolves to 203.0.113.5"),
                                 "http://idp.example.com/token", 10, Redactor())
    assert failure.category == Category.INSECURE_URL
    assert failure.details == {"not_loopback": "yes"}
    assert int(failure.exit_code) == 3  # the URL came from the config file


def test_a_connection_closed_after_presenting_a_certificate_is_a_tls_error():
    broke = Failure(Category.CONNECTION_ERROR, "The connection broke.")
    failure = client_certificate_refused(broke, "https://mtls.example.com/token")
    assert failure.category == Category.TLS_ERROR
    assert failure.details == {"client_certificate": "presented", "tls_reason": "closed"}
    assert "mtls.example.com" in failure.message


def test_an_answer_keeps_its_headers_and_body_out_of_its_repr():
    raw = answer(200, {"access_token": "at-7c2e9f"}, [("Set-Cookie", "sid=s-4b8d1a")])
    assert "at-7c2e9f" not in repr(raw) and "s-4b8d1a" not in repr(raw)
