"""Secrets never shown, whole or in part, in any encoding a provider may use.

The property tests generate secrets, encode a run of 8 or more of their
characters in generated ways (alone, mixed character by character, layered),
embed it in generated text and check the redactor's output with `shown_runs`:
a decoder written here, independently of the product's (no shared code, other
decoding functions: `urllib.parse.unquote`, `html.unescape`, NFKC where the
product uses NFKD), which lists every run of 8 characters of the secret that
any reading of the output shows.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import string
import unicodedata
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from astra_auth.text.redact import MASK, Redactor
from tests.fakes import CLIENT_SECRET, ENV, add, tt_json, unique

RUN = 8
ISSUE_SECRET = "Zq8vR3xLp2Wm9Tn4"  # a client secret a provider echoed in every form below

# ---------------------------------------------------------------------------
# The oracle

# What the generators below put between characters to space a secret out; no
# generated secret holds any of them.
SPACERS = (" ", "  ", "\t", "\n", "\u200b", "\u00b7", ", ", " | ", "\u3000")
SPACER_CHARS = "".join(sorted(set("".join(SPACERS)))) + "\0"
# The shortest Base64 and hex that hold 8 characters.
_B64_RUN = re.compile(r"[A-Za-z0-9+/=_-]{11,}")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{16,}")
_HEX_PAIRS = re.compile(r"[0-9A-Fa-f]{2}(?:[: ][0-9A-Fa-f]{2}){7,}")


_JSON_ESCAPES = {"\\": "\\", '"': '"', "/": "/", "t": "\t", "n": "\n", "r": "\r"}


def _backslashes(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group(1) or m.group(2)
        return chr(int(code, 16)) if code else _JSON_ESCAPES[m.group(3)]

    return re.sub(r"\\(?:u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2})|([\\\"/tnr]))", one, text)


def _char_readings(text: str) -> list[str]:
    """`text` with its percent-escapes, entities and backslash escapes undone,
    each layer after the last."""
    readings = [text]
    for _ in range(3):
        text = _backslashes(html.unescape(unquote(text)))
        if text == readings[-1]:
            break
        readings.append(text)
    return readings


def _bytes_readings(text: str) -> list[str]:
    """What the Base64 and hex runs of `text` decode to, from each starting point."""
    found = []
    for m in _B64_RUN.finditer(text):
        run = m.group().replace("=", "").replace("-", "+").replace("_", "/")
        for start in range(4):
            part = run[start:]
            part = part[:-1] if len(part) % 4 == 1 else part + "=" * (-len(part) % 4)
            if part:
                found.append(base64.b64decode(part))
    for m in [*_HEX_RUN.finditer(text), *_HEX_PAIRS.finditer(text)]:
        digits = re.sub("[: ]", "", m.group())
        for start in range(2):
            part = digits[start:]
            found.append(bytes.fromhex(part[:len(part) // 2 * 2]))
    return [data.decode(codec, "replace") for data in found for codec in ("latin-1", "utf-8")]


def _readings(text: str, depth: int = 2) -> set[str]:
    """Every way to read `text`: its escapes undone, and what its Base64 and
    hex stand for (`depth` deep), read the same way."""
    first = _char_readings(text)
    if not depth:
        return set(first)
    return {*first, *(r for t in first for b in _bytes_readings(t)
                      for r in _readings(b, depth - 1))}


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return folded.translate({ord(c): None for c in SPACER_CHARS})


def shown_runs(output: str, secret: str) -> set[str]:
    """Every run of RUN characters of `secret` that some reading of `output` shows."""
    secret = _plain(secret)
    runs = {secret[i:i + RUN] for i in range(len(secret) - RUN + 1)}
    plain = [_plain(text) for text in _readings(output)]
    return {run for run in runs if any(run in text for text in plain)}


# ---------------------------------------------------------------------------
# Each form a provider echoed, literally


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


ISSUE_FORMS = {
    "prefix": "Zq8vR3xLp2Wm9",
    "suffix": "vR3xLp2Wm9Tn4",
    "middle": "8vR3xLp2W",
    "lower": "zq8vr3xlp2wm9tn4",
    "upper": "ZQ8VR3XLP2WM9TN4",
    "spaced": "Z q 8 v R 3 x L p 2 W m 9 T n 4",
    "spaced-part": "v R 3 x L p 2 W",
    "zero-width": "\u200b".join(ISSUE_SECRET),
    "hex-entities-upper": "".join(f"&#x{ord(c):X};" for c in ISSUE_SECRET),
    "hex-entities-capital-x": "".join(f"&#X{ord(c):x}" for c in ISSUE_SECRET),
    "decimal-entities-padded": "".join(f"&#{ord(c):06d};" for c in ISSUE_SECRET),
    "every-other-percent": "".join(f"%{ord(c):02X}" if i % 2 else c
                                   for i, c in enumerate(ISSUE_SECRET)),
    "double-percent": quote(quote(ISSUE_SECRET[2:12], safe=""), safe="").replace("%", "%25"),
    "u-escapes": "".join(f"\\u{ord(c):04x}" for c in ISSUE_SECRET),
    "u-escapes-upper": "".join(f"\\u{ord(c):04X}" for c in ISSUE_SECRET[4:]),
    "x-escapes": "".join(f"\\x{ord(c):02x}" for c in ISSUE_SECRET),
    "fullwidth": fullwidth(ISSUE_SECRET),
    "utf16-hex": ISSUE_SECRET.encode("utf-16-be").hex(),
    "utf16le-hex-upper": ISSUE_SECRET.encode("utf-16-le").hex().upper(),
    "hex": ISSUE_SECRET.encode().hex(),
    "hex-pairs": ISSUE_SECRET.encode().hex(":"),
}


@pytest.mark.parametrize("form", sorted(ISSUE_FORMS))
def test_each_echoed_form_is_masked_whole(form):
    text = f"error: got {ISSUE_FORMS[form]} (form {form})"
    assert Redactor(ISSUE_SECRET).redact(text) == f"error: got {MASK} (form {form})"


@pytest.mark.parametrize(("prefix", "suffix"), [(b"x", b"yz"), (b"xy", b""), (b"xyz", b"!"),
                                                (b"long prefix, then ", b" and more")])
@pytest.mark.parametrize("urlsafe", [False, True])
def test_base64_of_a_longer_text_is_masked_at_each_alignment(prefix, suffix, urlsafe):
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    blob = encode(prefix + ISSUE_SECRET.encode() + suffix).decode()
    for shown in (blob, blob[1:], blob[2:], blob[3:], "key" + blob):
        output = Redactor(ISSUE_SECRET).redact(f"data={shown} end")
        assert MASK in output and output.startswith("data=") and output.endswith(" end")
        assert not shown_runs(output, ISSUE_SECRET), output


def test_the_fault_server_s_echo_is_masked_in_every_form():
    from tests.servers.faults import echo_forms

    output = Redactor(ISSUE_SECRET).redact(echo_forms(ISSUE_SECRET))
    assert not shown_runs(output, ISSUE_SECRET), output
    assert output.count(MASK) == 14
    assert "prefix=••••••; suffix=••••••; lower=••••••; upper=••••••; spaced=••••••" in output


def test_the_mask_covers_the_whole_encoded_span():
    shown = "".join(f"&#x{ord(c):x};" for c in ISSUE_SECRET)
    assert Redactor(ISSUE_SECRET).redact(f"a{shown}b") == f"a{MASK}b"
    padded = base64.b64encode(ISSUE_SECRET.encode()).decode()
    assert padded.endswith("=")
    assert Redactor(ISSUE_SECRET).redact(f"({padded})") == f"({MASK})"


def test_an_escape_before_a_secret_does_not_hide_it():
    # `\n` decodes to a newline, taking the secret's first letter with it.
    assert Redactor("nabcdefg").redact("C:\\nabcdefg") == f"C:\\{MASK}"
    assert Redactor("x%41bcdefg").redact("got x%41bcdefg") == f"got {MASK}"


def test_a_run_of_seven_is_shown_a_run_of_eight_is_not():
    redactor = Redactor(ISSUE_SECRET)
    assert redactor.redact("Zq8vR3x and p2Wm9Tn") == "Zq8vR3x and p2Wm9Tn"
    assert redactor.redact("Zq8vR3xL and p2Wm9Tn") == f"{MASK} and p2Wm9Tn"
    assert redactor.redact("x q8vR3xLp y") == f"x {MASK} y"


# ---------------------------------------------------------------------------
# Separators in the secret itself


def test_a_secret_s_own_separators_count_and_must_be_there():
    secret = "7a45b9fd-12c3-4e56-a789"
    redactor = Redactor(secret)
    # Eight characters of the secret, two of them its dashes.
    assert redactor.redact("got -12c3-4e here") == f"got {MASK} here"
    assert redactor.redact("got 12c3-4e5 here") == f"got {MASK} here"
    # Six of its characters are not a run of eight.
    assert redactor.redact("got 12c3-4e here") == "got 12c3-4e here"
    # Spaced out around its own dash, and with a space for it.
    assert redactor.redact("got 1 2 c 3 - 4 e 5 6 here") == f"got {MASK} here"
    assert redactor.redact("got 12c3 4e56 here") == f"got {MASK} here"


def test_a_passphrase_does_not_mask_the_words_it_splits():
    redactor = Redactor("pass word-9c1d")
    assert redactor.redact("invalid username or password") == "invalid username or password"
    assert redactor.redact("got pass+word-9c1d") == f"got {MASK}"
    assert redactor.redact("got PASS%20WORD-9C1D!") == f"got {MASK}!"


# ---------------------------------------------------------------------------
# Short secrets: whole, in every form, where they stand alone


@pytest.mark.parametrize("shown", ["Zq7", "zQ7", "%5Aq7", "%5a%71%37", "&#90;q7", "&#x5a;&#x71;7",
                                   "\\u005aq7", "Ｚｑ７", "WnE3", "5a7137", "005a00710037"])
def test_a_short_secret_s_encoded_forms_are_masked_where_they_stand_alone(shown):
    assert Redactor("Zq7").redact(f"password {shown} is wrong") == f"password {MASK} is wrong"


@pytest.mark.parametrize("text", ["Zq7x", "aZq7", "Zq7_x", "%5Aq7x", "aWnE3", "5a71370"])
def test_a_short_secret_inside_a_word_is_not_masked(text):
    assert Redactor("Zq7").redact(f"ok {text} ok") == f"ok {text} ok"


def test_a_one_letter_password_does_not_garble_the_message():
    message = "Confirm the username and password: p is wrong, and so is %70."
    assert Redactor("p").redact(message) == (
        f"Confirm the username and password: {MASK} is wrong, and so is {MASK}.")


def test_a_secret_of_four_to_seven_is_masked_whole_anywhere():
    redactor = Redactor("hunter2")
    assert redactor.redact("xhunter2y HUNTER%32 aHVudGVyMg==") == f"x{MASK}y {MASK} {MASK}"
    assert redactor.redact("hunter is not it") == "hunter is not it"
    basic = base64.b64encode(b"john:hunter2").decode()
    output = redactor.redact(f"Authorization: Basic {basic}")
    assert MASK in output and all("hunter2" not in r.lower() for r in _readings(output))


def test_the_basic_pair_masks_a_short_secret_and_keeps_the_client_id():
    redactor = Redactor()
    redactor.add_basic("scanner-app", "ab")
    header = base64.b64encode(b"scanner-app:ab").decode()
    assert redactor.redact(f"sent {header}") == f"sent {MASK}"
    assert redactor.redact("client scanner-app is unknown") == "client scanner-app is unknown"


# ---------------------------------------------------------------------------
# The API


def test_nothing_to_mask_leaves_the_text_alone():
    assert Redactor().redact("a secret") == "a secret"
    assert Redactor(None, "").redact("a secret") == "a secret"
    assert Redactor(ISSUE_SECRET).redact("") == ""


def test_merge_and_add_keep_every_secret():
    first, second = Redactor("alpha-secret-1"), Redactor()
    second.add("bravo-secret-2")
    second.add(None)
    first.merge(second)
    assert first.redact("alpha-secret-1 bravo-secret-2") == f"{MASK} {MASK}"


def test_cut_masks_first_then_cuts():
    text = "x" * 20 + ISSUE_SECRET
    assert Redactor(ISSUE_SECRET).cut(text, 25) == "x" * 20 + MASK[:4] + "…"
    assert ISSUE_SECRET[:4] not in Redactor(ISSUE_SECRET).cut(text, 25)


def test_a_long_token_is_masked_in_part_too():
    token = "eyJhbGciOiJSUzI1NiJ9." + base64.urlsafe_b64encode(b"{" + b"x" * 600 + b"}").decode()
    redactor = Redactor(token)
    assert redactor.redact(f"got {token[100:160]} and {token[-9:]}") == f"got {MASK} and {MASK}"


# ---------------------------------------------------------------------------
# Generated secrets, encodings and mixtures

_ALNUM = string.ascii_letters + string.digits
_PUNCT = "-_.~+/"


@st.composite
def secrets(draw: st.DrawFn) -> str:
    """Letters and digits, with now and then one punctuation mark or a letter
    outside ASCII (never two marks side by side)."""
    chars: list[str] = []
    for _ in range(draw(st.integers(min_value=10, max_value=40))):
        kind = draw(st.integers(min_value=0, max_value=9))
        if kind == 0 and chars and chars[-1] not in _PUNCT:
            chars.append(draw(st.sampled_from(_PUNCT)))
        elif kind == 1:
            chars.append(draw(st.sampled_from("éüßÆ")))
        else:
            chars.append(draw(st.sampled_from(_ALNUM)))
    secret = "".join(chars)
    assume(sum(c.isalnum() for c in secret) >= RUN)
    return secret


def _char_form(draw: st.DrawFn, char: str) -> str:
    data = char.encode()
    way = draw(st.sampled_from(["plain", "percent", "decimal", "hex-entity", "u", "x",
                                "fullwidth"]))
    upper = draw(st.booleans())
    digits = "X" if upper else "x"
    if way == "percent":
        return "".join(f"%{b:02{digits}}" for b in data)
    if way == "decimal":
        return f"&#{ord(char):0{draw(st.integers(1, 7))}d};"
    if way == "hex-entity":
        x = draw(st.sampled_from("xX"))
        return f"&#{x}{ord(char):0{draw(st.integers(1, 6))}{digits}};"
    if way == "u":
        return f"\\u{ord(char):04{digits}}"
    if way == "x" and len(data) == 1:
        return f"\\x{data[0]:02{digits}}"
    if way == "fullwidth":
        return fullwidth(char)
    return char


@st.composite
def shown_forms(draw: st.DrawFn, secret: str) -> str:
    """A run of 8 or more characters of `secret`, in a generated case and encoding."""
    start = draw(st.integers(0, len(secret) - RUN))
    run = secret[start:draw(st.integers(start + RUN, len(secret)))]
    cases: list[Callable[[str], str]] = [str, str.lower, str.upper, str.swapcase]
    case = draw(st.sampled_from(cases))
    run = case(run)
    way = draw(st.sampled_from(["chars", "base64", "base64url", "hex", "utf16", "hex-pairs"]))
    if way == "chars":  # each character its own way, spaced out or not
        spacer = draw(st.sampled_from(("",) + SPACERS))
        shown = spacer.join(_char_form(draw, c) for c in run)
    elif way.startswith("base64"):
        before = draw(st.binary(max_size=5))
        after = draw(st.binary(max_size=3))
        encode = base64.urlsafe_b64encode if way == "base64url" else base64.b64encode
        shown = encode(before + run.encode() + after).decode()
        if draw(st.booleans()):
            shown = shown.rstrip("=")
    elif way == "hex":
        shown = run.encode().hex()
    elif way == "utf16":
        shown = run.encode(draw(st.sampled_from(["utf-16-be", "utf-16-le"]))).hex()
    else:
        shown = run.encode().hex(draw(st.sampled_from([":", " "])))
    if draw(st.booleans()) and way in ("hex", "utf16", "hex-pairs"):
        shown = shown.upper()
    outer = draw(st.sampled_from(["none", "none", "percent", "json", "html", "base64"]))
    if outer == "base64":
        shown = base64.b64encode(shown.encode()).decode()
    elif outer == "percent":
        shown = quote(shown, safe="")
    elif outer == "json":
        shown = json.dumps(shown)[1:-1]
    elif outer == "html":
        shown = html.escape(shown)
    return shown


filler = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"),
                               exclude_characters="&%\\#"), max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), secret=secrets(), before=filler, after=filler)
def test_no_run_of_eight_survives_any_generated_form(data, secret, before, after):
    shown = data.draw(shown_forms(secret))
    text = before + shown + after
    assert shown_runs(text, secret), "the generator shows no run: a broken test"
    output = Redactor(secret).redact(text)
    assert not shown_runs(output, secret), (text, output)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), secret=secrets(), texts=st.lists(filler, min_size=3, max_size=3))
def test_two_forms_in_one_text_are_both_masked(data, secret, texts):
    first, second = data.draw(shown_forms(secret)), data.draw(shown_forms(secret))
    text = texts[0] + first + texts[1] + second + texts[2]
    output = Redactor(secret, "an-unrelated-secret-value").redact(text)
    assert not shown_runs(output, secret), (text, output)


@settings(max_examples=100, deadline=None)
@given(secret=secrets(),
       text=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"],
                                  exclude_characters=_ALNUM + "éüßÆ"), max_size=80))
def test_a_text_without_the_secret_s_letters_is_left_alone(secret, text):
    # Nothing here is a letter or digit of the secret, Base64 or hex.
    assume(not any(_plain(c) and _plain(c) in _plain(secret + _ALNUM) for c in text))
    assert Redactor(secret).redact(text) == text


# ---------------------------------------------------------------------------
# httpx's and httpcore's log records


def test_a_query_key_is_masked_in_the_http_logs_in_every_form(caplog):
    from astra_auth.text.logmask import mask_in_http_logs

    key = "k3y with spaces&sym=1/é-7Qw"
    mask_in_http_logs(key)
    logger = logging.getLogger("httpx")
    with caplog.at_level(logging.INFO, logger="httpx"):
        for shown in (quote_plus(key), quote(key, safe=""), key, key[5:15], key.upper()):
            logger.info('HTTP Request: GET https://api.example.com/x?key=%s "200"', shown)
    messages = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert messages == [f'HTTP Request: GET https://api.example.com/x?key={MASK} "200"'] * 5


def test_httpx_s_own_log_line_of_a_query_key_is_masked(caplog, faults):
    import httpx

    from astra_auth.text.logmask import mask_in_http_logs

    key = "qk+Zx 9/v%7e-T3stKey"
    mask_in_http_logs(key)
    with caplog.at_level(logging.INFO, logger="httpx"), httpx.Client() as client:
        client.get(faults.url("elsewhere"), params={"key": key})
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "httpx")
    assert f"/elsewhere?key={MASK} " in logged
    assert not shown_runs(logged, key)


# ---------------------------------------------------------------------------
# End to end: a provider that echoes the secret in part and encoded


def _echoing_target(run, faults, env):  # type: ignore[no-untyped-def]
    run("configure", "echo", "--grant-type", "client_credentials", "--token-url",
        faults.url("echo-forms"), "--client-id", "scanner-app", "--secrets", "env",
        "--url", faults.base, "--no-input", **env)


@pytest.mark.parametrize("secret", [ISSUE_SECRET, "cs-7Zq:x%2B+/é-SECRET-1f3a"])
def test_test_token_shows_no_run_of_an_echoed_secret(cli, faults, leaks, secret):
    leaks.watch(secret)
    env = {"ASTRA_AUTH_CLIENT_SECRET": secret}
    _echoing_target(cli, faults, {"environ": env})
    result = cli("test-token", "echo", "--json", expect=4, environ=env)
    error = json.loads(result.out)["error"]
    assert error["category"] == "invalid_client"
    assert error["oauth_error_description"].startswith(f"prefix={MASK}; suffix={MASK}; ")
    assert not shown_runs(result.out + result.err, secret)
    for flags in ((), ("--verbose",)):
        human = cli("test-token", "echo", *flags, expect=4, environ=env)
        assert "invalid_client" in human.out and f"prefix={MASK}" in human.out.replace("\n", "")
        assert not shown_runs(human.out + human.err, secret)


def test_the_proxy_s_502_and_log_show_no_run_of_an_echoed_secret(proc, faults, leaks):
    import signal
    import subprocess
    import sys

    import httpx

    leaks.watch(ISSUE_SECRET)
    env = {"ASTRA_AUTH_CLIENT_SECRET": ISSUE_SECRET}
    _echoing_target(proc, faults, {"env": env})
    child = subprocess.Popen([sys.executable, "-m", "astra_auth", "proxy", "echo=0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL, env=dict(proc.env, **env))
    try:
        assert child.stdout is not None
        address = None
        for line in child.stdout:  # ends if the proxy exits
            match = re.match(r"echo: (http://\S+) ", line)
            if match:
                address = match.group(1)
                break
        assert address, "the proxy printed no address"
        with httpx.Client(trust_env=False, timeout=30) as client:
            answer = client.get(address + "/things")
    finally:
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=30)
        leaks.record("proxy stdout", out)
        leaks.record("proxy stderr", err)
    assert answer.status_code == 502
    error = answer.json()["error"]
    assert error["category"] == "invalid_client"
    assert f"prefix={MASK}; suffix={MASK}; " in error["message"]
    assert not shown_runs(answer.text, ISSUE_SECRET)
    assert "invalid_client" in err and f"prefix={MASK}" in err
    assert not shown_runs(out + err, ISSUE_SECRET)


# ---------------------------------------------------------------------------
# Through the commands, against a hostile provider

# ---------------------------------------------------------------------------
# Mask first, then cut; every encoded form; short secrets as whole words


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
# --verbose masks tokens wherever they are


NESTED = "nested-tok-" + "9f8e7d6c5b4a"
FORM = "form-tok-" + "1a2b3c4d5e6f"
HUGE = "h" * 40 + "uge-tok-0123456789"


@pytest.mark.parametrize("answer", [
    {"data": {"access_token": NESTED, "refresh_token": NESTED + "-r"}},
    {"items": [{"token": NESTED}], "id_token": NESTED + "-id"},
    f"access_token={FORM}&token_type=bearer&refresh_token={FORM}-r",
    pytest.param(None, marks=pytest.mark.slow),  # more than 1 MiB, so it is cut off unread
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
