"""Keys checked when they are given, `--assertion-kid`, and CA bundles others can change.

A key that `configure` is about to store is parsed and checked against the
algorithm it signs with, before anything is saved: a bad one is `invalid_key`
(exit 3) and the stored key and the config file stay as they were.  Keys are
made here with `cryptography`, and written outside the test's own folder
(the leak guard takes a private key file there for a leak).
"""

from __future__ import annotations

import json
import os
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from tests.fakes import NO_DOCUMENT, ScriptedPrompter, Step

TOKEN_URL = "https://idp.example.com/oauth/token"
PKJWT = ["--grant-type", "client_credentials", "--token-url", TOKEN_URL, "--client-id", "app",
         "--client-auth", "private_key_jwt", "--no-input"]
TRUNCATED = ("-----BEGIN PRIVATE KEY-----\n"
             "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n")


def _pem(key, traditional: bool = False) -> str:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    fmt = (serialization.PrivateFormat.TraditionalOpenSSL if traditional
           else serialization.PrivateFormat.PKCS8)
    return key.private_bytes(serialization.Encoding.PEM, fmt,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def keys() -> dict[str, str]:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    rsa2048 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "rsa": _pem(rsa2048),
        "rsa-pkcs1": _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048),
                          traditional=True),
        "rsa1024": _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        "p256": _pem(ec.generate_private_key(ec.SECP256R1())),
        "p384": _pem(ec.generate_private_key(ec.SECP384R1())),
    }


@pytest.fixture
def key_folder(tmp_path_factory: pytest.TempPathFactory, keys, leaks) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("keys")
    for name, pem in keys.items():
        path = folder / f"{name}.pem"
        path.write_text(pem)
        path.chmod(0o600)
        leaks.watch(*pem.strip().splitlines()[1:-1])
    return folder


def _saved(cli) -> dict:  # type: ignore[no-untyped-def, type-arg]
    data: dict = tomllib.loads(cli.config_path.read_text())  # type: ignore[type-arg]
    return data


# ---------------------------------------------------------------------------
# Keys refused before anything is saved


def test_a_truncated_key_is_refused_and_the_stored_key_and_config_stay(cli, store, key_folder,
                                                                       keys):
    cli("configure", "pk", *PKJWT, "--private-key-file", str(key_folder / "rsa.pem"))
    config = cli.config_path.read_text()
    truncated = key_folder / "truncated.pem"
    truncated.write_text(TRUNCATED)
    truncated.chmod(0o600)
    result = cli("configure", "pk", "--private-key-file", str(truncated), "--no-input",
                 expect=3)
    assert result.err.splitlines() == [
        "error: invalid_key: The private key for pk cannot be used: The private key is not a "
        "readable PEM private key. Nothing was saved.",
        "  → Give a key that fits: astra-auth configure pk --private-key-file PATH --no-input",
    ]
    assert store.data["pk:private_key"] == keys["rsa"]
    assert cli.config_path.read_text() == config


def test_a_truncated_key_on_stdin_is_refused_too(cli, store):
    result = cli("configure", "sig", "--auth-type", "jwt", "--algorithm", "RS256",
                 "--signing-key-stdin", "--no-input", stdin=TRUNCATED, expect=3)
    assert ("error: invalid_key: The signing key for sig cannot sign with RS256: It is not a "
            "readable PEM private key. Nothing was saved.") in result.err
    assert store.data == {} and not cli.config_path.exists()


@pytest.mark.parametrize("flags", [
    ["--client-auth", "private_key_jwt", "--private-key-file"],
    ["--auth-type", "jwt", "--algorithm", "RS256", "--signing-key-file"],
], ids=["private_key_jwt", "jwt"])
def test_a_1024_bit_rsa_key_is_refused_for_rs256(cli, store, key_folder, flags):
    args = (["--grant-type", "client_credentials", "--token-url", TOKEN_URL, "--client-id",
             "app"] if flags[0] == "--client-auth" else [])
    result = cli("configure", "t", *args, *flags, str(key_folder / "rsa1024.pem"), "--no-input",
                 expect=3)
    what = "private key" if flags[0] == "--client-auth" else "signing key"
    assert (f"error: invalid_key: The {what} for t cannot sign with RS256: RS256 needs an RSA "
            "key of at least 2048 bits (this one has 1024). Nothing was saved.") in result.err
    assert store.data == {} and not cli.config_path.exists()


