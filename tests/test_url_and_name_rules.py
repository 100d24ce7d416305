"""One rule for every URL (https, or plain http to a loopback host), checked where
the URL is given; names that read the same variables refused; helper files that
carry their config file's name.

Expected messages, hints and exit codes are written out here as literals.
"""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from astra_auth.core.errors import AstraError
from astra_auth.core.failure import Category

INSECURE = ("the API URL must use https: credentials would cross the network in clear text "
            "(plain http is accepted only for loopback hosts)")
INSECURE_TOKEN = ("the token URL must use https: credentials would cross the network in clear "
                  "text (plain http is accepted only for loopback hosts)")


def one_line(text: str) -> str:
    return " ".join(text.split())


def unique() -> str:
    return uuid.uuid4().hex[:12]


def write_config(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)


# ---------------------------------------------------------------------------
# The API url follows the token URL's rule


def test_configure_refuses_a_plain_http_api_url(cli):
    result = cli("configure", "legacy", "--auth-type", "basic", "--username", "u",
                 "--secrets", "env", "--url", "http://example.com/api", "--no-input", expect=2)
    assert f"error: --url: {INSECURE}" in one_line(result.err)
    assert "→ Give the https address instead: --url https://example.com/api" in result.err
    assert not cli.config_path.exists()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/api", "http://localhost/api",
                                 "http://[::1]:9000", "https://example.com/api"])
def test_configure_accepts_https_and_plain_http_to_loopback(cli, url):
    cli("configure", "legacy", "--auth-type", "basic", "--username", "u",
        "--secrets", "env", "--url", url, "--no-input")
    assert f'url = "{url}"' in cli.config_path.read_text()


def test_targets_add_refuses_a_plain_http_url(cli):
    result = cli("targets", "add", "legacy", "--url", "http://example.com/api", expect=2)
    assert f"error: --url: {INSECURE}" in one_line(result.err)
    assert ("→ Give the https address: astra-auth targets add legacy --url "
            "https://example.com/api") in one_line(result.err)
    assert not cli.config_path.exists()


@pytest.mark.parametrize(("flag", "url", "message"), [
    ("--url", "http://api.example.com", INSECURE),
    ("--token-url", "http://idp.example.com/token", INSECURE_TOKEN),
    ("--issuer", "http://idp.example.com", INSECURE_TOKEN),
    ("--authorization-url", "http://idp.example.com/authorize", INSECURE_TOKEN),
    ("--device-authorization-url", "http://idp.example.com/device", INSECURE_TOKEN),
])
def test_every_typed_url_kind_is_insecure_url_exit_2(flag, url, message):
    from astra_auth.commands.configure.options import check_flags
    from astra_auth.commands.options.configure import ConfigureOptions

    attr = flag.lstrip("-").replace("-", "_")
    with pytest.raises(AstraError) as caught:
        check_flags(ConfigureOptions(name="t", **{attr: url}))
    assert caught.value.category == "insecure_url"
    assert int(caught.value.exit_code) == 2
    assert caught.value.message == f"{flag}: {message}"
    https = "https://" + url.split("://", 1)[1]
    assert caught.value.hints == [f"Give the https address instead: {flag} {https}"]


def test_the_hint_quotes_the_https_address_for_the_shell():
    from astra_auth.commands.configure.options import check_flags
    from astra_auth.commands.options.configure import ConfigureOptions

    with pytest.raises(AstraError) as caught:
        check_flags(ConfigureOptions(name="t", url="http://api.example.com/a;id&b=$(x)"))
    assert caught.value.hints == ["Give the https address instead: --url "
                                  "'https://api.example.com/a;id&b=$(x)'"]


def test_a_hand_edited_config_with_a_plain_http_url_is_insecure_url_exit_3(cli):
    write_config(cli.config_path, 'version = 1\n[targets.legacy]\nurl = "http://example.com/api"\n')
    result = cli("targets", "list", expect=3)
    assert f"targets.legacy.url: {INSECURE}" in one_line(result.err)
    assert ('→ Write the https address in [targets.legacy]: url = "https://example.com/api"'
            in one_line(result.err))


