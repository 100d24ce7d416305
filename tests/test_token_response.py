"""Judging a token endpoint's answer: plain values in, a Token or one Failure
out (no server).  tests/test_hints.py has one test per RFC 6749 error code;
tests/test_response_properties.py throws arbitrary answers at it."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

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


def failure_of(raw: RawResponse, redactor: Redactor | None = None) -> Failure:
    judged = classify_response(raw, redactor or Redactor())
    assert isinstance(judged, Failure)
    return judged


@pytest.mark.parametrize(("status", "headers", "message", "details"), [
    (301, [("Location", "https://a.example/")], "The token URL answered 301 Reason, a redirect "
     "to https://a.example/. astra-auth does not follow redirects, so the credentials were not "
     "sent there.", {"location": "https://a.example/"}),
    (399, [], "The token URL answered 399 Reason, a redirect to (no Location header). astra-auth "
     "does not follow redirects, so the credentials were not sent there.",
     {"location": "(no Location header)"}),
    (404, [], "The token URL answered 404 Not Found: no token endpoint at this path.", {}),
    (405, [("Allow", "GET")], "The token URL answered 405 Method Not Allowed: it does not accept "
     "POST, so it is not a token endpoint (it allows GET).", {}),
    (405, [], "The token URL answered 405 Method Not Allowed: it does not accept POST, so it is "
     "not a token endpoint.", {}),
    (429, [("Retry-After", "30")], "The provider answered 429 Too Many Requests: this client is "
     "being rate-limited (Retry-After: 30).", {"retry_after": "30"}),
    (429, [], "The provider answered 429 Too Many Requests: this client is being rate-limited.",
     {"retry_after": ""}),
    (500, [], "The provider answered 500 Reason: an error on its side, not in this request.", {}),
    (400, [], "The token URL answered HTTP 400 Reason without an OAuth error in the body.", {}),
])
def test_each_status_without_a_token_is_its_own_failure(status, headers, message, details):
    failure = failure_of(answer(status, {"error_description": "no code"}, headers))
    assert failure.message == message
    assert failure.details == details
    assert failure.http_status == status


@pytest.mark.parametrize(("status", "category"), [
    (300, Category.REDIRECT), (399, Category.REDIRECT), (400, Category.HTTP_ERROR),
    (499, Category.HTTP_ERROR), (500, Category.SERVER_ERROR), (599, Category.SERVER_ERROR),
    (199, Category.HTTP_ERROR), (200, Category.INVALID_TOKEN_RESPONSE),
    (299, Category.INVALID_TOKEN_RESPONSE),
])
def test_the_status_ranges_meet_where_they_should(status, category):
    assert failure_of(answer(status, {})).category == category


def test_an_oauth_error_in_a_2xx_answer_is_still_the_error():
    failure = failure_of(answer(200, {"error": "invalid_scope"}))
    assert failure.category == Category.INVALID_SCOPE
    assert failure.message == "The provider answered HTTP 200 with an error: invalid_scope"
    assert failure.oauth_error_description is None


def test_an_unknown_error_code_is_oauth_error_shown_cut_to_200_characters():
    failure = failure_of(answer(400, {"error": "x" * 300, "error_description": "d" * 1200}))
    assert failure.category == Category.OAUTH_ERROR
    assert failure.oauth_error == "x" * 199 + "…"
    assert failure.oauth_error_description == "d" * 999 + "…"


def test_an_error_code_that_echoes_a_secret_is_masked():
    failure = failure_of(answer(400, {"error": "bad cs-9d2e7f41"}), Redactor("cs-9d2e7f41"))
    assert failure.oauth_error == "bad ••••••"


@pytest.mark.parametrize("error", ["", None, 7])
def test_an_error_field_that_is_not_a_code_is_no_oauth_error(error):
    failure = failure_of(answer(400, {"error": error, "error_description": "why"}))
    assert failure.category == Category.HTTP_ERROR
    assert failure.oauth_error is None and failure.oauth_error_description is None


def test_a_numeric_error_description_is_shown_as_text():
    failure = failure_of(answer(400, {"error": "invalid_grant", "error_description": 42}))
    assert failure.message == "The provider rejected the request: invalid_grant — 42"


def test_an_answer_whose_connection_broke_is_connection_error():
    failure = failure_of(answer(200, b'{"access_token": "at', broken="reset by peer"))
    assert failure.category == Category.CONNECTION_ERROR
    assert failure.message == ("The connection broke before the whole answer (HTTP 200) "
                               "arrived: reset by peer.")


def test_an_error_answer_whose_connection_broke_is_still_read_by_status():
    failure = failure_of(answer(503, b"", broken="reset by peer"))
    assert failure.category == Category.SERVER_ERROR


def test_an_answer_in_an_encoding_not_asked_for_is_not_json():
    failure = failure_of(answer(200, {"access_token": "at-1", "token_type": "Bearer"},
                                undecodable="gzip was not asked for"))
    assert failure.category == Category.NOT_JSON
    assert failure.message == "The answer (HTTP 200) cannot be read: gzip was not asked for."


def test_an_error_in_a_cut_off_answer_is_not_read():
    failure = failure_of(answer(400, {"error": "invalid_grant"}, truncated=True))
    assert failure.category == Category.HTTP_ERROR
    assert failure.oauth_error is None


def test_the_size_limit_message_is_exact():
    failure = failure_of(answer(200, {}, truncated=True))
    assert failure.message == ("The answer is larger than 1024 KiB; a token response is a "
                               "small JSON object, so it was cut off unread.")


@pytest.mark.parametrize(("body", "headers", "message"), [
    (b"<html><head><title>\n Sign\n in </title></head></html>", [],
     "The answer is an HTML page titled 'Sign in', not JSON: this URL looks like a login or "
     "web page, not a token endpoint."),
    (b"  <!DOCTYPE HTML><p>hi</p>", [("Content-Type", "text/plain")],
     "The answer is an HTML page, not JSON: this URL looks like a login or web page, not a "
     "token endpoint."),
    (b"hello", [("Content-Type", "Text/HTML; charset=utf-8")],
     "The answer is an HTML page, not JSON: this URL looks like a login or web page, not a "
     "token endpoint."),
    (b"<TITLE a=1>T</TITLE>", [("Content-Type", "text/html")],
     "The answer is an HTML page titled 'T', not JSON: this URL looks like a login or web "
     "page, not a token endpoint."),
])
def test_an_html_page_is_named_by_its_title_if_any(body, headers, message):
    failure = failure_of(answer(200, body, headers))
    assert failure.category == Category.NOT_JSON
    assert failure.message == message
    assert failure.details == {"html": "yes"}


@pytest.mark.parametrize(("body", "headers", "message"), [
    (b"access_token=at-1", [("Content-Type", "application/x-www-form-urlencoded")],
     "The answer (HTTP 200, application/x-www-form-urlencoded) is not JSON."),
    (b"", [], "The answer (HTTP 200, no Content-Type) is not JSON."),
    (b"{not json", JSON, "The answer (HTTP 200, application/json) is not JSON."),
    (b"  ", JSON, "The answer (HTTP 200, application/json) is not JSON."),
])
def test_an_answer_that_is_not_json_says_its_content_type(body, headers, message):
    failure = failure_of(answer(200, body, headers))
    assert failure.category == Category.NOT_JSON
    assert failure.message == message
    assert failure.details == {}


def test_a_json_array_is_not_a_token_answer():
    failure = failure_of(answer(200, [{"access_token": "at-1"}]))
    assert failure.category == Category.INVALID_TOKEN_RESPONSE
    assert failure.message == "The answer is JSON but not an object."


@pytest.mark.parametrize(("body", "message"), [
    ({}, "lacks a usable access_token and token_type (fields present: none)."),
    ({"token_type": "Bearer", "expires_in": 60},
     "lacks a usable access_token (fields present: expires_in, token_type)."),
    ({"access_token": "", "token_type": "Bearer"},
     "lacks a usable access_token (fields present: access_token, token_type)."),
    ({"access_token": "at-1", "token_type": 5},
     "lacks a usable token_type (fields present: access_token, token_type)."),
    ({f"f{i:02}": 1 for i in range(14)},
     "lacks a usable access_token and token_type (fields present: f00, f01, f02, f03, f04, "
     "f05, f06, f07, f08, f09, f10, f11)."),
])
def test_an_answer_without_a_token_names_what_it_lacks(body, message):
    failure = failure_of(answer(200, body))
    assert failure.category == Category.INVALID_TOKEN_RESPONSE
    assert failure.message == "The answer is JSON but " + message


@pytest.mark.parametrize(("token_type", "shown"), [
    ("Bearer", None), ("DPoP", None), ("N_A", None), ("a" * 40, None),
    ("a" * 41, "a" * 39 + "…"), ("-Bearer", "-Bearer"), ("Bearer x", "Bearer x"),
    ("Bearer\r\n", "Bearer\r\n"),
])
def test_the_token_type_must_be_a_plain_word(token_type, shown):
    judged = classify_response(answer(200, {"access_token": "at-1", "token_type": token_type}),
                               Redactor())
    if shown is None:
        assert isinstance(judged, Token)
    else:
        assert isinstance(judged, Failure)
        assert judged.message == ("The token_type is not a plain word (RFC 6749 §7.1): "
                                  f"{shown!r} is not used.")


def test_an_access_token_with_a_line_break_is_refused_with_why():
    failure = failure_of(answer(200, {"access_token": "at\nX", "token_type": "Bearer"}))
    assert failure.message == (
        "The access_token contains characters that RFC 6749 does not allow in a token (only "
        "visible ASCII and spaces): a line break or control character in it could forge a "
        "header line, so it is not used.")


@pytest.mark.parametrize("refresh", ["rt\r\n1", 5, "", "rt-é"])
def test_a_refresh_token_that_is_not_visible_ascii_is_refused(refresh):
    failure = failure_of(answer(200, {"access_token": "at-1", "token_type": "Bearer",
                                      "refresh_token": refresh}))
    assert failure.message == ("The refresh_token is not a string of visible ASCII characters "
                               "(RFC 6749 Appendix A.17), so the answer is not used.")


def test_a_token_answer_without_optional_fields_has_none_of_them():
    judged = classify_response(answer(200, {"access_token": "at 1", "token_type": "Bearer",
                                            "scope": ["read"], "refresh_token": None}),
                               Redactor())
    assert judged == Token("at 1", "Bearer", None, None, None, None)


def test_the_refresh_tokens_lifetime_is_read_under_either_name():
    entra = classify_response(answer(200, {
        "access_token": "at-1", "token_type": "Bearer", "refresh_token_expires_in": 100,
        "refresh_expires_in": 200}), Redactor())
    keycloak = classify_response(answer(200, {
        "access_token": "at-1", "token_type": "Bearer", "refresh_expires_in": 200}),
        Redactor())
    assert isinstance(entra, Token) and entra.refresh_expires_in == 100
    assert isinstance(keycloak, Token) and keycloak.refresh_expires_in == 200


def test_a_long_scope_is_cut():
    judged = classify_response(answer(200, {"access_token": "at-1", "token_type": "Bearer",
                                            "scope": "s" * 2500}), Redactor())
    assert isinstance(judged, Token)
    assert judged.scope == "s" * 1999 + "…"


@pytest.mark.parametrize(("expires_in", "read"), [
    (3600, 3600), (3600.0, 3600), (3600.5, None), ("3600", 3600), (" 60 ", 60),
    ("1h", None), ("", None), (True, None), (None, None), ([60], None),
])
def test_expires_in_is_read_from_a_number_or_digits(expires_in, read):
    judged = classify_response(answer(200, {"access_token": "at-1", "token_type": "Bearer",
                                            "expires_in": expires_in}), Redactor())
    assert isinstance(judged, Token)
    assert judged.expires_in == read


def test_seen_tokens_reads_only_credential_fields_of_a_form_body():
    body = b" access_token=at-5&scope=read&refresh_token=rt-5&id_token= \n"
    assert list(seen_tokens(body)) == ["at-5", "rt-5"]


def test_seen_tokens_does_not_read_a_json_looking_body_as_a_form():
    assert list(seen_tokens(b'{"access_token=at-6": 1')) == []


def test_seen_tokens_stops_at_a_depth_of_64():
    deep: object = {"access_token": "at-deep"}
    for _ in range(70):
        deep = {"a": deep}
    shallow: object = {"access_token": "at-63"}
    for _ in range(63):
        shallow = [shallow]
    assert list(seen_tokens(json.dumps(deep).encode())) == []
    assert list(seen_tokens(json.dumps(shallow).encode())) == ["at-63"]


def test_seen_tokens_skips_credential_fields_that_are_not_text():
    body = json.dumps({"access_token": {"value": "at-7"}, "token": 5, "7": "x"}).encode()
    assert list(seen_tokens(body)) == []


# Each value from an answer is shown cut to its own limit: at the limit it is
# whole, one character over it ends in "…".
@pytest.mark.parametrize(("limit", "raw", "shown"), [
    (300, lambda v: answer(302, b"", [("Location", v)]),
     lambda f: f.details["location"]),
    (40, lambda v: answer(429, b"", [("Retry-After", v)]),
     lambda f: f.details["retry_after"]),
    (40, lambda v: answer(429, b"", [("Retry-After", v)]),
     lambda f: f.message.split("(Retry-After: ")[1].removesuffix(").")),
    (300, lambda v: answer(200, b'{"access_token"', broken=v),
     lambda f: f.message.removeprefix("The connection broke before the whole answer "
                                      "(HTTP 200) arrived: ").removesuffix(".")),
    (300, lambda v: answer(200, b"{}", undecodable=v),
     lambda f: f.message.removeprefix("The answer (HTTP 200) cannot be read: ")
     .removesuffix(".")),
    (120, lambda v: answer(200, f"<html><title>{v}</title>".encode(), []),
     lambda f: f.message.split("titled '")[1].split("', not JSON")[0]),
    (80, lambda v: answer(200, b"plain", [("Content-Type", v)]),
     lambda f: f.message.removeprefix("The answer (HTTP 200, ").removesuffix(") is not JSON.")),
    (40, lambda v: answer(200, {v: 1}),
     lambda f: f.message.split("(fields present: ")[1].removesuffix(").")),
], ids=["location", "retry-after", "retry-after-in-message", "broken", "undecodable",
        "html-title", "content-type", "field-name"])
def test_each_value_from_the_answer_is_cut_to_its_own_limit(limit, raw, shown):
    assert shown(failure_of(raw("v" * limit))) == "v" * limit
    assert shown(failure_of(raw("v" * (limit + 1)))) == "v" * (limit - 1) + "…"


@pytest.mark.parametrize(("status", "description", "message"), [
    (200, "try read", "The provider answered HTTP 200 with an error: invalid_scope — try read"),
    (200, "", "The provider answered HTTP 200 with an error: invalid_scope"),
    (400, "try read", "The provider rejected the request: invalid_scope — try read"),
    (400, "", "The provider rejected the request: invalid_scope"),
])
def test_an_error_description_follows_the_code_only_when_there_is_one(status, description,
                                                                      message):
    failure = failure_of(answer(status, {"error": "invalid_scope",
                                         "error_description": description}))
    assert failure.message == message


def test_an_answer_that_is_not_utf_8_is_judged_not_raised():
    failure = failure_of(answer(200, b'\xff{"access_token": "at-1"}', JSON))
    assert failure.category == Category.NOT_JSON
    assert failure.message == "The answer (HTTP 200, application/json) is not JSON."
    assert list(seen_tokens(b"access_token=at-8&note=\xff\xfe")) == ["at-8"]


@pytest.mark.parametrize(("length", "shown"), [(65536, " titled 'T'"), (65537, "")])
def test_an_html_title_is_looked_for_in_the_first_64_kib_only(length, shown):
    tail = "<title>T</title>"
    body = ("<html>" + " " * (length - len("<html>") - len(tail)) + tail).encode()
    assert len(body) == length
    failure = failure_of(answer(200, body, []))
    assert failure.message == (f"The answer is an HTML page{shown}, not JSON: this URL looks "
                               "like a login or web page, not a token endpoint.")


@pytest.mark.parametrize(("body", "seen"), [
    (b"{x&access_token=at-9", []), (b" \n{x&access_token=at-9", []),
    (b"a{=1&access_token=at-10", ["at-10"]),
])
def test_a_body_that_starts_like_json_is_never_read_as_a_form(body, seen):
    assert list(seen_tokens(body)) == seen


@pytest.mark.parametrize("wrap", [lambda inner: [inner], lambda inner: {"a": inner}],
                         ids=["lists", "objects"])
@pytest.mark.parametrize(("around", "seen"), [(64, ["at-64"]), (65, [])])
def test_seen_tokens_reads_a_credential_inside_64_containers_but_not_65(wrap, around, seen):
    nested: object = {"access_token": f"at-{around}"}
    for _ in range(around):
        nested = wrap(nested)
    assert list(seen_tokens(json.dumps(nested).encode())) == seen
