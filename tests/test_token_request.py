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


def test_refresh_token_grant_sends_the_refresh_token():
    _, form = request(grant_type="refresh_token", refresh_token="rt-1",
                      client_auth="none").headers_and_form()
    assert form == {"grant_type": "refresh_token", "refresh_token": "rt-1",
                    "client_id": "scanner app"}


@pytest.mark.parametrize(("grant_type", "fields"), [
    ("password", {"username": "", "password": ""}),
    ("refresh_token", {"refresh_token": ""}),
    ("device_code", {"device_code": ""}),
    ("authorization_code", {"code": "", "redirect_uri": "", "code_verifier": ""}),
])
def test_a_grants_field_without_a_value_is_sent_empty(grant_type, fields):
    _, form = request(grant_type=grant_type, client_auth="none").headers_and_form()
    del form["grant_type"]
    assert form == {**fields, "client_id": "scanner app"}


def test_an_empty_scope_or_audience_is_not_sent():
    _, form = request(scope="", audience="", client_auth="none").headers_and_form()
    assert form == {"grant_type": "client_credentials", "client_id": "scanner app"}


def test_basic_is_the_default_client_authentication():
    headers, _ = GrantRequest(TOKEN_URL, "client_credentials", "a", "b").headers_and_form()
    assert headers["Authorization"] == "Basic YTpi"


def private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()


def claims(jwt: str) -> tuple[dict[str, object], dict[str, object]]:
    import base64
    import json

    def decode(piece: str) -> dict[str, object]:
        return json.loads(base64.urlsafe_b64decode(piece + "=" * (-len(piece) % 4)))

    header, payload, _ = jwt.split(".")
    return decode(header), decode(payload)


def test_private_key_jwt_sends_an_assertion_for_the_token_url_and_no_secret():
    from astra_auth.oauth.client_auth import ClientKey

    headers, form = request(client_auth="private_key_jwt", client_key=ClientKey(private_key_pem()),
                            assertion_alg="ES256", assertion_kid="key-1",
                            clock=lambda: 1_700_000_000).headers_and_form()
    assert "Authorization" not in headers
    assertion = form.pop("client_assertion")
    assert form == {"grant_type": "client_credentials", "client_id": "scanner app",
                    "client_assertion_type":
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    header, payload = claims(assertion)
    assert header["alg"] == "ES256" and header["kid"] == "key-1"
    assert payload["iss"] == payload["sub"] == "scanner app"
    assert payload["aud"] == TOKEN_URL
    assert payload["iat"] == 1_700_000_000


def test_private_key_jwt_uses_the_assertion_audience_where_one_is_set():
    from astra_auth.oauth.client_auth import ClientKey

    _, form = request(client_auth="private_key_jwt", client_key=ClientKey(private_key_pem()),
                      assertion_alg="ES256",
                      assertion_audience="https://idp.example.com").headers_and_form()
    assert claims(form["client_assertion"])[1]["aud"] == "https://idp.example.com"


def test_a_dpop_key_adds_a_proof_for_a_post_to_the_token_url():
    from astra_auth.signing.dpop import DpopKey, DpopProver, generate_key

    prover = DpopProver(DpopKey(generate_key("ES256"), "ES256"))
    headers, _ = request(dpop=prover).headers_and_form()
    header, payload = claims(headers["DPoP"])
    assert header["typ"] == "dpop+jwt"
    assert payload["htm"] == "POST" and payload["htu"] == TOKEN_URL


def test_without_a_dpop_key_no_proof_is_sent():
    headers, _ = request().headers_and_form()
    assert "DPoP" not in headers


@pytest.mark.parametrize("field", ["password", "refresh_token", "device_code", "code",
                                   "code_verifier"])
def test_the_redactor_masks_each_secret_the_request_sends(field):
    req = request(**{field: "x-secret-4e1f9a"})
    assert req.redactor().redact("sent x-secret-4e1f9a") == "sent ••••••"


def test_the_redactor_masks_the_client_secret():
    assert SECRET not in request().redactor().redact(f"sent {SECRET}")


@pytest.mark.parametrize(("header", "names"), [
    ({"alg": "ES256", "kid": "key-1"}, {"kid": "key-1"}),
    ({"alg": "ES256", "x5t#S256": "thumb"}, {"x5t#S256": "thumb"}),
    ({"alg": "ES256", "kid": "k", "x5t#S256": "t"}, {"kid": "k", "x5t#S256": "t"}),
    ({"alg": "ES256", "kid": 7}, {}),
])
def test_assertion_key_names_reads_kid_and_certificate_thumbprint(header, names):
    import base64
    import json

    from astra_auth.oauth.token_request import assertion_key_names

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    assert assertion_key_names(f"{part(header)}.{part({'iss': 'a'})}.c2ln") == names


def test_a_request_has_no_optional_value_unless_given():
    import time

    assert GrantRequest(TOKEN_URL, "client_credentials", "a", "b") == GrantRequest(
        token_url=TOKEN_URL, grant_type="client_credentials", client_id="a", client_secret="b",
        client_auth="basic", scope=None, audience=None, username=None, password=None,
        refresh_token=None, extra_params={}, client_key=None, assertion_alg="RS256",
        assertion_audience=None, assertion_kid=None, clock=time.time, tls_identity=None,
        device_code=None, code=None, redirect_uri=None, code_verifier=None, dpop=None)


@pytest.mark.parametrize("field", ["password", "refresh_token", "device_code", "code",
                                   "code_verifier", "client_key", "tls_identity", "dpop",
                                   "clock"])
def test_no_secret_nor_key_is_in_the_repr(field):
    text = repr(request(**{field: "x-secret-4e1f9a"}))
    assert "x-secret-4e1f9a" not in text
    assert f"{field}=" not in text


def test_the_public_fields_are_in_the_repr():
    text = repr(request(scope="read", username="john.doe", redirect_uri="http://127.0.0.1/cb",
                        assertion_kid="kid-1"))
    for shown in ("scope='read'", "username='john.doe'", "redirect_uri='http://127.0.0.1/cb'",
                  "assertion_kid='kid-1'", "client_id='scanner app'"):
        assert shown in text
    assert SECRET not in text