def test_a_p384_key_is_refused_for_es256(cli, store, key_folder):
    result = cli("configure", "pk", *PKJWT, "--assertion-alg", "ES256",
                 "--private-key-file", str(key_folder / "p384.pem"), expect=3)
    assert result.err.splitlines() == [
        "error: invalid_key: The private key for pk cannot sign with ES256: ES256 needs an EC "
        "P-256 private key. Nothing was saved.",
        "  → Give a key that fits: astra-auth configure pk --private-key-file PATH --no-input",
        "  → Or sign with an algorithm that fits the key: astra-auth configure pk "
        "--assertion-alg RS256|PS256|ES256 --no-input",
    ]
    result = cli("configure", "j", "--auth-type", "jwt", "--algorithm", "ES256",
                 "--signing-key-file", str(key_folder / "p384.pem"), "--no-input", expect=3)
    assert ("invalid_key: The signing key for j cannot sign with ES256: ES256 needs a P-256 "
            "key, not P-384. Nothing was saved.") in result.err
    assert store.data == {} and not cli.config_path.exists()


def test_a_p256_key_signs_es256(cli, store, key_folder, keys):
    cli("configure", "pk", *PKJWT, "--assertion-alg", "ES256",
        "--private-key-file", str(key_folder / "p256.pem"))
    assert store.data == {"pk:private_key": keys["p256"]}


def test_a_stored_key_that_does_not_fit_a_new_algorithm_is_refused(cli, store, key_folder,
                                                                    keys):
    cli("configure", "pk", *PKJWT, "--private-key-file", str(key_folder / "rsa.pem"))
    result = cli("configure", "pk", "--assertion-alg", "ES256", "--no-input", expect=3)
    assert ("invalid_key: The private key for pk cannot sign with ES256: ES256 needs an EC "
            "P-256 private key. Nothing was saved.") in result.err
    assert _saved(cli)["targets"]["pk"]["oauth2"].get("assertion_alg") is None
    assert store.data["pk:private_key"] == keys["rsa"]


def test_an_hmac_secret_of_8_bytes_is_refused(cli, store):
    result = cli("configure", "h", "--auth-type", "http_signature", "--key-id", "k",
                 "--algorithm", "hmac-sha256", "--signing-key-stdin", "--no-input",
                 stdin="8bytes!!\n", expect=3)
    assert result.err.splitlines() == [
        "error: invalid_key: The signing key for h cannot sign with hmac-sha256: An "
        "hmac-sha256 secret must be at least 16 bytes long. Nothing was saved.",
        "  → Give a shared secret (not a PEM key) that fits: printf '%s\\n' \"$SIGNING_KEY\" "
        "| astra-auth configure h --signing-key-stdin --no-input",
    ]
    assert store.data == {} and not cli.config_path.exists()


@pytest.mark.parametrize("name", ["rsa", "rsa-pkcs1"], ids=["pkcs8", "pkcs1"])
def test_pkcs8_and_pkcs1_keys_are_both_accepted(cli, store, key_folder, keys, name):
    cli("configure", "pk", *PKJWT, "--private-key-file", str(key_folder / f"{name}.pem"))
    assert store.data == {"pk:private_key": keys[name]}


def test_dev_zero_is_refused_at_once(cli, store):
    result = cli("configure", "pk", *PKJWT, "--private-key-file", "/dev/zero", expect=2)
    assert result.err.splitlines() == [
        "error: --private-key-file: /dev/zero: too large for a key file (a PEM private key "
        "fits in 8192 bytes)"]
    assert store.data == {} and not cli.config_path.exists()


