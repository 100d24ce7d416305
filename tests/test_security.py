"""Issue 15: a hostile provider, a hostile config folder, and the shared mechanisms
that hold against them.  Each test fails on the code before the fix.

The hostile provider is the fault server's `answer()`: any path, `.well-known`
documents included, answers what the test scripts.  Paths carry a uuid because
the server is shared by the whole session.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import uuid
from pathlib import Path

import pytest

from tests.fakes import CLIENT_SECRET, PASSWORD

ENV = {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET, "ASTRA_AUTH_PASSWORD": PASSWORD}
OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # writes "echo pwned" to the clipboard
CLEAR = "\x1b[2J"
RLO = "\u202e"  # right-to-left override
NEL = "\x85"  # a C1 control (NEXT LINE)


def unique() -> str:
    return uuid.uuid4().hex[:12]


def add(cli, token_url, *, name="t", grant="client_credentials", environ=None, **kwargs):
    args = ["configure", name, "--grant-type", grant, "--token-url", token_url,
            "--client-id", "scanner-app", "--secrets", "env"]
    if grant == "password":
        args += ["--username", "john.doe"]
    cli(*args, environ=environ or ENV, **kwargs)


def tt_json(cli, *args, expect, environ=None, **kwargs):
    result = cli("test-token", *args, "--json", expect=expect, environ=environ or ENV, **kwargs)
    return json.loads(result.out), result


# ---------------------------------------------------------------------------
# 1. Every printed command is quoted; a provider's URL is suggested only when valid


def test_commands_quote_every_argument():
    from astra_auth.text.shellcmd import Placeholder, command, configure, powershell_quote

    url = "https://idp.example.com/t$(id>/tmp/p)"
    assert configure("api", "--token-url", url) == (
        "astra-auth configure api --token-url 'https://idp.example.com/t$(id>/tmp/p)' --no-input")
    assert shlex.split(configure("api", "--token-url", url))[4] == url
    assert command("configure", "a'b", "--scope", Placeholder("'…'")) == \
        "astra-auth configure 'a'\"'\"'b' --scope '…'"
    assert powershell_quote("it's $(x)") == "'it''s $(x)'"
    assert powershell_quote("a\u2019b") == "'a\u2019\u2019b'"


def test_discovered_token_endpoint_in_a_hint_cannot_run_code(cli, faults):
    # Finding 1: the discovery document names a token endpoint with a command
    # substitution; the hint built from it must be pasteable without running it.
    base = unique()
    evil = f"{faults.base}/{base}/t$(id>/tmp/p)"
    faults.answer(f"{base}/.well-known/openid-configuration",
                  {"issuer": f"{faults.base}/{base}", "token_endpoint": evil})
    add(cli, f"{faults.base}/{base}/wrong")  # unscripted: the fault server answers 404
    data, _ = tt_json(cli, "t", expect=6, metadata_lookup="network")
    assert data["error"]["category"] == "not_found"
    hint = data["hints"][0]
    command = hint[hint.index("astra-auth configure"):]
    assert command == f"astra-auth configure t --token-url '{evil}' --no-input"
    assert shlex.split(command)[4] == evil


def test_a_redirect_location_that_is_not_a_valid_token_url_is_never_suggested(cli, faults):
    path = unique()
    faults.answer(path, status=302, body=b"", headers={
        "Location": "https://idp.example.com/x y`touch /tmp/p`"})
    add(cli, faults.url(path))
    data, _ = tt_json(cli, "t", expect=6)
    assert data["error"]["category"] == "redirect"
    assert not any("--token-url" in h and "idp.example.com" in h for h in data["hints"])


def test_an_http_token_endpoint_from_discovery_is_not_suggested(cli, faults):
    base = unique()
    faults.answer(f"{base}/.well-known/openid-configuration",
                  {"issuer": f"{faults.base}/{base}",
                   "token_endpoint": "http://idp.attacker.example/token"})
    add(cli, f"{faults.base}/{base}/wrong")
    data, _ = tt_json(cli, "t", expect=6, metadata_lookup="network")
    assert not any("attacker" in h for h in data["hints"])


# ---------------------------------------------------------------------------
# 2. Control characters from outside never reach the terminal raw


def hostile_error(faults, status=400):
    path = unique()
    return faults.answer(path, {
        "error": f"weird{CLEAR}code",
        "error_description": f"Denied{OSC52} by {RLO}policy{NEL} see\nnext line",
    }, status=status)


def test_provider_text_is_escaped_in_the_panel(cli, faults):
    add(cli, hostile_error(faults))
    result = cli("test-token", "t", expect=4, environ=ENV)
    # Shown visibly escaped (the leak guard fails the test on a raw one).
    assert "\\x1b]52;c;ZWNobyBwd25lZA==\\x07" in result.out
    assert "weird\\x1b[2Jcode" in result.out
    assert "\\u202epolicy\\x85" in result.out


def test_provider_text_is_escaped_in_json(cli, faults):
    add(cli, hostile_error(faults))
    result = cli("test-token", "t", "--json", expect=4, environ=ENV)
    assert "\\u001b]52" in result.out and "\\u202e" in result.out and "\\u0085" in result.out
    data = json.loads(result.out)  # still the provider's exact text
    assert data["error"]["oauth_error_description"].startswith(f"Denied{OSC52} by {RLO}")


def test_provider_text_stays_on_its_line_with_all(cli, faults):
    add(cli, hostile_error(faults))
    result = cli("test-token", "--all", expect=4, environ=ENV)
    assert "see\\x0anext line" in result.out
    lines = result.out.splitlines()
    assert not any(line.startswith("next line") for line in lines)


def test_the_console_layer_escapes_what_a_command_forgot():
    import io

    from rich.panel import Panel
    from rich.text import Text

    from astra_auth.ui.iostreams import IOStreams

    buffer = io.StringIO()
    streams = IOStreams(stdin=io.StringIO(), stdout=buffer, stderr=buffer)
    streams.out.print(Panel(Text(f"a{CLEAR}b{RLO}c")))
    streams.err.print(f"x{OSC52}y", markup=False)
    streams.warn(f"w{NEL}")
    text = buffer.getvalue()
    assert "\x1b" not in text and RLO not in text and NEL not in text
    assert "a\\x1b[2Jb\\u202ec" in text and "\\x1b]52;c;" in text and "w\\x85" in text


@pytest.mark.parametrize("answer", [
    {"access_token": "abc\r\nX-Injected: 1", "token_type": "Bearer"},
    {"access_token": "abc\x1b[2J", "token_type": "Bearer"},
    {"access_token": "abc", "token_type": f"Bearer{CLEAR}"},
    {"access_token": "abc", "token_type": "Bearer X-Injected: 1"},
    {"access_token": "abc", "token_type": "Bearer", "refresh_token": "r\r\nx"},
], ids=["crlf-token", "esc-token", "esc-type", "space-type", "crlf-refresh"])
def test_a_token_that_is_not_visible_ascii_is_an_invalid_token_response(cli, faults, answer):
    add(cli, faults.answer(unique(), answer))
    data, _ = tt_json(cli, "t", expect=6)
    assert data["error"]["category"] == "invalid_token_response"


def test_token_header_never_prints_two_header_lines(cli, faults, store):
    cli("configure", "t", "--grant-type", "client_credentials", "--token-url",
        faults.answer(unique(), {"access_token": "abc\r\nX-Injected: 1", "token_type": "Bearer"}),
        "--client-id", "c", "--client-secret", CLIENT_SECRET)
    result = cli("token", "t", "--format", "header", expect=6, token_on_stdout=True)
    assert result.out == ""
    assert "invalid_token_response" in result.err


def test_jwt_claims_and_config_keys_are_escaped(cli, faults, config_path):
    from tests.servers.authserver import make_jwt

    token = make_jwt({"sub": f"user{OSC52}", f"k{RLO}": "v", "exp": 4102444800})
    add(cli, faults.answer(unique(), {"access_token": token, "token_type": "Bearer"}))
    result = cli("test-token", "t", environ=ENV)
    assert "user\\x1b]52;c;" in result.out and "k\\u202e" in result.out
    config_path.write_text(config_path.read_text()
                           + '\n[targets."x\\u001b[2J"]\nurl = "https://a.example"\n')
    result = cli("targets", "list", expect=3)
    assert "x\\x1b[2J" in result.err


def test_verbose_bodies_are_escaped(cli, faults):
    add(cli, hostile_error(faults))
    result = cli("test-token", "t", "--verbose", expect=4, environ=ENV)
    assert "weird\\u001b[2Jcode" in result.err  # the body, pretty-printed as JSON


# ---------------------------------------------------------------------------
# 3. Mask first, then cut; every encoded form; short secrets as whole words


def test_a_secret_straddling_the_cut_is_masked_whole(cli, faults, leaks):
    # error_description is cut at 1,000 characters; the secret starts at 990.
    path = unique()
    faults.answer(path, {"error": "invalid_request",
                         "error_description": "x" * 990 + CLIENT_SECRET + " tail"})
    add(cli, faults.url(path))
    data, result = tt_json(cli, "t", expect=4)
    assert CLIENT_SECRET[:8] not in result.out
    assert data["error"]["oauth_error_description"].endswith("x" * 10 + "•••••• ta…")
    # The leak guard also looks at the panel, token's stderr and str(TokenError).
    cli("test-token", "t", expect=4, environ=ENV)
    cli("token", "t", expect=4, environ=ENV)


MARKUP_SECRET = "cs-<&>\"q'-SECRET-77é"  # every character HTML escapes


@pytest.mark.parametrize("form", ["html", "html-numeric", "lower-percent", "base64",
                                  "base64url", "hex"])
def test_each_encoded_form_of_a_secret_is_masked(cli, faults, leaks, form):
    import html

    leaks.watch(MARKUP_SECRET)
    env = {"ASTRA_AUTH_CLIENT_SECRET": MARKUP_SECRET}
    data = MARKUP_SECRET.encode()
    shown = {
        "html": html.escape(MARKUP_SECRET),
        "html-numeric": "".join(f"&#{ord(c)};" for c in MARKUP_SECRET),
        "lower-percent": "".join(f"%{b:02x}" for b in data),
        "base64": base64.b64encode(data).decode(),
        "base64url": base64.urlsafe_b64encode(data).decode().rstrip("="),
        "hex": data.hex(),
    }[form]
    add(cli, faults.answer(unique(), {"error": "invalid_request",
                                       "error_description": f"you sent {shown} here"}),
        environ=env)
    result, raw = tt_json(cli, "t", expect=4, environ=env)
    assert result["error"]["oauth_error_description"] == "you sent •••••• here"
    assert shown not in raw.text


def test_a_short_password_is_masked_where_it_stands_alone(cli, faults):
    add(cli, faults.answer(unique(), {"error": "invalid_grant",
                                       "error_description": "password Zq7 is wrong; Zq7x ok"}),
        grant="password", environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET,
                                   "ASTRA_AUTH_PASSWORD": "Zq7"})
    data, _ = tt_json(cli, "t", expect=4, environ={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET,
                                                      "ASTRA_AUTH_PASSWORD": "Zq7"})
    assert data["error"]["oauth_error_description"] == "password •••••• is wrong; Zq7x ok"


def test_one_mask_string():
    import astra_auth

    root = Path(astra_auth.__file__).parent
    holders = [p.relative_to(root).as_posix() for p in root.rglob("*.py")
               if "••••••" in p.read_text(encoding="utf-8")]
    assert holders == ["text/redact.py"]


def test_the_redactor_is_an_output_of_the_token_request(faults):
    import httpx

    from astra_auth.oauth.grant import GrantRequest, request_token

    url = faults.answer(unique(), {"error": "invalid_request"})
    outcome = request_token(GrantRequest(url, "client_credentials", "c", CLIENT_SECRET),
                            lambda: httpx.Client(), timeout=5)
    assert outcome.redactor.redact(f"a {CLIENT_SECRET} b") == "a •••••• b"


# ---------------------------------------------------------------------------
# 4. --verbose masks tokens wherever they are


NESTED = "nested-tok-" + "9f8e7d6c5b4a"
FORM = "form-tok-" + "1a2b3c4d5e6f"
HUGE = "h" * 40 + "uge-tok-0123456789"


@pytest.mark.parametrize("answer", [
    {"data": {"access_token": NESTED, "refresh_token": NESTED + "-r"}},
    {"items": [{"token": NESTED}], "id_token": NESTED + "-id"},
    f"access_token={FORM}&token_type=bearer&refresh_token={FORM}-r",
    None,  # more than 1 MiB, so it is cut off unread
], ids=["nested", "list-and-id-token", "form", "huge"])
def test_verbose_masks_tokens_at_any_depth_and_in_any_body(cli, faults, leaks, answer):
    path = unique()
    if answer is None:
        faults.answer(path, body=b'{"access_token": "' + HUGE.encode() * 30000 + b'"}')
    elif isinstance(answer, str):
        faults.answer(path, body=answer.encode(), content_type="application/x-www-form-urlencoded")
    else:
        faults.answer(path, answer)
    leaks.watch(NESTED, NESTED + "-r", NESTED + "-id", FORM, FORM + "-r", HUGE)
    add(cli, faults.url(path))
    result = cli("test-token", "t", "--verbose", expect=None, environ=ENV)
    assert result.code == 6
    assert "••••••" in result.err


# ---------------------------------------------------------------------------
# 5. One deadline for every exchange


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
    # Finding 5: the document arrives one byte every 50 ms (about 20 s); with
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
# 8. Ownership, permissions, planted links


def test_a_world_writable_config_is_a_warning(cli, config_path):
    cli("targets", "add", "a")
    os.chmod(config_path, 0o666)
    result = cli("targets", "list")
    assert f"{config_path}: the file can be written by others (mode 0666)" in result.err


def test_a_world_writable_config_named_by_flag_is_exit_3(cli, config_path):
    cli("targets", "add", "a")
    os.chmod(config_path.parent, 0o777)
    result = cli("--config", str(config_path), "targets", "list", expect=3)
    assert "refusing to use it: its folder can be written by others (mode 0777)" in result.err
    assert "chmod go-w" in result.err


def test_another_users_config_is_reported(tmp_path):
    from astra_auth.storage.config import ownership_problems

    path = tmp_path / "config.toml"
    path.write_text("version = 1\n")
    me = os.geteuid()
    if me == 0:
        os.chown(path, 4321, -1)  # root may give it away; root itself is trusted
        problems = ownership_problems(path, uid=0)
    else:  # the file is ours, so "another user" is anyone else
        problems = ownership_problems(path, uid=me + 1)
    assert problems[0].startswith("the file is owned by another user (uid ")


def test_a_planted_lock_link_creates_no_file(cli, config_path, tmp_path):
    config_path.parent.mkdir(parents=True, mode=0o700)
    victim = tmp_path / "victim-file"
    (config_path.parent / "config.toml.lock").symlink_to(victim)
    result = cli("targets", "add", "a", expect=3)
    assert "cannot lock" in result.err
    assert not victim.exists()


def test_saving_through_a_symlinked_config_is_refused_by_name(cli, config_path, tmp_path):
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_text('version = 1\n[targets.a]\nurl = "https://a.example"\n')
    config_path.parent.mkdir(parents=True, mode=0o700)
    config_path.symlink_to(real)
    assert "a" in cli("targets", "list").out  # reading through the link is fine
    result = cli("targets", "add", "b", expect=3)
    assert f"{config_path}: is a symbolic link (to {real})" in result.err
    assert f"astra-auth --config {real} …" in result.err
    assert config_path.is_symlink() and "[targets.b]" not in real.read_text()


# ---------------------------------------------------------------------------
# 9. Deep nesting


def test_a_deeply_nested_toml_file_is_a_config_error(cli, config_path):
    config_path.parent.mkdir(parents=True, mode=0o700)
    config_path.write_text("version = 1\nx = " + "[" * 50000 + "]" * 50000 + "\n")
    result = cli("targets", "list", expect=3)
    assert "nests arrays or tables thousands deep" in result.err


def test_deeply_nested_jwt_claims_do_not_crash(cli, faults):
    header = base64.urlsafe_b64encode(b'{"alg":"HS256"}').decode().rstrip("=")
    for depth, shown in ((50000, None), (600, "… (nested too deep to show)")):
        payload = '{"a":' * depth + "1" + "}" * depth
        body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        add(cli, faults.answer(unique(), {"access_token": f"{header}.{body}.sig",
                                           "token_type": "Bearer"}))
        data, _ = tt_json(cli, "t", expect=0)
        claims = data["jwt_claims"]
        if shown is None:
            assert claims is None
        else:
            for _ in range(17):
                claims = claims["a"]
            assert claims == shown
        cli("test-token", "t", environ=ENV)


# ---------------------------------------------------------------------------
# 10. Loopback by resolved address


def test_plain_http_to_a_name_that_does_not_resolve_to_loopback_is_refused(cli, faults):
    path = unique()
    url = f"http://nowhere-{path}.localhost:{faults.port}/{path}"
    add(cli, url)
    data, _ = tt_json(cli, "t", expect=5)
    assert data["error"]["category"] == "connection_refused"
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


# ---------------------------------------------------------------------------
# 11. The issuer must be the one given


def test_a_discovery_document_for_another_issuer_is_refused(cli, faults):
    base = unique()
    faults.answer(f"{base}/.well-known/openid-configuration",
                  {"issuer": "https://idp.attacker.example",
                   "token_endpoint": f"{faults.base}/{base}/token"})
    result = cli("configure", "o", "--issuer", f"{faults.base}/{base}", "--grant-type",
                 "client_credentials", "--client-id", "c", "--secrets", "env", expect=2)
    assert "names the issuer 'https://idp.attacker.example'" in result.err
    assert not cli.config_path.exists()


def test_token_never_prints_a_cached_token_with_a_line_break(cli, idp, store):
    from astra_auth.storage.secretstore import entry

    cli("configure", "api", "--grant-type", "client_credentials", "--token-url",
        idp.token_url, "--client-id", "scanner-app", "--client-secret", CLIENT_SECRET)
    cli("token", "api", token_on_stdout=True)
    cached = json.loads(store.data[entry("api", "token")])
    cached["access_token"] = "abc\r\nX-Injected: 1"
    store.data[entry("api", "token")] = json.dumps(cached)
    result = cli("token", "api", "--format", "header", expect=3, token_on_stdout=True)
    assert result.out == "" and "invalid_key" in result.err
