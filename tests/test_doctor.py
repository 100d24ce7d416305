"""`astra-auth doctor`: what it finds and how it says it.
"""

from __future__ import annotations

import json

from tests.fakes import CLIENT_SECRET, add_client, broken_store
from tests.test_secret_sources import WRONG_SECRET


def test_doctor_names_the_variable_that_overrides_a_stored_secret(cli):
    add_client(cli, "pay", "https://idp.example.com/oauth/token", "--client-secret-stdin",
         stdin=CLIENT_SECRET + "\n")
    result = cli("doctor", environ={"ASTRA_AUTH_CLIENT_SECRET": WRONG_SECRET})
    lines = result.out.splitlines()
    assert ("! Secrets from variables: ASTRA_AUTH_CLIENT_SECRET overrides the stored client "
            "secret of pay") in lines
    assert ("  - To fix: if the stored secret is the right one: unset ASTRA_AUTH_CLIENT_SECRET"
            in lines)
    assert any(line.startswith("✓ Keyring: ") and line.endswith("unlocked and answering")
               for line in lines)
    assert any(line.startswith("✓ Config file: ") and "(1 target; mode 0600, folder 0700)" in line
               for line in lines)


def test_doctor_names_a_broken_config_file_once(cli, config_path):
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text("version = 1\n[targets.pay\n")
    config_path.chmod(0o600)
    first = cli("doctor", expect=3).out.splitlines()[0]
    assert first.startswith(f"✗ Config file: {config_path}: is not valid TOML")
    assert first.count(str(config_path)) == 1


def test_doctor_lists_each_variable_on_its_own_line(cli):
    add_client(cli, "pay", "https://idp.example.com/oauth/token", "--client-secret-stdin",
         stdin=CLIENT_SECRET + "\n")
    cli("configure", "keyed", "--auth-type", "api_key", "--key-name", "X-Key", "--secrets",
        "env")
    lines = cli("doctor", environ={"ASTRA_AUTH_CLIENT_SECRET": WRONG_SECRET,
                                   "ASTRA_AUTH_KEYED_API_KEY": "k-value-1"}).out.splitlines()
    start = lines.index("! Secrets from variables:")
    assert lines[start + 1:start + 4] == [
        "  ASTRA_AUTH_KEYED_API_KEY supplies the API key of keyed",
        "  ASTRA_AUTH_CLIENT_SECRET overrides the stored client secret of pay",
        "  - To fix: if the stored secret is the right one: unset ASTRA_AUTH_CLIENT_SECRET"]


def test_doctor_json_reports_a_locked_keyring_with_exit_3(cli):
    data = json.loads(cli("doctor", "--json", expect=3, secrets=broken_store()).out)
    assert data["ok"] is False
    keyring = next(c for c in data["checks"] if c["name"] == "keyring")
    assert keyring["status"] == "error"
    assert keyring["detail"].startswith("The OS keyring is not usable: the keyring is locked; "
                                        "backend ")
    assert [c["name"] for c in data["checks"]] == [
        "config_file", "keyring", "secret_variables", "proxy", "trust_store"]


def test_doctor_shows_proxies_without_their_credentials(cli, leaks):
    proxy_secret = "px-Marmot4:Quince8-HHv"
    leaks.watch(proxy_secret)
    data = json.loads(cli("doctor", "--json", environ={
        "HTTPS_PROXY": f"http://scanner:{proxy_secret}@proxy.example.com:3128",
        "NO_PROXY": "localhost,.internal"}).out)
    proxy = next(c for c in data["checks"] if c["name"] == "proxy")
    assert proxy["detail"] == ("HTTPS_PROXY=http://proxy.example.com:3128, "
                               "NO_PROXY=localhost,.internal (never used for loopback hosts)")


def test_doctor_finds_loose_permissions_and_a_missing_ca_file(cli, config_path):
    cli("targets", "add", "pay")
    config_path.chmod(0o644)
    result = cli("doctor", expect=3, environ={"SSL_CERT_FILE": "/nonexistent/ca.pem"})
    assert f"  - To fix: chmod 600 {config_path}" in result.out.splitlines()
    assert ("✗ Trust store: the operating system's trust store (truststore), plus "
            "SSL_CERT_FILE=/nonexistent/ca.pem: does not exist") in result.out.splitlines()