def test_a_named_pipe_without_a_writer_does_not_hang(cli, tmp_path):
    fifo = tmp_path / "key.fifo"
    os.mkfifo(fifo)
    result = cli("configure", "pk", *PKJWT, "--private-key-file", str(fifo), expect=2)
    assert result.err.splitlines() == ["error: --private-key-file: the key file is empty"]


def test_a_key_file_others_can_read_is_warned_about_and_saved(cli, store, key_folder, keys):
    path = key_folder / "rsa.pem"
    path.chmod(0o644)
    result = cli("configure", "pk", *PKJWT, "--private-key-file", str(path))
    assert (f"! {path} can be read by other users (mode 0644); a private key should be "
            f"readable by you alone: chmod 600 {path}") in result.err.splitlines()
    assert store.data == {"pk:private_key": keys["rsa"]}
    path.chmod(0o640)
    result = cli("configure", "pk", "--private-key-file", str(path), "--no-input")
    assert f"! {path} can be read by its group (mode 0640)" in result.err


def test_a_key_file_only_its_owner_reads_gets_no_warning(cli, key_folder):
    result = cli("configure", "pk", *PKJWT, "--private-key-file", str(key_folder / "rsa.pem"))
    assert "can be read by" not in result.err


def test_a_key_file_for_a_target_that_keeps_its_secrets_in_variables_is_refused(
        cli, store, key_folder):
    cli("configure", "pk", *PKJWT, "--secrets", "env")
    result = cli("configure", "pk", "--private-key-file", str(key_folder / "rsa.pem"),
                 "--no-input", expect=2)
    assert result.err.splitlines() == [
        "error: --private-key-file: target 'pk' keeps its secrets in environment variables "
        "(secrets = env), so nothing given here would be stored",
        "  → To store it in the OS keyring instead, add --secrets keyring: astra-auth "
        "configure pk --secrets keyring --private-key-file PATH --no-input",
        "  → Or leave the flag out and set ASTRA_AUTH_PK_PRIVATE_KEY where astra-auth runs.",
    ]
    assert store.data == {}


# ---------------------------------------------------------------------------
# The walk-through asks again


def _pkjwt_walk(*key_steps: Step) -> ScriptedPrompter:
    return ScriptedPrompter([
        Step("text", "Target name", "w"), NO_DOCUMENT, Step("text", "API URL", ""),
        Step("select", "Authentication type", 0), Step("select", "Grant type", 0),
        Step("select", "Access Token URL", 0), Step("text", "Access Token URL", TOKEN_URL),
        Step("text", "Client ID", "app"),
        Step("select", "Client authentication", 2),  # private_key_jwt
        *key_steps,
        Step("text", "Scope", ""), Step("text", "Audience", ""),
        Step("text", "Extra token parameters", ""),
        Step("confirm", "Save", True), Step("confirm", "Run test-token", False),
    ])


def test_walkthrough_asks_again_for_an_unreadable_or_unfitting_key(cli, store, key_folder,
                                                                     keys):
    truncated = key_folder / "truncated.pem"
    truncated.write_text(TRUNCATED)
    truncated.chmod(0o600)
    prompter = _pkjwt_walk(
        Step("text", "Private key file", str(truncated)),  # unreadable: asked again
        Step("text", "Private key file", str(key_folder / "rsa1024.pem")),
        Step("text", "Certificate file (optional", ""),
        Step("select", "Assertion algorithm", 0),  # RS256: the 1024-bit key does not fit
        Step("text", "Private key file", str(key_folder / "p256.pem")),
        Step("select", "Assertion algorithm", 2),  # ES256 fits it
    )
    result = cli("configure", tty=True, prompter=prompter)
    assert "! The private key is not a readable PEM private key. Try again." in result.err
    assert ("! RS256 needs an RSA key of at least 2048 bits (this one has 1024). Give a key "
            "that fits, or choose another algorithm.") in result.err
    assert store.data == {"w:private_key": keys["p256"]}
    assert _saved(cli)["targets"]["w"]["oauth2"]["assertion_alg"] == "ES256"