def test_a_config_file_url_refused_carries_the_category():
    from astra_auth.core.errors import ConfigError
    from astra_auth.storage.config.parse import parse

    with pytest.raises(ConfigError) as caught:
        parse({"version": 1, "targets": {"t": {
            "url": "https://api.example.com", "auth_type": "oauth2",
            "oauth2": {"grant_type": "authorization_code",
                       "token_url": "https://idp.example.com/token", "client_id": "c",
                       "authorization_url": "http://idp.example.com/authorize"}}}},
              Path("/cfg/a.toml"))
    assert caught.value.category == "insecure_url"
    assert int(caught.value.exit_code) == 3
    assert caught.value.message == f"/cfg/a.toml: targets.t.oauth2.authorization_url: {INSECURE_TOKEN}"
    assert caught.value.hints[0] == ('Write the https address in [targets.t.oauth2]: '
                                     'authorization_url = "https://idp.example.com/authorize"')


def test_test_token_refuses_a_plain_http_probe(cli):
    cli("configure", "api", "--auth-type", "bearer", "--url", "https://api.example.com",
        "--token-stdin", "--no-input", stdin="bearer-value-123456789\n")
    result = cli("test-token", "api", "--json", "--probe", "http://api.example.com/me", expect=2)
    assert f"error: --probe: {INSECURE}" in one_line(result.err)
    assert "→ Give the https address instead: --probe https://api.example.com/me" in result.err
    assert result.out == ""


def test_a_document_url_over_plain_http_is_insecure_url():
    from astra_auth.imports.document import fetch

    with pytest.raises(AstraError) as caught:
        fetch("http://api.example.com/openapi.json", httpx.Client, 5)
    assert caught.value.category == "insecure_url"
    assert int(caught.value.exit_code) == 2
    assert caught.value.hints == ["Give its https address: https://api.example.com/openapi.json"]


def test_a_discovery_document_naming_a_plain_http_endpoint_is_insecure_url_exit_4(cli, faults):
    base = unique()
    faults.answer(f"{base}/.well-known/openid-configuration",
                  {"issuer": f"{faults.base}/{base}",
                   "token_endpoint": "http://idp.example.com/token"})
    result = cli("configure", "t", "--issuer", f"{faults.base}/{base}",
                 "--client-id", "c", "--secrets", "env", "--no-input", expect=4,
                 metadata_lookup="network")
    assert (f"error: the discovery document {faults.base}/{base}/.well-known/"
            f"openid-configuration: its token_endpoint is not usable: {INSECURE_TOKEN}"
            in one_line(result.err))
    assert not cli.config_path.exists()


def test_a_loopback_name_that_resolves_elsewhere_is_insecure_url_exit_3(cli, faults):
    path = unique()
    url = f"http://nowhere-{path}.localhost:{faults.port}/{path}"
    cli("configure", "t", "--grant-type", "client_credentials", "--token-url", url,
        "--client-id", "c", "--secrets", "env", "--no-input")
    result = cli("test-token", "t", "--json", expect=3,
                 environ={"ASTRA_AUTH_CLIENT_SECRET": "s3cret-value-0123456789"})
    data = json.loads(result.out)
    assert data["error"]["category"] == "insecure_url"
    assert data["hints"][0] == ("Use the provider's https token URL: astra-auth configure t "
                                "--token-url https://… --no-input")
    assert faults.requests_to(path) == []


def test_the_two_categories_exist_with_exit_4():
    assert int(Category("insecure_url").exit_code) == 4
    assert int(Category("issuer_mismatch").exit_code) == 4


# ---------------------------------------------------------------------------
# Device code: the verification URLs a provider sends


def device_target(cli, faults, answer):  # type: ignore[no-untyped-def]
    base = unique()
    faults.answer(f"{base}/device", answer)
    faults.answer(f"{base}/token", {"error": "access_denied"}, status=400)
    cli("configure", "dev", "--grant-type", "device_code", "--token-url",
        faults.url(f"{base}/token"), "--device-authorization-url", faults.url(f"{base}/device"),
        "--client-id", "c", "--client-auth", "none", "--no-input")
    return base


