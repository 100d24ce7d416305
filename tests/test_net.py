"""astra_auth.net: loopback and private addresses, the resolver's pinning, one
deadline for every exchange.
"""

from __future__ import annotations

import json
import tomllib

import pytest

from tests.fakes import CLIENT_SECRET, add, tt_json, unique


def _test_token_json(cli, name, expect, **kwargs):
    result = cli("test-token", name, "--json", expect=expect, **kwargs)
    return json.loads(result.out)


# ---------------------------------------------------------------------------
# A private or loopback token URL: warned once, acknowledged in the target


def test_a_loopback_token_url_is_warned_once_and_kept_as_acknowledged(cli, idp, config_path):
    from astra_auth.net.resolve import private_address_warning

    env = {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}
    warned = ("127.0.0.1 resolves to loopback address 127.0.0.1: a scanner outside that "
              "network cannot reach it")
    first = cli("configure", "pay", "--grant-type", "client_credentials", "--token-url",
                idp.token_url, "--client-id", "scanner-app", environ=env,
                address_warning=private_address_warning)
    assert warned in first.err
    # Said in the user's terms, not the config file's.
    assert ("This warning is given once: test-token does not repeat it, and astra-auth "
            "targets show pay keeps a note of it") in first.err
    assert "private_host_ok" not in first.err
    target = tomllib.loads(config_path.read_text())["targets"]["pay"]
    assert target["private_host_ok"] == "127.0.0.1"
    # Said once: not again when configure runs again, nor in the panels.
    again = cli("configure", "pay", "--client-auth", "basic", environ=env,
                address_warning=private_address_warning)
    assert warned not in again.err
    panel = cli("test-token", "pay", environ=env, address_warning=private_address_warning)
    assert "loopback" not in panel.out
    lines = cli("test-token", "--all", environ=env, address_warning=private_address_warning)
    assert "loopback" not in lines.out
    # Kept for machines: the JSON warnings, and targets show.
    data = _test_token_json(cli, "pay", 0, environ=env, address_warning=private_address_warning)
    assert warned in data["warnings"]
    shown = cli("targets", "show", "pay").out
    assert "127.0.0.1 resolves to a private or loopback address (acknowledged at configure)" \
        in " ".join(shown.split())
    assert json.loads(cli("targets", "show", "pay", "--json").out)["private_host_ok"] == \
        "127.0.0.1"


def test_a_new_public_token_url_drops_the_acknowledgement(cli, idp, config_path):
    from astra_auth.net.resolve import private_address_warning

    env = {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}
    cli("configure", "pay", "--grant-type", "client_credentials", "--token-url",
        idp.token_url, "--client-id", "scanner-app", environ=env,
        address_warning=private_address_warning)
    cli("configure", "pay", "--token-url", "https://idp.example.com/oauth/token", environ=env,
        address_warning=lambda url: None)
    assert "private_host_ok" not in tomllib.loads(config_path.read_text())["targets"]["pay"]


# ---------------------------------------------------------------------------
# One deadline for every exchange


def test_deadline_runs_out_by_the_injected_clock():
    import httpx

    from astra_auth.net.transport import Deadline

    now = [100.0]
    deadline = Deadline(2.0, monotonic=lambda: now[0])
    deadline.check()
    now[0] = 101.5
    assert deadline.remaining() == 0.5
    now[0] = 102.0
    assert deadline.expired
    with pytest.raises(httpx.ReadTimeout):
        deadline.check()


def test_a_trickling_discovery_document_does_not_outlive_test_tokens_timeout(cli, faults):
    # The document arrives one byte every 50 ms (about 20 s); with
    # --timeout 1 the lookup stops long before, so its hint never appears.
    base = unique()
    document = json.dumps({"issuer": f"{faults.base}/{base}", "padding": "p" * 300,
                           "token_endpoint": f"{faults.base}/{base}/right"}).encode()
    faults.answer(f"{base}/.well-known/openid-configuration", body=document, trickle=0.05)
    add(cli, f"{faults.base}/{base}/wrong")
    data, _ = tt_json(cli, "t", "--timeout", "1", expect=6, metadata_lookup="network")
    assert data["error"]["category"] == "not_found"
    assert not any("discovery document" in h for h in data["hints"])


def test_discover_stops_at_its_deadline(faults):
    import httpx

    from astra_auth.net.transport import Deadline
    from astra_auth.oauth.discovery import DiscoveryError, discover

    base = unique()
    document = json.dumps({"issuer": f"{faults.base}/{base}", "padding": "p" * 300,
                           "token_endpoint": f"{faults.base}/{base}/t"}).encode()
    faults.answer(f"{base}/.well-known/openid-configuration", body=document, trickle=0.05)
    with pytest.raises(DiscoveryError) as caught:
        discover(f"{faults.base}/{base}", lambda: httpx.Client(timeout=5), Deadline(0.5))
    assert "timeout" in caught.value.message


# ---------------------------------------------------------------------------
# Loopback by resolved address


def test_plain_http_to_a_name_that_does_not_resolve_to_loopback_is_refused(cli, faults):
    path = unique()
    url = f"http://nowhere-{path}.localhost:{faults.port}/{path}"
    add(cli, url)
    data, _ = tt_json(cli, "t", expect=3)  # from the config file: exit 3
    assert data["error"]["category"] == "insecure_url"
    assert "plain http" in data["error"]["message"]
    assert data["hints"][0] == ("Use the provider's https token URL: astra-auth configure t "
                                "--token-url https://… --no-input")
    assert faults.requests_to(path) == []


def test_pinning_checks_every_resolved_address():
    from astra_auth.net.transport import NotLoopback, pin_loopback

    with pytest.raises(NotLoopback, match="10.0.0.5"):
        pin_loopback("http://api.localhost/t", resolve=lambda host, t: ["127.0.0.1", "10.0.0.5"])
    assert pin_loopback("http://api.localhost:8080/t?x=1",
                        resolve=lambda host, t: ["::1", "127.0.0.1"]) == (
        "http://[::1]:8080/t?x=1", {"Host": "api.localhost:8080"})
    assert pin_loopback("https://idp.example.com/t") == ("https://idp.example.com/t", {})


def _add_faulty(cli, url):
    cli("configure", "t", "--grant-type", "client_credentials", "--token-url", url,
        "--client-id", "c", "--client-secret", CLIENT_SECRET)


def test_the_proxy_is_named_in_verbose_without_its_credentials():
    from astra_auth.net.transport import proxy_for

    env = {"HTTPS_PROXY": "http://proxyuser:proxypass@127.0.0.1:9/", "NO_PROXY": ""}
    assert proxy_for("https://idp.example.com/oauth/token", env) == "http://127.0.0.1:9/"


def test_a_loopback_token_url_never_goes_through_the_proxy(cli, faults):
    # An http token URL on loopback would hand the client
    # secret to the proxy in clear.  The proxy here (port 9) would refuse.
    _add_faulty(cli, faults.url("no-token"))
    result = cli("test-token", "t", "--verbose", expect=6,
                 environ={"HTTP_PROXY": "http://proxyuser:proxypass@127.0.0.1:9/",
                          "ALL_PROXY": "http://127.0.0.1:9/", "NO_PROXY": ""})
    assert "t: invalid_token_response" in result.out  # the fault server answered, not port 9
    assert "not via the proxy from the environment: the token URL's host is loopback" \
        in result.err
    assert "proxypass" not in result.text