def test_walkthrough_asks_again_for_a_jwt_key_that_does_not_fit(cli, store, key_folder, keys):
    prompter = ScriptedPrompter([
        Step("text", "Target name", "j"), NO_DOCUMENT, Step("text", "API URL", ""),
        Step("select", "Authentication type", 4),  # JWT
        Step("select", "Signing algorithm", 5),  # ES256
        Step("text", "Private key file", str(key_folder / "p384.pem")),
        Step("text", "Private key file", str(key_folder / "p256.pem")),
        Step("text", "Claims", ""), Step("text", "Lifetime", ""), Step("text", "Header name", ""),
        Step("text", "Prefix", ""),
        Step("confirm", "Save", True), Step("confirm", "Run test-token", False),
    ])
    result = cli("configure", tty=True, prompter=prompter)
    assert "! ES256 needs a P-256 key, not P-384. Try again." in result.err
    assert store.data == {"j:signing_key": keys["p256"]}


# ---------------------------------------------------------------------------
# The real keyring: the stored key stays


@pytest.mark.keyring
def test_a_refused_key_leaves_the_real_keyring_entry_as_it_was(proc, real_keyring, key_folder,
                                                               keys):
    name = real_keyring.name()
    proc("configure", name, *PKJWT, "--private-key-file", str(key_folder / "rsa.pem"))
    result = proc("configure", name, "--private-key-stdin", "--no-input",
                  input=keys["rsa1024"], expect=3)
    assert (f"invalid_key: The private key for {name} cannot sign with RS256: RS256 needs an "
            "RSA key of at least 2048 bits (this one has 1024). Nothing was saved.") in result.err
    assert real_keyring.get(f"{name}:private_key") == keys["rsa"]


# ---------------------------------------------------------------------------
# --assertion-kid