HTTPS_PLEASE = ("must use https: credentials would cross the network in clear text (plain "
                "http is accepted only for loopback hosts)")
NOT_HTTPS = "the URL must start with https:// (for example https://idp.example.com/device)"


@pytest.mark.parametrize(("key", "value", "shown", "problem"), [
    ("verification_uri", "http://idp.example.com/device", "http://idp.example.com",
     f"the verification_uri {HTTPS_PLEASE}"),
    ("verification_uri", "javascript:alert(document.cookie)", "javascript:", NOT_HTTPS),
    ("verification_uri_complete", "http://idp.example.com/device?user_code=ABCD-EFGH",
     "http://idp.example.com", f"the verification_uri_complete {HTTPS_PLEASE}"),
    ("verification_uri_complete", "javascript:alert(1)//https://idp.example.com",
     "javascript:", NOT_HTTPS),
    ("verification_uri", "https://idp.example.com/device\x1b[31mred\x1b[0m",
     "https://idp.example.com", "the URL contains spaces or control characters"),
    ("verification_uri", "https://idp.example.com/" + "d" * 5000, "https://idp.example.com",
     "the URL is too long (5024 characters; at most 2048)"),
    ("verification_uri_complete", "https://idp.example.com/d?\x07c=1",
     "https://idp.example.com", "the URL contains spaces or control characters"),
    ("verification_uri", "https://user:pw@idp.example.com/device", "https://idp.example.com",
     "the URL contains user information (user:password@); credentials belong in the client "
     "ID and secret, never in the URL"),
])
def test_a_verification_url_that_is_not_https_is_insecure_url_exit_4(cli, faults, key, value,
                                                                      shown, problem):
    answer = {"device_code": "dc-1", "user_code": "ABCD-EFGH", "expires_in": 600,
              "verification_uri": "https://idp.example.com/device", key: value}
    base = device_target(cli, faults, answer)
    result = cli("login", "dev", expect=4, sleep=lambda s: None)
    assert (f"error: insecure_url: The device authorization endpoint's {key} ({shown}) is "
            f"refused: {problem}. It is not shown as a link to follow." in one_line(result.err))
    assert (f"→ The provider sent a {key} that is not shown as a link: ask its administrator "
            "for an https one (without user information or control characters), then run "
            "again: astra-auth login dev" in one_line(result.err))
    assert value not in result.text and "ABCD-EFGH" not in result.text
    assert "\x1b" not in result.text and "\x07" not in result.text and "d" * 100 not in result.text
    assert faults.requests_to(f"{base}/token") == []


def test_a_plain_http_verification_url_on_loopback_is_shown(cli, faults):
    answer = {"device_code": "dc-1", "user_code": "ABCD-EFGH", "expires_in": 600,
              "verification_uri": "http://127.0.0.1:9/device"}
    device_target(cli, faults, answer)
    result = cli("login", "dev", expect=4, sleep=lambda s: None)
    assert "http://127.0.0.1:9/device" in result.err
    assert "access_denied" in result.err


def test_a_missing_verification_uri_is_an_unusable_answer(cli, faults):
    answer = {"device_code": "dc-1", "user_code": "ABCD-EFGH", "expires_in": 600}
    device_target(cli, faults, answer)
    result = cli("login", "dev", expect=6, sleep=lambda s: None)
    assert ("The device authorization endpoint's answer is not usable (RFC 8628 §3.2): no "
            "verification_uri (an https URL)." in one_line(result.err))


# ---------------------------------------------------------------------------
# Authorization code: the response's iss


class Redirector:
    """The injected browser: sends the loopback listener a code, the login's
    state, and `iss` as given (None: no iss at all)."""

    def __init__(self, iss: str | None) -> None:
        self.iss = iss
        self.answers: list[httpx.Response] = []
        self.thread: threading.Thread | None = None

    def __call__(self, url: str) -> bool:
        query = parse_qs(urlsplit(url).query)
        params = {"code": "the-code-1234", "state": query["state"][0]}
        if self.iss is not None:
            params["iss"] = self.iss
        redirect = query["redirect_uri"][0]
        self.thread = threading.Thread(
            target=lambda: self.answers.append(httpx.get(redirect, params=params, timeout=10)),
            daemon=True)
        self.thread.start()
        return True


