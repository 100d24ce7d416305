"""Client authentication beyond a secret: private_key_jwt, tls_client_auth, public clients,
extra parameters, and a CA bundle and timeout per target.

Against panva's oidc-provider over HTTPS (tests/oidc/enterprise.mjs): clients
registered with a JWKS (private_key_jwt) or a self-signed certificate
(self_signed_tls_client_auth), each accepting only its own method.  Keys and
certificates are made here, at test time (cryptography; trustme for the
server's certificate).  Authlib's JOSE gives a second opinion on the claims.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import node_script, require
from tests.fakes import MemoryStore, ScriptedPrompter, Step, make_deps, new_target

# ---------------------------------------------------------------------------
# Keys, certificates and the provider, made once per session


def _pem(key) -> str:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _self_signed(key, name: str):  # type: ignore[no-untyped-def]
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(key, hashes.SHA256()))


@dataclass
class Keys:
    folder: Path
    pems: dict[str, str]  # name -> PEM private key
    kids: dict[str, str]  # name -> RFC 7638 thumbprint
    cert_der: dict[str, bytes]

    def key(self, name: str) -> str:
        return str(self.folder / f"{name}.pem")

    def cert(self, name: str) -> str:
        return str(self.folder / f"{name}-cert.pem")

    @property
    def ca(self) -> str:
        return str(self.folder / "ca.pem")


@pytest.fixture(scope="session")
def _keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Keys, dict[str, object]]:
    import trustme
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from joserfc.jwk import ECKey, RSAKey

    folder = tmp_path_factory.mktemp("enterprise-keys")
    made: dict[str, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey] = {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "mtls": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "other": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }
    pems, kids, ders, jwks = {}, {}, {}, {}
    for name, key in made.items():
        pems[name] = _pem(key)
        (folder / f"{name}.pem").write_text(pems[name])
        jwk = ECKey.import_key(key) if isinstance(key, ec.EllipticCurvePrivateKey) \
            else RSAKey.import_key(key)
        kids[name] = jwk.thumbprint()
        public = jwk.as_dict(private=False)
        public["kid"] = kids[name]
        cert = _self_signed(key, f"scanner-{name}")
        ders[name] = cert.public_bytes(serialization.Encoding.DER)
        (folder / f"{name}-cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        if name == "mtls":
            public["x5c"] = [base64.b64encode(ders[name]).decode()]
        jwks[name] = {"keys": [public]}
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    setup: dict[str, object] = {
        "server_cert": "".join(blob.bytes().decode() for blob in server.cert_chain_pems),
        "server_key": server.private_key_pem.bytes().decode(),
        "ca_cert": ca.cert_pem.bytes().decode(),
        "rsa_jwks": jwks["rsa"], "ec_jwks": jwks["ec"], "mtls_jwks": jwks["mtls"],
    }
    return Keys(folder, pems, kids, ders), setup


@dataclass
class Enterprise:
    issuer: str
    strict: str  # the same provider behind a server that refuses self-signed client certs
    keys: Keys

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/token"


@pytest.fixture(scope="session")
def _enterprise_process(_keys):  # type: ignore[no-untyped-def]
    keys, setup = _keys
    with node_script("enterprise.mjs", {"ENTERPRISE_SETUP": json.dumps(setup)}, lines=2,
                     address="https://127.0.0.1:") as started:
        yield started if isinstance(started, str) else Enterprise(*started, keys)


@pytest.fixture
def idp12(_enterprise_process, leaks):  # type: ignore[no-untyped-def]
    provider = require(_enterprise_process, "the real OpenID provider")
    for pem in provider.keys.pems.values():
        leaks.watch(*_body_lines(pem))
    return provider


def _body_lines(pem: str) -> list[str]:
    """A PEM key's base64 lines: the secret part (the BEGIN line is not)."""
    lines = pem.strip().splitlines()[1:-1]
    return ["".join(lines), *lines]


def _configure(cli, idp12: Enterprise, name: str, client_id: str, *flags: str,  # type: ignore[no-untyped-def]
               expect: int = 0, **kwargs):  # type: ignore[no-untyped-def]
    return cli("configure", name, "--token-url", idp12.token_url, "--grant-type",
               "client_credentials", "--client-id", client_id, "--scope", "read:things",
               "--ca-bundle", idp12.keys.ca, *flags, expect=expect, **kwargs)


