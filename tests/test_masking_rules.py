"""Masking, for the secrets that are easiest to miss: those shorter than the
8-character run (a 4-to-7-character password or key), in every encoding a
provider or a library may show them in, and an API key kept in a query
parameter as httpx's log line shows it (form-encoded).

Longer secrets in generated forms: tests/test_redact.py."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import quote, quote_plus

import pytest

from astra_auth.text.redact import MASK, Redactor

SHORT_SECRETS = ("Hu7k", "Hu7k2q", "Hu7k2qZ")  # 4, 6 and 7 characters


def forms(secret: str) -> dict[str, str]:
    data = secret.encode()
    return {
        "as it is": secret,
        "upper case": secret.upper(),
        "lower case": secret.lower(),
        "percent, each character": "".join(f"%{b:02X}" for b in data),
        "percent, lower-case hex": "".join(f"%{b:02x}" for b in data),
        "percent, one character": f"%{data[0]:02X}{secret[1:]}",
        "HTML decimal": "".join(f"&#{ord(c)};" for c in secret),
        "HTML hex": "".join(f"&#x{ord(c):x};" for c in secret),
        "JSON escapes": "".join(f"\\u{ord(c):04x}" for c in secret),
        "backslash-x escapes": "".join(f"\\x{b:02x}" for b in data),
        "Base64": base64.b64encode(data).decode(),
        "Base64 without padding": base64.b64encode(data).decode().rstrip("="),
        "base64url of the upper case": base64.urlsafe_b64encode(
            secret.upper().encode()).decode(),
        "hex": data.hex(),
        "HEX": data.hex().upper(),
        "UTF-16 hex": secret.encode("utf-16-be").hex(),
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in secret),
        "spaced out": " ".join(secret),
    }


CASES = [(secret, name, shown) for secret in SHORT_SECRETS
         for name, shown in forms(secret).items()]


@pytest.mark.parametrize(("secret", "name", "shown"), CASES,
                         ids=[f"{len(s)}-{n}" for s, n, _ in CASES])
def test_a_short_secret_is_masked_whole_in_every_form(secret, name, shown):
    text = f"error_description: credential {shown} was refused"
    assert Redactor(secret).redact(text) == f"error_description: credential {MASK} was refused"


@pytest.mark.parametrize("secret", SHORT_SECRETS)
def test_a_short_secret_of_four_or_more_is_masked_inside_a_word_too(secret):
    assert Redactor(secret).redact(f"x{secret}y") == f"x{MASK}y"


@pytest.mark.parametrize("secret", SHORT_SECRETS)
def test_a_short_secret_s_neighbours_are_left_alone(secret):
    # One character fewer is not the secret.
    text = f"credential {secret[:-1]} and {secret[1:]} were refused"
    assert Redactor(secret).redact(text) == text


# ---------------------------------------------------------------------------
# An API key in a query parameter, as the HTTP libraries log the URL


@pytest.mark.parametrize("key", ["ab cd+1", "k3y with spaces&sym=1/é-7Qw", "k y"])
def test_a_query_keys_form_encoded_form_is_masked_in_the_library_logs(caplog, key):
    from astra_auth.text.logmask import mask_in_http_logs

    mask_in_http_logs(key)
    logger = logging.getLogger("httpcore")
    shown_forms = [quote_plus(key), quote_plus(key).lower(), quote(key, safe="")]
    with caplog.at_level(logging.DEBUG, logger="httpcore"):
        for shown in shown_forms:
            logger.debug("send_request_headers.started request=<Request [b'GET' "
                         "b'/v1/items?key=%s']>", shown)
    messages = [r.getMessage() for r in caplog.records if r.name == "httpcore"]
    assert messages == [f"send_request_headers.started request=<Request [b'GET' "
                        f"b'/v1/items?key={MASK}']>"] * len(shown_forms)


def test_a_record_without_a_masked_value_is_left_as_it_was(caplog):
    from astra_auth.text.logmask import mask_in_http_logs

    mask_in_http_logs("zz-unrelated-key-Q81")
    logger = logging.getLogger("httpx")
    with caplog.at_level(logging.INFO, logger="httpx"):
        logger.info("HTTP Request: %s %s", "GET", "https://api.example.com/v1?page=2")
    [record] = [r for r in caplog.records if r.name == "httpx"]
    assert record.getMessage() == "HTTP Request: GET https://api.example.com/v1?page=2"
    assert record.args == ("GET", "https://api.example.com/v1?page=2")  # not rewritten


@pytest.mark.parametrize(("letter", "char"), [
    ("n", "\n"), ("r", "\r"), ("t", "\t"), ("b", "\b"), ("f", "\f"), ("v", "\v"),
    ("a", "\a"), ("e", "\x1b"),
])
def test_a_control_character_in_a_secret_is_matched_by_its_backslash_escape(letter, char):
    # "\t" in an echo is the secret's tab, not a letter t between two halves.
    secret = f"Zq8v{char}Lm2p"
    assert Redactor(secret).redact(f"bad secret Zq8v\\{letter}Lm2p end") == (
        f"bad secret {MASK} end")


# One character of each UTF-8 length, at both ends of each lead byte's range.
# U+20000 is a letter beyond the BMP: JSON writes it as a surrogate pair.
@pytest.mark.parametrize("char", ["\u00a3", "\u07ff", "\u0800", "\ufffd", "\U0001f600",
                                  "\U00020000", "\U0010fffd"])
def test_a_secret_with_a_non_ascii_character_is_masked_percent_encoded_and_json_escaped(char):
    secret = f"Zq8v{char}Lm2p"
    redactor = Redactor(secret)
    assert redactor.redact(f"a {quote(secret)} b") == f"a {MASK} b"
    assert redactor.redact(f"x{quote(secret, safe='')}y") == f"x{MASK}y"
    assert redactor.redact(json.dumps({"e": secret})) == f'{{"e": "{MASK}"}}'


@pytest.mark.parametrize("before", [4090, 4093, 4096, 10000])
def test_a_secret_far_into_a_long_text_is_masked_where_it_stands(before):
    # The way back from the squeezed text is built 4,096 letters at a time.
    secret = "Kp4wRt7n"
    assert Redactor(secret).redact("x" * before + secret + "y" * 5000) == (
        "x" * before + MASK + "y" * 5000)
    assert Redactor(secret).redact("x" * before + " " + secret + " z") == (
        "x" * before + f" {MASK} z")


SPELT = "Zq8vLm2p"


@pytest.mark.parametrize("escape", ["\\x{:02x}", "\\{:03o}", "\\u{:04x}", "\\U{:08x}",
                                    "\\u{{{:x}}}"], ids=["hex", "octal", "u", "U", "u-braces"])
@pytest.mark.parametrize(("before", "after"), [("", ""), ("a ", " b"), ("", " b"), ("a ", "")])
def test_a_secret_spelt_in_escapes_is_masked_whole_at_either_end_of_the_text(escape, before,
                                                                              after):
    spelt = "".join(escape.format(ord(char)) for char in SPELT)
    assert Redactor(SPELT).redact(before + spelt + after) == before + MASK + after


def test_the_last_code_point_is_an_escape_and_one_past_it_is_not():
    secret = "Zq8v\U0010ffffLm2p"
    assert Redactor(secret).redact("a Zq8v\\U0010ffffLm2p b") == f"a {MASK} b"
    # Not a character: left as it is, and nothing here is the secret.
    assert Redactor(secret).redact("a Zq8v\\U00110000Lm2p b") == "a Zq8v\\U00110000Lm2p b"


# The secret's own separators count toward a run of 8 only where the text has
# them too, at its edges as well: "-cd-ef-g" is 8 characters of it, "cd-ef-g"
# 7, and a "-" after the g is not the secret's (an h follows the g there).
@pytest.mark.parametrize(("shown", "masked"), [
    ("-cd-ef-g", True), ("cd-ef-g", False), ("cd-ef-gh", True), ("cd-ef-g-", False),
    ("-cd-ef-", False), ("b-cd-ef-", True), ("ef-gh-ij", True), ("-gh-ij", False),
    ("f-gh-ij", False), ("ab-cd-e", False), ("ab-cd-ef", True), ("-+cd-ef-g", True),
    ("cd-ef-g+-", False),
])
def test_a_secret_s_own_separators_count_at_the_edges_of_a_run(shown, masked):
    expected = f"x {MASK} y" if masked else f"x {shown} y"
    assert Redactor("ab-cd-ef-gh-ij").redact(f"x {shown} y") == expected


# The same at the secret's first and second letters, and with two different
# separators in a row, matched nearest first: each text shows exactly 8.
@pytest.mark.parametrize(("secret", "shown"), [
    ("a-bc-de-fg-hi", "-bc-de-f"),  # before the secret's second letter
    ("-Zq8vLm2", "-Zq8vLm2"),  # before its first
    ("Qz+-Lm2pXw", "+-Lm2pXw"),  # "-" nearest, then "+"
])
def test_the_secret_s_own_separators_before_its_first_letters_count(secret, shown):
    assert Redactor(secret).redact(f"x {shown} y") == f"x {MASK} y"
    assert Redactor(secret).redact(f"x {shown[1:]} y") == f"x {shown[1:]} y"


def test_the_secret_s_own_separators_count_at_either_end_of_the_text():
    assert Redactor("-Zq8vLm2").redact("-Zq8vLm2 y") == f"{MASK} y"
    assert Redactor("Zq8vLm2-").redact("x Zq8vLm2-") == f"x {MASK}"


def test_a_secret_with_three_letters_is_masked_spaced_out():
    # Three letters or digits are enough to look for it spaced out; two are not.
    assert Redactor("Q7-x").redact("a Q 7-x b") == f"a {MASK} b"
    assert Redactor("Q7--").redact("a Q 7-- b") == "a Q 7-- b"


def test_a_secret_from_a_non_utf_8_environment_variable_is_masked():
    # os.environ turns bytes that are not UTF-8 into lone surrogates.
    secret = "Zq8vLm2p\udcffXw"
    assert Redactor(secret).redact(f"a {secret} b") == f"a {MASK} b"
    data = secret.encode("utf-8", "surrogatepass")
    assert Redactor(secret).redact(f"a {data.hex()} b") == f"a {MASK} b"


def test_another_separator_before_the_secret_s_own_stays_outside_the_mask():
    assert Redactor("ab-cd-ef-gh-ij").redact("x --cd-ef-g y") == f"x -{MASK} y"


@pytest.mark.parametrize("secret", ["Zq8vLm2pXw", "Zq8v\u00c9Lm2pXw", "Zq8v\u00c9\u00e9Lm2p",
                                    "Zq8v\u00ca\u00ea\x7fLm2p"],
                         ids=["ascii", "latin-1", "latin-1-both-cases", "letter-in-utf-8"])
@pytest.mark.parametrize("case", [str, str.upper, str.lower, str.swapcase])
def test_the_base64_of_a_secret_in_another_case_is_masked(case, secret):
    # Bytes fold the case of ASCII letters only: "É" and "é" are other bytes.
    # "Ê" is C3 8A in UTF-8, "ê" C3 AA, and AA is a letter in Latin-1 ("ª"):
    # "Êê" as it is gives other letters than any one case of it.  (The DEL
    # keeps the bytes from being read as text, where case is folded.)
    encoded = base64.b64encode(case(secret).encode()).decode()
    assert Redactor(secret).redact(f"a {encoded} b") == f"a {MASK} b"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be",
                                   "latin-1"])
@pytest.mark.parametrize("secret", ["Zq8v\u00e9Lm2pX", "Zq8v\u00ffLm2pX"], ids=["e9", "ff"])
def test_a_latin_1_secret_in_utf_16_utf_32_or_latin_1_bytes_is_masked_as_base64_and_hex(
        codec, secret):
    data = secret.encode(codec)
    redactor = Redactor(secret)
    assert redactor.redact(f"a {base64.b64encode(data).decode()} b") == f"a {MASK} b"
    assert redactor.redact(f"a {data.hex()} b") == f"a {MASK} b"


@pytest.mark.parametrize("secret", ["Qx7", "Qx7p", "Qx7pLk", "Qx7pLk9"])
def test_a_short_secret_standing_alone_is_masked_in_base64_with_or_without_padding_and_hex(
        secret):
    encoded = base64.b64encode(secret.encode()).decode()
    redactor = Redactor(secret)
    for shown in (secret, encoded, encoded.rstrip("="), secret.encode().hex(),
                  base64.b64encode(secret.upper().encode()).decode(),
                  base64.b64encode(secret.lower().encode()).decode(),
                  secret.encode("utf-16-be").hex(), secret.encode("utf-16-le").hex()):
        assert redactor.redact(f"a {shown} b") == f"a {MASK} b", shown


def _percent(text: str) -> str:
    return "".join(f"%{ord(char):02X}" for char in text)


@pytest.mark.parametrize("shown", [
    _percent("Zq8vLm2pXw"),  # every character escaped
    quote(_percent("Zq8vLm2pXw"), safe=""),  # the escapes escaped: %255A
    quote(quote(_percent("Zq8vLm2pXw"), safe=""), safe=""),  # three deep: %25255A
    base64.b64encode(_percent("Zq8vLm2pXw").encode()).decode(),  # escapes inside Base64
], ids=["one", "two", "three", "inside-base64"])
def test_escapes_of_escapes_are_decoded_three_deep_and_once_inside_base64(shown):
    assert Redactor("Zq8vLm2pXw").redact(f"a {shown} b") == f"a {MASK} b"


@pytest.mark.parametrize(("shown", "masked"), [
    (base64.b64encode(b'{"k": "Qx7"}').decode(), f"eyJrIjogI{MASK}J9"),
    (base64.b64encode(b"key Qx7 end").decode(), f"a2V5I{MASK}BlbmQ="),
    (base64.b64encode(base64.b64encode(b"key Qx7 end")).decode(), f"YTJWNU{MASK}JsYm1RPQ=="),
])
def test_a_short_secret_inside_base64_is_masked_where_its_bytes_are(shown, masked):
    assert Redactor("Qx7").redact(f"a {shown} b") == f"a {masked} b"


# A backslash or `%` just before the hex or Base64 of a secret is read as an
# escape that takes the run's first characters (`\612` is octal, `%61` is "a"):
# the run is read as it is shown as well.  "a-a-aadc" is exactly 8 characters:
# losing its first would leave 7 shown.
@pytest.mark.parametrize(("shown", "masked"), [
    ("\\612d612d61616463", f"\\{MASK}"),
    ("C:\\612d612d61616463", f"C:\\{MASK}"),
    ("%612d612d61616463", f"%{MASK}"),
    ("\\x612d612d61616463", f"\\x{MASK}"),
    ("\\u612d612d61616463", f"\\u{MASK}"),
    ("%D2EtYS1hYWRj", f"%D{MASK}"),  # the Base64 of "\x0fa-a-aadc"
    ("\\eGEtYS1hYWRj", f"\\e{MASK}"),  # of "xa-a-aadc"; `\e` is ESC
    # The text before a Base64 run is Base64 letters too: the run's bytes start
    # with noise, and the hex in them follows a backslash byte.
    ("a-a-aadcNjEyZDYxMmQ2MTYxNjQ2Mw==", MASK),
], ids=["octal", "windows-path", "percent", "x-escape", "u-escape", "percent-base64",
        "backslash-base64", "after-base64-letters"])
def test_a_run_of_hex_or_base64_right_after_an_escape_character_is_masked(shown, masked):
    assert Redactor("a-a-aadc\u00e9\u00e9").redact(f"a {shown} b") == f"a {masked} b"


def test_two_secrets_side_by_side_are_one_mask():
    assert Redactor("Zq8vLm2pXw", "Hc6Fd0Gs5J").redact("a Zq8vLm2pXwHc6Fd0Gs5J b") == f"a {MASK} b"


def test_a_secret_inside_a_longer_one_does_not_end_the_longer_one_s_mask():
    redactor = Redactor("Zq8vLm2pXwHc6Fd0Gs5J", "Lm2pXwHc")
    assert redactor.redact("a Zq8vLm2pXwHc6Fd0Gs5J b") == f"a {MASK} b"
    assert redactor.redact("a Lm2pXwHc b Zq8vLm2pXwHc6Fd0 c") == f"a {MASK} b {MASK} c"


def test_a_secret_added_after_a_first_use_is_masked_too():
    redactor = Redactor("Zq8vLm2pXw")
    assert redactor.redact("a Hc6Fd0Gs5J b") == "a Hc6Fd0Gs5J b"
    redactor.add("Hc6Fd0Gs5J")
    assert redactor.redact("a Hc6Fd0Gs5J b") == f"a {MASK} b"
    other = Redactor("Tn4k7Yb1Qw")
    redactor.merge(other)
    assert redactor.redact("a Tn4k7Yb1Qw b Zq8vLm2pXw") == f"a {MASK} b {MASK}"


def test_the_secret_s_own_separator_counts_up_to_eight_other_separators_away():
    # "Zq8vLm2" is 7 characters: with the secret's "-" before it, 8.
    redactor = Redactor("-Zq8vLm2")
    assert redactor.redact("a -" + " " * 8 + "Zq8vLm2 b") == f"a {MASK} b"
    assert redactor.redact("a -" + " " * 9 + "Zq8vLm2 b") == "a -" + " " * 9 + "Zq8vLm2 b"


@pytest.mark.parametrize("char", ["\u20ac", "\U0001f600"], ids=["three-bytes", "four-bytes"])
def test_a_long_utf_8_character_then_another_non_ascii_one_is_decoded_from_percent_escapes(char):
    secret = f"Zq8v{char}\u00e9Lm2p"  # E2 82 AC or F0 9F 98 80, then C3 A9
    assert Redactor(secret).redact(f"a {quote(secret, safe='')} b") == f"a {MASK} b"


def test_a_latin_1_secret_percent_encoded_byte_by_byte_is_masked():
    # E9 is not UTF-8 here: it stands for itself, and the byte after it is read next.
    secret = "Zq8v\u00e9Lm2pX"
    shown = "".join(f"%{byte:02X}" for byte in secret.encode("latin-1"))
    assert shown == "%5A%71%38%76%E9%4C%6D%32%70%58"
    assert Redactor(secret).redact(f"a {shown} b") == f"a {MASK} b"


def test_a_secret_spelt_in_entities_escapes_and_separators_is_masked_to_its_last_letter():
    shown = "&#90;--&#113;--8%76Lm%32p&#88;w----"
    assert Redactor("Zq8vLm2pXw").redact(shown) == f"{MASK}----"


def test_a_secret_with_fewer_than_three_letters_is_masked_as_it_is_anywhere():
    redactor = Redactor("*! 9#")
    assert redactor.redact("a x*! 9#y b") == f"a x{MASK}y b"
    assert redactor.redact("q=*!+9#&r") == f"q={MASK}&r"  # a form's space
    assert redactor.redact("a *!9# b") == "a *!9# b"


def test_of_two_secrets_where_one_begins_the_other_the_longer_is_masked_whole():
    assert Redactor("*!#9", "*!#9$%").redact("a *!#9$% b") == f"a {MASK} b"


def test_a_short_secret_from_a_non_utf_8_environment_variable_is_masked():
    secret = "Qx\udcff7"
    hexed = secret.encode("utf-8", "surrogatepass").hex()
    assert Redactor(secret).redact(f"a {secret} b {hexed} c") == f"a {MASK} b {MASK} c"


def test_a_two_letter_secret_s_hex_of_four_digits_is_masked_its_three_letter_base64_not():
    assert Redactor("Qx").redact("a 5178 b UXg c") == f"a {MASK} b UXg c"


def test_an_escape_run_before_the_secret_stays_outside_the_mask():
    # "%41" and the secret's "%5A..." are one run of escapes.
    assert Redactor("Zq8vLm2pXw").redact("a %41%5A%71%38%76Lm2pXw b") == f"a %41{MASK} b"


def test_an_unknown_entity_does_not_stop_the_escapes_after_it_from_being_decoded():
    shown = _percent("Zq8vLm2pXw")
    assert Redactor("Zq8vLm2pXw").redact(f"&nosuch; {shown} b") == f"&nosuch; {MASK} b"


def test_a_text_of_ligatures_only_is_masked_where_the_secret_is():
    # Each ligature folds to two letters: the way back maps two to one.
    text = "\ufb01\ufb02\ufb01\ufb02\ufb01" + "\ufb00" * 5  # fi fl fi fl fi, ff x 5
    assert Redactor("fiflfiflfi").redact(text) == MASK + "\ufb00" * 5


def test_a_secret_in_a_second_run_of_separated_hex_bytes_is_masked_where_it_is():
    shown = "5a:71:38:76:4c:6d:32:70"  # "Zq8vLm2p"
    text = f"a 01:02:03:04 b 0a-0b-0c-0d-0e c {shown} d"
    assert Redactor("Zq8vLm2p").redact(text) == f"a 01:02:03:04 b 0a-0b-0c-0d-0e c {MASK} d"


def test_a_four_character_secret_with_one_letter_is_masked_inside_a_word():
    assert Redactor("*!#9").redact("a x*!#9y b") == f"a x{MASK}y b"


def test_each_of_two_short_secrets_is_masked_as_base64_and_hex():
    # Shorter than 4, they are found in these forms only by their Base64 and hex.
    redactor = Redactor("Qx7", "Zk9")
    for secret in ("Qx7", "Zk9"):
        encoded = base64.b64encode(secret.encode()).decode()
        hexed = secret.encode().hex()
        assert redactor.redact(f"a {encoded} b {hexed} c") == f"a {MASK} b {MASK} c", secret


def test_the_basic_pair_is_masked_whole_as_it_is_shown_percent_encoded():
    redactor = Redactor()
    redactor.add_basic("my client", "s!")
    assert redactor.redact("pair my+client:s%21 end") == f"pair {MASK} end"


def test_a_short_secret_s_base64_with_escaped_padding_is_masked_with_its_padding():
    assert Redactor("Qx7p").redact("a UXg3cA%3D%3D b") == f"a {MASK} b"


def test_a_run_one_letter_longer_than_a_secret_of_one_letter_repeated_is_masked_whole():
    assert Redactor("zzzzzzzz").redact("a zzzzzzzzz b") == f"a {MASK} b"


def test_a_secret_escaped_in_the_third_stretch_of_text_inside_base64_is_masked_where_it_is():
    # Two stretches of text among control bytes (bytes 0-39), then a third, with
    # non-ASCII letters; the secret (percent-escaped: found only once decoded)
    # is bytes 53-66 of it, which Base64 characters 70-89 stand for.
    data = (b"\x00\x01plain words first\x00\x01\x02\x03more plain text\x02\x03"
            + '{"k": "\u00e9t\u00e9 Zq8v%4C%6D2pXw"}'.encode())
    shown = base64.b64encode(data).decode()
    assert shown == ("AAFwbGFpbiB3b3JkcyBmaXJzdAABAgNtb3JlIHBsYWluIHRleHQCA3siayI6ICLDqXTDqS"
                     "BacTh2JTRDJTZEMnBYdyJ9")
    assert Redactor("Zq8vLm2pXw").redact(shown) == f"{shown[:70]}{MASK}{shown[90:]}"


def test_a_run_at_the_start_of_the_text_does_not_reach_back_to_its_end():
    # The text's last letter is the secret's letter before the run: 7 + 1 is not 8.
    assert Redactor("Zq8vLm2pXw").redact("q8vLm2p Z") == "q8vLm2p Z"
    assert Redactor("Zq8vLm2pXw").redact("q8vLm2pX Z") == f"{MASK} Z"


def test_two_runs_of_a_secret_split_by_one_changed_letter_are_both_masked():
    secret = "Zq8vLm2pXwHc6Fd0Gs5JTn4kRb7yPe"
    shown = secret[8:18] + "Y" + secret[19:28]  # "XwHc6Fd0Gs", "5" changed, "JTn4kRb7y"
    assert Redactor(secret).redact(shown) == f"{MASK}Y{MASK}"


# A run of 8 holds 3 letters or digits or more: the secret's own separators
# alone do not make one.
@pytest.mark.parametrize(("secret", "shown", "masked"), [
    ("Zq8-----vLm2", "q8-----v", True),  # three letters
    ("Zq8vL-m-------", "Zq8vLm-------", False),  # "m-------": one letter
    ("Q Zq8vLm2", "QZq8vLm2", False),  # "Zq8vLm2" and "Q": the space is not there
])
def test_a_masked_run_holds_three_letters_and_the_secret_s_separators_where_it_has_them(
        secret, shown, masked):
    assert Redactor(secret).redact(f"a {shown} b") == (f"a {MASK} b" if masked else f"a {shown} b")


@pytest.mark.parametrize(("codec", "after"), [("utf-16-le", "41004200"),
                                              ("utf-32-le", "4100000042000000")])
def test_the_zero_bytes_after_a_utf_16_or_utf_32_secret_are_masked_and_no_more(codec, after):
    shown = ("Zq8vLm2pXw" + "AB").encode(codec).hex()
    assert shown.endswith(after)
    assert Redactor("Zq8vLm2pXw").redact(f"a {shown} b") == f"a {MASK}{after} b"


def test_the_basic_pair_is_masked_after_a_merge_and_when_added_after_a_first_use():
    redactor = Redactor("s!")
    assert redactor.redact("pair my+client:s%21 end") == f"pair my+client:{MASK} end"
    redactor.add_basic("my client", "s!")  # the same secret: only the pair is new
    assert redactor.redact("pair my+client:s%21 end") == f"pair {MASK} end"
    merged = Redactor()
    merged.merge(redactor)
    assert merged.redact("pair my+client:s%21 end") == f"pair {MASK} end"


@pytest.mark.parametrize(("limit", "cut"), [(5, "abcde"), (4, "abc…"), (1, "…"), (0, "…")])
def test_cut_keeps_a_text_of_the_limit_and_cuts_a_longer_one_to_it(limit, cut):
    assert Redactor("Zq8vLm2pXw").cut("abcde", limit) == cut