def web_target(cli, faults, *, base: str | None = None):  # type: ignore[no-untyped-def]
    base = base or unique()
    issuer = f"{faults.base}/{base}"
    faults.answer(f"{base}/.well-known/openid-configuration", {
        "issuer": issuer, "token_endpoint": f"{issuer}/token",
        "authorization_endpoint": f"{issuer}/authorize",
        "authorization_response_iss_parameter_supported": True})
    faults.answer(f"{base}/token", {"access_token": "at-1a2b3c4d5e6f7a8b",
                                    "token_type": "Bearer", "expires_in": 300,
                                    "refresh_token": "rt-9f8e7d6c5b4a3f2e"})
    cli("configure", "web", "--grant-type", "authorization_code", "--token-url",
        f"{issuer}/token", "--authorization-url", f"{issuer}/authorize", "--client-id", "c",
        "--client-auth", "none", "--no-input")
    return base, issuer


@pytest.mark.parametrize("suffix", [".evil", "/evil", "x", "/"])
def test_an_iss_that_only_starts_with_the_issuer_is_issuer_mismatch(cli, faults, store, suffix):
    base, issuer = web_target(cli, faults)
    browser = Redirector(issuer + suffix)
    result = cli("login", "web", open_browser=browser, metadata_lookup="network", expect=4)
    assert browser.thread is not None
    browser.thread.join(10)
    assert (f"error: issuer_mismatch: The browser came back from another authorization server "
            f"({issuer + suffix}) than this target's ({issuer}); RFC 9207 says to refuse it: "
            "its code was not used." in one_line(result.err))
    assert ("→ Log in again: astra-auth login web. If this comes back, something other than "
            "the provider answers the login" in one_line(result.err))
    assert faults.requests_to(f"{base}/token") == []
    assert "web:refresh_token" not in store.data


def test_a_missing_iss_the_provider_promises_is_issuer_mismatch(cli, faults, store):
    base, issuer = web_target(cli, faults)
    browser = Redirector(None)
    result = cli("login", "web", open_browser=browser, metadata_lookup="network", expect=4)
    assert browser.thread is not None
    browser.thread.join(10)
    assert "error: issuer_mismatch: The browser came back without the `iss` parameter" \
        in one_line(result.err)
    assert faults.requests_to(f"{base}/token") == []


def test_the_exact_iss_logs_in(cli, faults, store, leaks):
    base, issuer = web_target(cli, faults)
    leaks.watch("at-1a2b3c4d5e6f7a8b")
    leaks.watch("rt-9f8e7d6c5b4a3f2e")
    browser = Redirector(issuer)
    cli("login", "web", open_browser=browser, metadata_lookup="network")
    assert len(faults.requests_to(f"{base}/token")) == 1
    assert store.data["web:refresh_token"] == "rt-9f8e7d6c5b4a3f2e"


def test_a_long_iss_is_compared_whole_not_by_its_first_2000_characters(cli, faults, store):
    # An issuer of exactly 2000 characters, and an iss one character longer.
    head = f"{unique()}/"
    base = head + "p" * (2000 - len(f"{faults.base}/{head}"))
    base, issuer = web_target(cli, faults, base=base)
    assert len(issuer) == 2000
    browser = Redirector(issuer + "x")
    result = cli("login", "web", open_browser=browser, metadata_lookup="network", expect=4)
    assert browser.thread is not None
    browser.thread.join(10)
    assert "error: issuer_mismatch:" in result.err
    assert faults.requests_to(f"{base}/token") == []


# ---------------------------------------------------------------------------
# Names that read the same variables


def basic_target(cli, name, expect=0):  # type: ignore[no-untyped-def]
    return cli("configure", name, "--auth-type", "basic", "--username", "u", "--secrets",
               "env", "--url", "https://api.example.com", "--no-input", expect=expect)


@pytest.mark.parametrize("second", ["Payments.API", "payments.api", "PAYMENTS-API",
                                    "payments_api"])
