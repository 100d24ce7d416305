"""Building a token request: plain values in, headers and form out (no server)."""

from __future__ import annotations

import pytest

from astra_auth.oauth.token_request import GrantRequest

TOKEN_URL = "https://idp.example.com/oauth/token"
SECRET = "s3:c/r+t é"


def request(**more: object) -> GrantRequest:
    values: dict[str, object] = {"token_url": TOKEN_URL, "grant_type": "client_credentials",
                                 "client_id": "scanner app", "client_secret": SECRET}
    values.update(more)
    return GrantRequest(**values)  # type: ignore[arg-type]


def test_basic_client_auth_form_encodes_id_and_secret_before_base64():
    headers, form = request(scope="read:things").headers_and_form()
    # RFC 6749 §2.3.1: "scanner+app:s3%3Ac%2Fr%2Bt+%C3%A9", then Base64.
    assert headers == {"Accept": "application/json", "Accept-Encoding": "identity",
                       "Authorization": "Basic c2Nhbm5lcithcHA6czMlM0FjJTJGciUyQnQrJUMzJUE5"}
    assert form == {"grant_type": "client_credentials", "scope": "read:things"}


def test_post_client_auth_sends_id_and_secret_in_the_form_only():
    headers, form = request(client_auth="post").headers_and_form()
    assert "Authorization" not in headers
    assert form == {"grant_type": "client_credentials", "client_id": "scanner app",
                    "client_secret": SECRET}


@pytest.mark.parametrize("client_auth", ["none", "tls_client_auth"])
def test_a_client_without_a_secret_sends_its_id_alone(client_auth):
    headers, form = request(client_auth=client_auth, client_secret="").headers_and_form()
    assert "Authorization" not in headers
    assert form == {"grant_type": "client_credentials", "client_id": "scanner app"}


def test_password_grant_sends_username_password_and_audience():
    _, form = request(grant_type="password", client_auth="post", username="john.doe",
                      password="pw", audience="https://api.example.com").headers_and_form()
    assert form == {"grant_type": "password", "username": "john.doe", "password": "pw",
                    "audience": "https://api.example.com", "client_id": "scanner app",
                    "client_secret": SECRET}


def test_device_code_grant_is_named_by_its_urn():
    _, form = request(grant_type="device_code", device_code="dc-1",
                      client_auth="none").headers_and_form()
    assert form == {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                    "device_code": "dc-1", "client_id": "scanner app"}


def test_authorization_code_grant_sends_code_redirect_and_verifier():
    _, form = request(grant_type="authorization_code", code="c-1",
                      redirect_uri="http://127.0.0.1:5555/callback", code_verifier="v-1",
                      client_auth="none").headers_and_form()
    assert form == {"grant_type": "authorization_code", "code": "c-1",
                    "redirect_uri": "http://127.0.0.1:5555/callback", "code_verifier": "v-1",
                    "client_id": "scanner app"}


def test_extra_parameters_never_replace_the_requests_own_fields():
    _, form = request(client_auth="post", extra_params={
        "grant_type": "password", "client_id": "other", "resource": "https://api.example.com",
    }).headers_and_form()
    assert form["grant_type"] == "client_credentials"
    assert form["client_id"] == "scanner app"
    assert form["resource"] == "https://api.example.com"


def test_the_redactor_masks_the_secret_as_sent_in_the_basic_header():
    req = request(refresh_token="rt-5f2c0d9e1a", grant_type="refresh_token")
    headers, form = req.headers_and_form()
    shown = req.redactor().redact(f"{headers['Authorization']} {form['refresh_token']}")
    assert "c2Nhbm5lcithcHA6czMlM0FjJTJGciUyQnQrJUMzJUE5" not in shown
    assert "rt-5f2c0d9e1a" not in shown
    assert shown.startswith("Basic ")


def test_secrets_stay_out_of_the_repr():
    text = repr(request(password="pw-3c1d9e", refresh_token="rt-5f2c0d9e1a"))
    assert SECRET not in text and "pw-3c1d9e" not in text and "rt-5f2c0d9e1a" not in text