class _TokenEndpoint(BaseHTTPRequestHandler):
    """A token endpoint on loopback that keeps each form it receives."""

    forms: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.forms.append({k: v[0] for k, v in parse_qs(body).items()})
        answer = json.dumps({"access_token": "at-from-test", "token_type": "Bearer",
                             "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def token_endpoint() -> Iterator[tuple[str, list[dict[str, str]]]]:
    forms: list[dict[str, str]] = []
    handler = type("Handler", (_TokenEndpoint,), {"forms": forms})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/token", forms
    server.shutdown()
    server.server_close()


def _header(jwt: str) -> dict:  # type: ignore[type-arg]
    import base64

    part = jwt.split(".")[0]
    header: dict = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # type: ignore[type-arg]
    return header


def test_the_assertion_names_the_key_by_the_assertion_kid(cli, key_folder, token_endpoint,
                                                          keys):
    from joserfc.jwk import RSAKey

    url, forms = token_endpoint
    cli("configure", "pk", "--grant-type", "client_credentials", "--token-url", url,
        "--client-id", "app", "--client-auth", "private_key_jwt", "--private-key-file",
        str(key_folder / "rsa.pem"), "--assertion-kid", "key-2026-01", "--no-input")
    assert _saved(cli)["targets"]["pk"]["oauth2"]["assertion_kid"] == "key-2026-01"
    cli("token", "pk", token_on_stdout=True)
    assert _header(forms[-1]["client_assertion"]) == {"alg": "RS256", "typ": "JWT",
                                                      "kid": "key-2026-01"}
    # '' goes back to the key's RFC 7638 thumbprint.
    cli("configure", "pk", "--assertion-kid", "", "--no-input")
    assert "assertion_kid" not in _saved(cli)["targets"]["pk"]["oauth2"]
    cli("token", "pk", "--no-cache", token_on_stdout=True)
    thumbprint = RSAKey.import_key(keys["rsa"]).thumbprint()
    assert _header(forms[-1]["client_assertion"])["kid"] == thumbprint


def test_targets_show_gives_the_assertion_kid(cli, key_folder):
    cli("configure", "pk", *PKJWT, "--private-key-file", str(key_folder / "rsa.pem"),
        "--assertion-kid", "key-2026-01")
    data = json.loads(cli("targets", "show", "pk", "--json").out)
    assert data["oauth2"]["assertion_kid"] == "key-2026-01"
    human = cli("targets", "show", "pk").out
    assert "Assertion              provider default, aud default, key named by kid key-2026-01" \
        in human


def test_assertion_kid_is_refused_for_another_client_auth(cli):
    result = cli("configure", "a", "--grant-type", "client_credentials", "--token-url",
                 TOKEN_URL, "--client-id", "app", "--client-auth", "basic",
                 "--client-secret-stdin", "--assertion-kid", "k", "--no-input", stdin="s3cret\n",
                 expect=2)
    assert result.err.splitlines() == [
        "error: --assertion-kid: not a setting of client authentication basic; leave it out, "
        "or choose the method it belongs to with --client-auth"]
    assert not cli.config_path.exists()


def test_assertion_kid_with_a_control_character_is_refused(cli):
    result = cli("configure", "pk", *PKJWT, "--assertion-kid", "a\tb", expect=2)
    assert result.err.splitlines() == [
        "error: --assertion-kid: 'a\\tb' is not a key ID (printable ASCII without quotes, "
        "at most 256 characters)"]


# ---------------------------------------------------------------------------
# CA bundles that others can change


@pytest.fixture
def ca_bundle(tmp_path: Path) -> Path:
    import trustme

    folder = tmp_path / "ca"
    folder.mkdir(mode=0o700)
    path = folder / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    path.chmod(0o644)
    return path


def test_a_group_writable_ca_bundle_is_refused(cli, ca_bundle):
    ca_bundle.chmod(0o664)
    result = cli("configure", "a", "--grant-type", "client_credentials", "--token-url",
                 TOKEN_URL, "--client-id", "app", "--client-auth", "none",
                 "--ca-bundle", str(ca_bundle), "--no-input", expect=3)
    assert result.err.splitlines() == [
        f"error: {ca_bundle}: refusing to use it as a CA bundle: the file can be written by its "
        "group (mode 0664)",
        "  → Anyone who can change a CA bundle can add a CA of their own and read the token "
        f"requests. Fix the permissions (chmod go-w {ca_bundle}, and the same on its folder) and "
        "own it yourself, or give another bundle with --ca-bundle.",
    ]
    assert not cli.config_path.exists()


def test_a_saved_ca_bundle_that_became_writable_is_refused_by_token(cli, ca_bundle):
    cli("configure", "a", "--grant-type", "client_credentials", "--token-url", TOKEN_URL,
        "--client-id", "app", "--client-auth", "none", "--ca-bundle", str(ca_bundle),
        "--no-input")
    ca_bundle.parent.chmod(0o777)
    try:
        result = cli("token", "a", expect=3)
    finally:
        ca_bundle.parent.chmod(0o700)
    assert result.err.splitlines()[0] == (
        f"error: {ca_bundle}: refusing to use it as a CA bundle: its folder can be written by "
        "others (mode 0777)")


def test_a_ca_bundle_in_a_sticky_folder_is_fine(cli, ca_bundle):
    ca_bundle.parent.chmod(0o1777)
    try:
        cli("configure", "a", "--grant-type", "client_credentials", "--token-url", TOKEN_URL,
            "--client-id", "app", "--client-auth", "none", "--ca-bundle", str(ca_bundle),
            "--no-input")
    finally:
        ca_bundle.parent.chmod(0o700)
    assert _saved(cli)["targets"]["a"]["ca_bundle"] == str(ca_bundle)
