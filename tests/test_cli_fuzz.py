"""Fuzzed flags: any input ends in an exit code the commands promise, never 1,
never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from astra_auth.cli.app import main
from tests.conftest import strip_ansi
from tests.fakes import CLIENT_SECRET, MemoryStore, make_deps

EXIT_CODES = {0, 2, 3, 4, 5, 6}


texts = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80
).filter(lambda s: "\x00" not in s)
urls = st.one_of(
    texts,
    st.builds(lambda scheme, user, host, port, path, frag: f"{scheme}://{user}{host}{port}/{path}{frag}",
              st.sampled_from(["https", "http", "ftp", "HTTPS", ""]),
              st.sampled_from(["", "user:pass@", "@", "u@"]),
              st.one_of(st.sampled_from(["idp.example.com", "127.0.0.1", "[::1]", "bücher.de",
                                         "xn--bcher-kva.de", "a b.com", "-bad-.com", "",
                                         "localhost", "1.2.3.4.5", "[::1"]), texts),
              st.sampled_from(["", ":443", ":0", ":99999", ":x", ":"]),
              texts, st.sampled_from(["", "#frag", "?q=1", "#"])),
    st.just("https://" + "a" * 5000 + ".com/"),
)
names = st.one_of(texts, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,70}", fullmatch=True))


def _run(tmp_path: Path, argv: list[str], stdin: str = "") -> tuple[int, str]:
    import contextlib
    import io

    config = tmp_path / f"c{abs(hash(tuple(argv))) % 10**9}" / "config.toml"
    deps = make_deps(config, secrets=MemoryStore(), stdin=stdin)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        deps.io.stdout, deps.io.stderr = out, err
        code = main(argv, make_deps=lambda path: deps)
    return code, strip_ansi(out.getvalue() + err.getvalue())


FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.mark.slow
@FUZZ
@given(name=names, token_url=urls, client_id=texts, grant=st.sampled_from(
    ["client_credentials", "client-credentials", "password", "implicit", ""]),
    scope=st.one_of(st.none(), texts), username=st.one_of(st.none(), texts),
    client_auth=st.one_of(st.none(), st.sampled_from(["basic", "post", "jwt", ""])),
    secrets=st.one_of(st.none(), st.sampled_from(["keyring", "env", "file"])),
    url=st.one_of(st.none(), urls))
def test_fuzzed_configure_ends_in_a_promised_exit_code(tmp_path, name, token_url, client_id,
                                                      grant, scope, username, client_auth,
                                                      secrets, url):
    argv = ["configure", "--grant-type", grant, "--token-url", token_url, "--client-id",
            client_id, "--client-secret", CLIENT_SECRET, "--no-input"]
    for flag, value in (("--scope", scope), ("--username", username),
                        ("--client-auth", client_auth), ("--secrets", secrets), ("--url", url)):
        if value is not None:
            argv += [flag, value]
    argv += ["--", name]
    code, text = _run(tmp_path, argv)
    assert code in EXIT_CODES, text
    assert "Traceback" not in text and "internal error" not in text
    assert CLIENT_SECRET not in text


@FUZZ
@given(name=names, url=st.one_of(st.none(), urls),
       command=st.sampled_from(["add", "show", "remove", "list"]),
       json_flag=st.booleans())
def test_fuzzed_targets_commands_end_in_a_promised_exit_code(tmp_path, name, url, command,
                                                            json_flag):
    argv = ["targets", command]
    if command == "add" and url is not None:
        argv += ["--url", url]
    if command in ("show", "list") and json_flag:
        argv.append("--json")
    if command == "remove":
        argv.append("--yes")
    if command != "list":
        argv += ["--", name]
    code, text = _run(tmp_path, argv)
    assert code in EXIT_CODES, text
    assert "Traceback" not in text and "internal error" not in text


@FUZZ
@given(name=st.one_of(st.none(), names), timeout=st.one_of(st.none(), texts,
       st.sampled_from(["0", "-1", "1e9", "nan", "inf", "0.001"])),
       ca=st.one_of(st.none(), texts), flags=st.lists(
           st.sampled_from(["--all", "--json", "--verbose"]), unique=True))
def test_fuzzed_test_token_ends_in_a_promised_exit_code(tmp_path, name, timeout, ca, flags):
    argv = ["test-token", *flags]
    if timeout is not None:
        argv += ["--timeout", timeout]
    if ca is not None:
        argv += ["--ca-bundle", ca]
    if name is not None:
        argv += ["--", name]
    code, text = _run(tmp_path, argv)
    assert code in EXIT_CODES, text
    assert "Traceback" not in text and "internal error" not in text