def test_configure_refuses_a_name_that_reads_another_targets_variables(cli, second):
    basic_target(cli, "payments-api")
    result = basic_target(cli, second, expect=2)
    assert (f"error: target name {second!r} reads the same variables (ASTRA_AUTH_PAYMENTS_API_*) "
            "as the existing target 'payments-api'; two targets cannot share them"
            in one_line(result.err))
    assert "→ Change the existing target with: astra-auth configure payments-api" in result.err
    assert f"[targets.{second}]" not in cli.config_path.read_text()
    assert f'[targets."{second}"]' not in cli.config_path.read_text()


def test_targets_add_refuses_a_name_that_reads_another_targets_variables(cli):
    cli("targets", "add", "Payments.API")
    result = cli("targets", "add", "payments-api", expect=2)
    assert ("error: target name 'payments-api' reads the same variables "
            "(ASTRA_AUTH_PAYMENTS_API_*) as the existing target 'Payments.API'"
            in one_line(result.err))
    assert "payments-api" not in cli.config_path.read_text()


def test_configuring_the_same_target_again_by_its_exact_name_is_fine(cli):
    basic_target(cli, "Payments.API")
    basic_target(cli, "Payments.API")
    basic_target(cli, "payments-apis")  # another variable name: ASTRA_AUTH_PAYMENTS_APIS_*
    text = cli.config_path.read_text()
    assert '[targets."Payments.API"]' in text and "[targets.payments-apis]" in text


def test_the_walk_through_asks_again_for_a_name_that_clashes(cli, capsys):
    from astra_auth.commands.configure.walkthrough import ask_target
    from astra_auth.commands.options.configure import ConfigureOptions
    from astra_auth.storage.config import Target
    from tests.fakes import ScriptedPrompter, Step, make_deps

    prompter = ScriptedPrompter([Step("text", "Target", "Payments.API"),
                                 Step("text", "Target", "orders")])
    deps = make_deps(cli.config_path, prompter=prompter, tty=True)
    name = ask_target(ConfigureOptions(), {"payments-api": Target("payments-api")}, deps)
    assert name == "orders"
    prompter.verify()
    assert ("target name 'Payments.API' reads the same variables (ASTRA_AUTH_PAYMENTS_API_*) "
            "as the existing target 'payments-api'; two targets cannot share them. Try again."
            in one_line(capsys.readouterr().err))


# ---------------------------------------------------------------------------
# Files beside the config carry its name


def test_two_config_files_in_one_folder_keep_their_own_expiries(tmp_path):
    from astra_auth.storage.token_state import read_state, write_state

    folder = tmp_path / "configs"
    folder.mkdir()
    a, b = folder / "a.toml", folder / "b.toml"
    write_state(a, "api", 1000.0)
    write_state(b, "api", 2000.0)
    assert read_state(a) == {"api": 1000.0}
    assert read_state(b) == {"api": 2000.0}
    assert sorted(p.name for p in folder.iterdir()) == [".a.toml.tokens.json",
                                                        ".b.toml.tokens.json"]


def test_an_old_shared_tokens_file_is_no_longer_read(tmp_path):
    from astra_auth.storage.token_state import read_state

    (tmp_path / ".tokens.json").write_text(json.dumps({"api": 1000.0}))
    assert read_state(tmp_path / "a.toml") == {}


def test_the_token_lock_is_named_after_the_config_file(cli, idp):
    from tests.fakes import CLIENT_SECRET, MemoryStore

    second = cli.config_path.with_name("b.toml")
    for config in (cli.config_path, second):
        keyring = MemoryStore()  # each config file its own keyring: both fetch a token
        cli("--config", str(config), "configure", "api", "--grant-type", "client_credentials",
            "--token-url", idp.token_url, "--client-id", "scanner-app",
            "--client-secret-stdin", "--no-input", stdin=CLIENT_SECRET + "\n", secrets=keyring)
        cli("--config", str(config), "token", "api", token_on_stdout=True, secrets=keyring)
    names = sorted(p.name for p in cli.config_path.parent.iterdir() if p.name.startswith("."))
    assert names == [".b.toml.token-api.lock", ".b.toml.tokens.json",
                     ".config.toml.token-api.lock", ".config.toml.tokens.json"]
