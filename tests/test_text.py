"""astra_auth.text: every command printed for a user is shell-quoted, and text
from outside (a provider's answer, a config file, a JWT) never reaches the
terminal with its control characters raw.

The hostile provider is the fault server's `answer()`: any path, `.well-known`
documents included, answers what the test scripts.  Paths carry a uuid because
the server is shared by the whole session.
"""

from __future__ import annotations

import json
import shlex

import pytest

from tests.fakes import CLIENT_SECRET, ENV, add, tt_json, unique

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # writes "echo pwned" to the clipboard
CLEAR = "\x1b[2J"
RLO = "\u202e"  # right-to-left override
NEL = "\x85"  # a C1 control (NEXT LINE)


# ---------------------------------------------------------------------------
# Every printed command is quoted; a provider's URL is suggested only when valid


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
    # The discovery document names a token endpoint with a command
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
# Control characters from outside never reach the terminal raw


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