def _test_token(cli, name: str, expect: int, **kwargs) -> dict:  # type: ignore[no-untyped-def, type-arg]
    result = cli("test-token", name, "--json", "--no-probe", expect=expect, **kwargs)
    data: dict = json.loads(result.out)  # type: ignore[type-arg]
    return data


def _saved(cli, name: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    target: dict = tomllib.loads(cli.config_path.read_text())["targets"][name]  # type: ignore[type-arg]
    return target


# ---------------------------------------------------------------------------
# private_key_jwt


def test_private_key_jwt_rsa_from_the_issuer_with_a_ca_bundle(cli, idp12):
    result = cli("configure", "pk", "--issuer", idp12.issuer, "--ca-bundle", idp12.keys.ca,
                 "--grant-type", "client_credentials", "--client-id", "pkjwt-rsa",
                 "--private-key-file", idp12.keys.key("rsa"), "--scope", "read:things")
    # The provider's metadata lists only key methods: its first is taken.
    assert "Client authentication 'private_key_jwt', from the provider's" in result.err
    target = _saved(cli, "pk")
    assert target["ca_bundle"] == str(Path(idp12.keys.ca).resolve())
    assert target["oauth2"]["client_auth"] == "private_key_jwt"
    assert "private_key" not in target["oauth2"] and idp12.keys.key("rsa") not in str(target)
    assert cli.store.data["pk:private_key"] == idp12.keys.pems["rsa"]
    # test-token trusts the provider through the target's own ca_bundle: no flag.
    data = _test_token(cli, "pk", 0)
    assert data["ok"] is True and data["client_auth"] == "private_key_jwt"
    assert data["secret_sources"] == {"private_key": "keyring"}
    token = cli("token", "pk", token_on_stdout=True)
    assert token.out.strip()


def test_private_key_jwt_es256(cli, idp12):
    _configure(cli, idp12, "ec", "pkjwt-ec", "--client-auth", "private_key_jwt",
               "--private-key-file", idp12.keys.key("ec"), "--assertion-alg", "ES256")
    assert _test_token(cli, "ec", 0)["ok"] is True


def test_an_ec_key_with_the_default_rs256_is_invalid_key_before_any_request(cli, idp12):
    # configure refuses such a key (tests/test_configure_keys.py); one stored
    # before that check, or put in the keyring by hand, is refused at use.
    _configure(cli, idp12, "ec", "pkjwt-ec", "--client-auth", "private_key_jwt",
               "--private-key-file", idp12.keys.key("rsa"))
    cli.store.data["ec:private_key"] = idp12.keys.pems["ec"]
    data = _test_token(cli, "ec", 3)
    assert data["error"]["category"] == "invalid_key"
    assert data["error"]["message"] == ("The private key of ec cannot be used: RS256 needs an "
                                        "RSA private key.")
    assert data["error"]["http_status"] is None


def test_wrong_audience_is_invalid_client_with_a_hint_naming_aud(cli, idp12):
    _configure(cli, idp12, "pk", "pkjwt-rsa", "--client-auth", "private_key_jwt",
               "--private-key-file", idp12.keys.key("rsa"),
               "--assertion-audience", "https://elsewhere.example/token")
    data = _test_token(cli, "pk", 4)
    assert data["error"]["category"] == "invalid_client"
    assert data["hints"][0].startswith(
        "The assertion's aud was 'https://elsewhere.example/token': the provider may expect "
        "another value")
    assert "astra-auth configure pk --assertion-audience" in data["hints"][0]


def test_expired_assertion_is_invalid_client_with_a_clock_skew_hint(cli, idp12):
    _configure(cli, idp12, "pk", "pkjwt-rsa", "--client-auth", "private_key_jwt",
               "--private-key-file", idp12.keys.key("rsa"))
    # This machine's clock an hour behind: the assertion expired long ago.
    data = _test_token(cli, "pk", 4, clock=lambda: time.time() - 3600)
    assert data["error"]["category"] == "invalid_client"
    assert any(h.startswith("An assertion is valid for 60 seconds from this machine's clock: "
                            "a clock that is minutes off (clock skew)") for h in data["hints"])


def test_unregistered_key_is_invalid_client_with_its_kid_in_a_hint(cli, idp12):
    _configure(cli, idp12, "pk", "pkjwt-rsa", "--client-auth", "private_key_jwt",
               "--private-key-file", idp12.keys.key("other"))
    data = _test_token(cli, "pk", 4)
    assert data["error"]["category"] == "invalid_client"
    kid = idp12.keys.kids["other"]
    assert (f"The header named the key by kid '{kid}' (its RFC 7638 thumbprint): register "
            "the public key under that kid") in " ".join(data["hints"])


def test_a_key_that_does_not_match_the_certificate_is_invalid_key_exit_3(cli, idp12):
    _configure(cli, idp12, "pk", "pkjwt-rsa", "--client-auth", "private_key_jwt",
               "--private-key-file", idp12.keys.key("rsa"),
               "--certificate", idp12.keys.cert("mtls"))
    data = _test_token(cli, "pk", 3)
    assert data["error"]["category"] == "invalid_key"
    assert "does not match the certificate" in data["error"]["message"]
    result = cli("token", "pk", expect=3)
    assert "invalid_key" in result.err
    assert "openssl x509 -in CERT -noout -pubkey" in result.err


@pytest.mark.filterwarnings("ignore:authlib.jose module is deprecated")
def test_assertion_claims_by_authlib(tmp_path, _keys):
    """A second opinion from Authlib's JOSE: the claims RFC 7523 §3 asks for."""
    from authlib.jose import JsonWebToken

    from astra_auth.credentials.oauth2_request import grant_request
    from astra_auth.storage.config import OAuth2, Target

    keys, _ = _keys
    token_url = "https://idp.example.com/oauth2/token"
    target = Target("a", auth_type="oauth2", oauth2=OAuth2(
        grant_type="client_credentials", token_url=token_url, client_id="scanner-app",
        client_auth="private_key_jwt"))
    deps = make_deps(tmp_path / "c.toml", secrets=MemoryStore({"a:private_key":
                                                               keys.pems["rsa"]}),
                     clock=lambda: 1_800_000_000.0)
    req = grant_request(target, deps)
    headers, form = req.headers_and_form()
    assert "Authorization" not in headers
    assert form["client_assertion_type"] == (
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    assert form["client_id"] == "scanner-app" and "client_secret" not in form
    from cryptography.hazmat.primitives import serialization

    public = serialization.load_pem_private_key(keys.pems["rsa"].encode(), None).public_key()
    claims = JsonWebToken(["RS256"]).decode(form["client_assertion"], public, claims_options={
        "iss": {"essential": True, "value": "scanner-app"},
        "sub": {"essential": True, "value": "scanner-app"},
        "aud": {"essential": True, "value": token_url},
        "exp": {"essential": True}, "jti": {"essential": True},
    })
    claims.validate(now=1_800_000_010)
    assert claims["exp"] == 1_800_000_060 and claims["iat"] == 1_800_000_000
    assert claims.header["kid"] == keys.kids["rsa"]
    # A fresh jti for every request.
    assert req.headers_and_form()[1]["client_assertion"] != form["client_assertion"]


@pytest.mark.parametrize(("token_url", "alg", "aud", "x5t"), [
    ("https://login.microsoftonline.com/tenant-id/oauth2/v2.0/token", "PS256",
     "https://login.microsoftonline.com/tenant-id/oauth2/v2.0/token", True),
    ("https://example.okta.com/oauth2/default/v1/token", "RS256",
     "https://example.okta.com/oauth2/default/v1/token", False),
    ("https://tenant.eu.auth0.com/oauth/token", "RS256", "https://tenant.eu.auth0.com/", False),
])
def test_per_provider_defaults(tmp_path, _keys, token_url, alg, aud, x5t):
    from astra_auth.credentials.oauth2_request import grant_request
    from astra_auth.oauth import unverified_jwt as jwt
    from astra_auth.storage.config import OAuth2, Target
    keys, _ = _keys
    target = Target("a", auth_type="oauth2", oauth2=OAuth2(
        grant_type="client_credentials", token_url=token_url, client_id="c",
        client_auth="private_key_jwt", certificate=keys.cert("rsa") if x5t else None))
    deps = make_deps(tmp_path / "c.toml", secrets=MemoryStore({"a:private_key":
                                                               keys.pems["rsa"]}))
    assertion = grant_request(target, deps).client_assertion()
    header, claims = jwt.header(assertion), jwt.claims(assertion)
    assert header is not None and claims is not None
    assert header["alg"] == alg and claims["aud"] == aud
    if x5t:
        expected = base64.urlsafe_b64encode(hashlib.sha256(keys.cert_der["rsa"]).digest())
        assert header["x5t#S256"] == expected.decode().rstrip("=")
        assert "kid" not in header
    else:
        assert header["kid"] == keys.kids["rsa"]


# ---------------------------------------------------------------------------
# tls_client_auth


def test_tls_client_auth_with_a_self_signed_certificate(cli, idp12):
    _configure(cli, idp12, "m", "mtls-self", "--client-auth", "tls_client_auth",
               "--private-key-file", idp12.keys.key("mtls"),
               "--certificate", idp12.keys.cert("mtls"))
    oauth = _saved(cli, "m")["oauth2"]
    assert oauth["certificate"] == str(Path(idp12.keys.cert("mtls")).resolve())
    assert set(cli.store.data) == {"m:private_key"}
    data = _test_token(cli, "m", 0)
    assert data["ok"] is True and data["client_auth"] == "tls_client_auth"


def test_tls_client_auth_with_an_unregistered_certificate_is_invalid_client(cli, idp12):
    _configure(cli, idp12, "m", "mtls-self", "--client-auth", "tls_client_auth",
               "--private-key-file", idp12.keys.key("other"),
               "--certificate", idp12.keys.cert("other"))
    data = _test_token(cli, "m", 4)
    assert data["error"]["category"] == "invalid_client"
    assert data["hints"][0].startswith("The provider did not accept the certificate ")


def test_a_server_refusing_the_client_certificate_is_tls_error(cli, idp12):
    cli("configure", "m", "--token-url", f"{idp12.strict}/token", "--grant-type",
        "client_credentials", "--client-id", "mtls-self", "--client-auth", "tls_client_auth",
        "--private-key-file", idp12.keys.key("mtls"), "--certificate", idp12.keys.cert("mtls"),
        "--ca-bundle", idp12.keys.ca)
    data = _test_token(cli, "m", 5)
    assert data["error"]["category"] == "tls_error", data["error"]
    assert data["hints"][0].startswith(
        f"The server refused the client certificate {Path(idp12.keys.cert('mtls')).resolve()}")


def test_tls_client_auth_key_not_matching_its_certificate_is_invalid_key(cli, idp12):
    _configure(cli, idp12, "m", "mtls-self", "--client-auth", "tls_client_auth",
               "--private-key-file", idp12.keys.key("rsa"),
               "--certificate", idp12.keys.cert("mtls"))
    data = _test_token(cli, "m", 3)
    assert data["error"]["category"] == "invalid_key"
    assert data["hints"][0].startswith("The private key and the certificate must be two "
                                       "halves of one key pair")


# ---------------------------------------------------------------------------
# configure


class RecordingPrompter(ScriptedPrompter):
    """Also records each select's choices and preselected index."""

    def __init__(self, steps: Sequence[Step]) -> None:
        super().__init__(steps)
        self.selects: dict[str, tuple[list[str], int]] = {}

    def select(self, message, choices, default=0, note=""):  # type: ignore[no-untyped-def]
        self.selects[message] = ([c.label for c in choices], default)
        return super().select(message, choices, default, note)


def test_walkthrough_lists_the_providers_methods_and_asks_for_a_key_file(cli, idp12):
    prompter = RecordingPrompter([
        *new_target("w", url=""),
        Step("select", "Authentication type", 0), Step("select", "Grant type", 0),
        Step("select", "Access Token URL", 1),  # I only know my issuer URL
        Step("text", "Issuer URL", idp12.issuer),
        Step("confirm", "Use it as the Access Token URL", True),
        Step("text", "Client ID", "pkjwt-rsa"),
        Step("select", "Client authentication", None),  # the preselected one
        Step("text", "Private key file", "/no/such/key.pem"),  # refused, asked again
        Step("text", "Private key file", idp12.keys.key("rsa")),
        Step("text", "Certificate file (optional", ""),
        Step("select", "Assertion algorithm", None),
        Step("text", "Scope", "read:things"), Step("text", "Audience", ""),
        Step("text", "Extra token parameters", "vendor_hint=scanner"),
        Step("confirm", "Save", True), Step("confirm", "Run test-token", True),
    ])
    result = cli("configure", tty=True, prompter=prompter,
                 environ={"SSL_CERT_FILE": idp12.keys.ca})
    assert prompter.selects["Client authentication"] == (
        ["private_key_jwt", "tls_client_auth"], 0)
    assert prompter.selects["Assertion algorithm"] == (["RS256", "PS256", "ES256"], 0)
    assert "/no/such/key.pem: cannot be read" in result.err
    assert not any(kind == "secret" for kind, _ in prompter.asked)  # no client secret
    oauth = _saved(cli, "w")["oauth2"]
    assert oauth["client_auth"] == "private_key_jwt"
    assert oauth["extra_params"] == {"vendor_hint": "scanner"}
    assert "token obtained" in result.out


def test_a_public_client_is_never_asked_for_a_secret(cli):
    prompter = ScriptedPrompter([
        Step("text", "API URL", ""),
        Step("text", "Username", "john.doe"), Step("secret", "Password", "pw-for-a-public-1"),
        Step("text", "Scope", ""), Step("text", "Audience", ""),
        Step("text", "Extra token parameters", ""),
        Step("confirm", "Save", True), Step("confirm", "Run test-token", False),
    ])
    cli("configure", "pub", "--grant-type", "password", "--token-url",
        "https://idp.example.com/token", "--client-id", "spa", "--client-auth", "none",
        "--auth-type", "oauth2", tty=True, prompter=prompter)
    assert set(cli.store.data) == {"pub:password"}
    assert _saved(cli, "pub")["oauth2"]["client_auth"] == "none"


def test_a_public_client_in_ci_needs_no_secret_and_sends_only_its_id(cli, tmp_path):
    cli("configure", "pub", "--grant-type", "client_credentials", "--token-url",
        "https://idp.example.com/token", "--client-id", "spa", "--client-auth", "none",
        "--param", "resource=https://api.example.com", "--param", "tenant=t1", "--no-input")
    assert cli.store.data == {}
    shown = cli("targets", "show", "pub", "--json")
    assert json.loads(shown.out)["secrets"] == {}

    from astra_auth.credentials.oauth2_request import grant_request
    from astra_auth.storage.config import ConfigStore

    target = ConfigStore(cli.config_path).load().targets["pub"]
    headers, form = grant_request(target, make_deps(tmp_path / "x.toml")).headers_and_form()
    assert "Authorization" not in headers
    assert form == {"grant_type": "client_credentials", "client_id": "spa",
                    "resource": "https://api.example.com", "tenant": "t1"}


def test_a_secret_for_a_key_method_is_refused(cli, _keys):
    keys, _ = _keys
    result = cli("configure", "k", "--grant-type", "client_credentials", "--token-url",
                 "https://idp.example.com/token", "--client-id", "c", "--client-auth",
                 "private_key_jwt", "--private-key-file", keys.key("rsa"),
                 "--client-secret-stdin", stdin="s3cret-not-wanted\n", expect=2)
    assert ("--client-secret-stdin: not a setting of client authentication private_key_jwt"
            in result.err)


@pytest.mark.parametrize(("param", "message"), [
    ("grant_type=password", "--param: grant_type is a field of the token request itself"),
    ("client_secret=x", "--param: client_secret is a field of the token request itself"),
    ("resource", "--param: 'resource' is not NAME=VALUE"),
])
def test_extra_params_never_replace_the_requests_own_fields(cli, param, message):
    result = cli("configure", "p", "--grant-type", "client_credentials", "--token-url",
                 "https://idp.example.com/token", "--client-id", "c", "--client-secret",
                 "s3cret-value-77", "--param", param, "--no-input", expect=2)
    assert message in result.err


def test_tls_client_auth_needs_a_certificate(cli, _keys):
    keys, _ = _keys
    result = cli("configure", "m", "--grant-type", "client_credentials", "--token-url",
                 "https://idp.example.com/token", "--client-id", "c", "--client-auth",
                 "tls_client_auth", "--private-key-file", keys.key("mtls"), "--no-input",
                 expect=2)
    assert "missing required values" in result.err and "--certificate PATH" in result.err


def test_a_certificate_flag_with_a_private_key_in_it_is_refused(cli, _keys):
    keys, _ = _keys
    result = cli("configure", "m", "--grant-type", "client_credentials", "--token-url",
                 "https://idp.example.com/token", "--client-id", "c", "--client-auth",
                 "tls_client_auth", "--private-key-file", keys.key("mtls"),
                 "--certificate", keys.key("mtls"), "--no-input", expect=2)
    assert "holds a private key; give the key with --private-key-file" in result.err


def test_target_timeout_and_ca_bundle_are_saved_and_flags_override_them(cli, idp12):
    _configure(cli, idp12, "pk", "pkjwt-rsa", "--client-auth", "private_key_jwt",
               "--private-key-file", idp12.keys.key("rsa"), "--timeout", "7")
    assert _saved(cli, "pk")["timeout"] == 7
    # The token command takes both flags too (contract: every network command).
    result = cli("token", "pk", "--timeout", "0", expect=2)
    assert "--timeout" in result.err
    cli("token", "pk", "--timeout", "5", "--ca-bundle", idp12.keys.ca, token_on_stdout=True)


def test_mtls_endpoint_aliases_are_read_from_discovery():
    from astra_auth.oauth.discovery import Metadata

    metadata = Metadata(issuer="https://idp.example.com", token_endpoint="https://idp.example.com/t",
                        source="s", token_endpoint_auth_methods_supported=[
                            "self_signed_tls_client_auth", "tls_client_auth", "private_key_jwt",
                            "client_secret_jwt"])
    assert metadata.client_auth_methods() == ["tls_client_auth", "private_key_jwt"]
    assert metadata.client_auth() == "tls_client_auth"


def test_configure_takes_the_mtls_endpoint_alias_for_tls_client_auth(cli, _keys):
    from astra_auth.oauth.discovery import Metadata

    keys, _ = _keys
    metadata = Metadata(issuer="https://idp.example.com", token_endpoint="https://idp.example.com/token",
                        source="https://idp.example.com/.well-known/openid-configuration",
                        mtls_token_endpoint="https://mtls.idp.example.com/token")
    result = cli("configure", "m", "--grant-type", "client_credentials", "--token-url",
                 "https://idp.example.com/token", "--client-id", "c", "--client-auth",
                 "tls_client_auth", "--private-key-file", keys.key("mtls"), "--certificate",
                 keys.cert("mtls"), "--no-input",
                 metadata_lookup=lambda url, ca_bundle: metadata)
    # A token URL given as a flag is the user's word: kept.
    assert _saved(cli, "m")["oauth2"]["token_url"] == "https://idp.example.com/token"
    assert "mtls_endpoint_aliases" not in result.err
    cli("configure", "m2", "--grant-type", "client_credentials", "--token-url",
        "https://idp.example.com/token", "--client-id", "c", "--client-auth", "none",
        "--no-input")
    from astra_auth.oauth import discovery

    class Client:
        def stream(self, method, url, headers):  # type: ignore[no-untyped-def]
            return Answer()

    class Answer:
        status_code = 200

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            return False

        def iter_bytes(self):  # type: ignore[no-untyped-def]
            yield json.dumps({
                "issuer": "https://idp.example.com", "token_endpoint":
                "https://idp.example.com/token", "mtls_endpoint_aliases": {
                    "token_endpoint": "https://mtls.idp.example.com/token"},
                "token_endpoint_auth_methods_supported": ["tls_client_auth"]}).encode()

    fetched = discovery.fetch("https://idp.example.com/.well-known/openid-configuration",
                              Client())  # type: ignore[arg-type]
    assert isinstance(fetched, Metadata)
    assert fetched.mtls_token_endpoint == "https://mtls.idp.example.com/token"


def test_walkthrough_uses_the_mtls_alias_of_an_issuer(cli, _keys):
    from astra_auth.oauth.discovery import Metadata

    keys, _ = _keys
    metadata = Metadata(issuer="https://idp.example.com", token_endpoint="https://idp.example.com/token",
                        source="https://idp.example.com/.well-known/openid-configuration",
                        token_endpoint_auth_methods_supported=["client_secret_basic",
                                                               "tls_client_auth"],
                        mtls_token_endpoint="https://mtls.idp.example.com/token")
    prompter = RecordingPrompter([
        Step("select", "Access Token URL", 0),  # I have the Access Token URL
        Step("text", "Access Token URL", "https://idp.example.com/token"),
        Step("text", "Client ID", "c"),
        Step("select", "Client authentication", 1),
        Step("text", "Private key file", keys.key("mtls")),
        Step("text", "Certificate file", keys.cert("mtls")),
        Step("text", "Scope", ""), Step("text", "Audience", ""),
        Step("text", "Extra token parameters", ""),
        Step("confirm", "Save", True), Step("confirm", "Run test-token", False),
    ])
    result = cli("configure", "m", "--auth-type", "oauth2", "--grant-type", "client_credentials",
                 "--url", "https://api.example.com", tty=True, prompter=prompter,
                 metadata_lookup=lambda url, ca_bundle: metadata)
    # basic is what the provider prefers; both of its methods are offered.
    assert prompter.selects["Client authentication"] == (["basic", "tls_client_auth"], 0)
    assert ("Token URL for mutual TLS, from the provider's mtls_endpoint_aliases: "
            "https://mtls.idp.example.com/token") in result.err
    assert _saved(cli, "m")["oauth2"]["token_url"] == "https://mtls.idp.example.com/token"


def test_targets_show_for_a_key_method_names_the_key_never_its_value(cli, _keys):
    keys, _ = _keys
    cli("configure", "k", "--grant-type", "client_credentials", "--token-url",
        "https://idp.example.com/token", "--client-id", "c", "--client-auth",
        "private_key_jwt", "--private-key-file", keys.key("rsa"), "--assertion-alg", "PS256",
        "--timeout", "4.5", "--no-input")
    shown = json.loads(cli("targets", "show", "k", "--json").out)
    assert shown["secrets"] == {"private_key": "stored"}
    assert shown["oauth2"]["assertion_alg"] == "PS256" and shown["timeout"] == 4.5
    text = cli("targets", "show", "k").out
    assert "Private key" in text and "stored" in text and "PS256" in text


# ---------------------------------------------------------------------------
# Certificate-bound tokens: the API sees the same certificate


@pytest.fixture
def mtls_api(_keys):  # type: ignore[no-untyped-def]
    """An HTTPS API on loopback that requires the mtls client certificate."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import trustme

    keys, _ = _keys
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=keys.cert("mtls"))  # self-signed: its own CA
    seen: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append(self.connection.getpeercert(binary_form=True) or b"")  # type: ignore[attr-defined]
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ca_file = keys.folder / f"api-ca-{server.server_address[1]}.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    yield f"https://127.0.0.1:{server.server_address[1]}/", str(ca_file), seen
    server.shutdown()


def test_certificate_bound_tokens_present_the_certificate_to_the_api(cli, idp12, mtls_api):
    url, api_ca, seen = mtls_api
    both = idp12.keys.folder / "both-ca.pem"
    both.write_text(Path(idp12.keys.ca).read_text() + Path(api_ca).read_text())
    cli("configure", "m", "--url", url, "--token-url", idp12.token_url, "--grant-type",
        "client_credentials", "--client-id", "mtls-self", "--client-auth", "tls_client_auth",
        "--private-key-file", idp12.keys.key("mtls"), "--certificate", idp12.keys.cert("mtls"),
        "--ca-bundle", str(both), "--certificate-bound")
    data = json.loads(cli("test-token", "m", "--json").out)
    assert data["ok"] is True and data["api"]["http_status"] == 200
    assert seen == [idp12.keys.cert_der["mtls"]]
    # Without the setting, the API's TLS refuses the connection: a warning, not a failure.
    cli("configure", "m", "--no-certificate-bound", "--no-input")
    data = json.loads(cli("test-token", "m", "--json").out)
    assert data["api"]["ok"] is None
    assert data["warnings"][-1].startswith("The API could not be reached from here")


@pytest.mark.parametrize(("lines", "problem"), [
    ('timeout = 0\n', "targets.t.timeout: give a number of seconds between 0 and 600"),
    ('timeout = "10"\n', "targets.t.timeout: must be a number of seconds"),
    ('[targets.t.oauth2.extra_params]\ngrant_type = "password"\n',
     "targets.t.oauth2.extra_params: grant_type is a field of the token request itself"),
    ('[targets.t.oauth2]\ncertificate_bound = true\n',
     "targets.t.oauth2.certificate: missing (certificate_bound presents it to the API)"),
])
def test_config_file_checks_the_enterprise_settings(cli, lines, problem):
    base = ('version = 1\n[targets.t]\nauth_type = "oauth2"\n'
            '[targets.t.oauth2]\ngrant_type = "client_credentials"\n'
            'token_url = "https://idp.example.com/token"\nclient_id = "c"\nclient_auth = "none"\n')
    if lines.startswith("timeout"):
        text = base.replace('auth_type = "oauth2"\n', 'auth_type = "oauth2"\n' + lines)
    elif lines.startswith("[targets.t.oauth2]"):
        text = base + lines.split("\n", 1)[1]
    else:
        text = base + lines
    cli.config_path.parent.mkdir(parents=True, exist_ok=True)
    cli.config_path.write_text(text)
    result = cli("targets", "show", "t", expect=3)
    assert problem in result.err


def test_certificate_bound_with_a_client_secret_keeps_both_and_presents_the_certificate(
        cli, _keys, tmp_path):
    from astra_auth.credentials.oauth2_request import grant_request
    from astra_auth.storage.config import ConfigStore

    keys, _ = _keys
    cli("configure", "b", "--grant-type", "client_credentials", "--token-url",
        "https://idp.example.com/token", "--client-id", "c", "--client-auth", "post",
        "--client-secret-stdin", "--certificate-bound", "--certificate", keys.cert("mtls"),
        "--private-key-file", keys.key("mtls"), "--no-input", stdin="b0und-s3cret-value\n")
    assert set(cli.store.data) == {"b:client_secret", "b:private_key"}
    target = ConfigStore(cli.config_path).load().targets["b"]
    req = grant_request(target, make_deps(tmp_path / "x.toml", secrets=cli.store))
    assert req.tls_identity is not None and req.client_key is req.tls_identity
    assert req.headers_and_form()[1]["client_secret"] == "b0und-s3cret-value"
    # Without the binding the key is no longer needed: it leaves the keyring.
    cli("configure", "b", "--no-certificate-bound", "--no-input")
    assert set(cli.store.data) == {"b:client_secret"}


def _configure_mtls(run, idp12, url: str, api_ca: str, bundle: str) -> None:  # type: ignore[no-untyped-def]
    """Target `m`: tls_client_auth with a certificate-bound token, trusting both
    the provider's CA and the API's (`bundle`, a file name of its own)."""
    both = idp12.keys.folder / bundle
    both.write_text(Path(idp12.keys.ca).read_text() + Path(api_ca).read_text())
    run("configure", "m", "--url", url, "--token-url", idp12.token_url, "--grant-type",
        "client_credentials", "--client-id", "mtls-self", "--client-auth", "tls_client_auth",
        "--certificate", idp12.keys.cert("mtls"), "--certificate-bound", "--secrets", "env",
        "--ca-bundle", str(both), "--no-input")


def test_the_proxy_presents_the_certificate_to_the_api(proc, proxies, idp12, mtls_api):
    import httpx

    url, api_ca, seen = mtls_api
    _configure_mtls(proc, idp12, url, api_ca, "both-ca-proxy.pem")
    running = proxies.start("m=0", env={"ASTRA_AUTH_PRIVATE_KEY": idp12.keys.pems["mtls"]})
    with httpx.Client(trust_env=False, timeout=30) as c:
        answer = c.get(running.url("m", "/things"))
    assert answer.status_code == 200 and answer.text == "ok"
    assert seen == [idp12.keys.cert_der["mtls"]]


def test_ci_without_client_auth_keeps_the_secret_method_and_names_the_providers_own(cli):
    from astra_auth.oauth.discovery import Metadata

    metadata = Metadata(issuer="https://idp.example.com", token_endpoint="https://idp.example.com/token",
                        source="https://idp.example.com/.well-known/openid-configuration",
                        token_endpoint_auth_methods_supported=["private_key_jwt"])
    result = cli("configure", "c", "--grant-type", "client_credentials", "--token-url",
                 "https://idp.example.com/token", "--client-id", "c", "--client-secret-stdin",
                 "--no-input", stdin="s3cret-for-ci-77\n",
                 metadata_lookup=lambda url, ca_bundle: metadata)
    assert _saved(cli, "c")["oauth2"]["client_auth"] == "basic"
    assert ("the provider's metadata lists no client-secret method, only private_key_jwt; if "
            "this client uses one of them, say so with --client-auth private_key_jwt"
            in " ".join(result.err.split()))


def test_verbose_masks_the_client_assertion(cli, idp12):
    _configure(cli, idp12, "pk", "pkjwt-rsa", "--client-auth", "private_key_jwt",
               "--private-key-file", idp12.keys.key("rsa"))
    result = cli("test-token", "pk", "--verbose", "--no-probe")
    assert "client_assertion=••••••" in result.text
    assert "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer" \
        in result.text


def test_ssl_context_for_presents_the_certificate_for_auth_for(cli, idp12, mtls_api,
                                                               monkeypatch):
    import httpx

    import astra_auth

    url, api_ca, seen = mtls_api
    _configure_mtls(cli, idp12, url, api_ca, "both-ca-auth-for.pem")
    monkeypatch.setenv("ASTRA_AUTH_M_PRIVATE_KEY", idp12.keys.pems["mtls"])
    config = str(cli.config_path)
    with httpx.Client(verify=astra_auth.ssl_context_for("m", config=config),
                      auth=astra_auth.auth_for("m", config=config)) as client:
        assert client.get(url).status_code == 200
    assert seen == [idp12.keys.cert_der["mtls"]]
