"""The error boundary: usage errors from the environment, and how a bug is reported."""

from __future__ import annotations

import io
import sys

from astra_auth.cli.app import main
from tests.conftest import strip_ansi
from tests.fakes import CLIENT_SECRET, MemoryStore, make_deps

CC = ["--grant-type", "client_credentials", "--token-url", "https://idp.example.com/oauth/token",
      "--client-id", "scanner-app"]


def test_a_bad_keyring_timeout_is_a_usage_error_naming_the_variable(proc):
    result = proc("configure", "a", *CC, expect=2,
                  env={"ASTRA_AUTH_KEYRING_TIMEOUT": "abc",
                       "ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert ("error: ASTRA_AUTH_KEYRING_TIMEOUT='abc' is not a number of seconds between 0 and "
            "600") in result.err
    assert "Set it to e.g. ASTRA_AUTH_KEYRING_TIMEOUT=10, or unset it." in result.err
    assert "internal error" not in result.err
    assert not proc.config_path.exists()


def test_zero_nan_negative_and_huge_keyring_timeouts_are_refused_too(proc):
    proc("configure", "a", *CC, "--secrets", "env")
    text = proc.config_path.read_text().replace('secrets = "env"', 'secrets = "keyring"')
    proc.config_path.write_text(text)  # so that `targets show` asks the keyring
    for value in ("0", "nan", "-5", "1e9"):
        result = proc("targets", "show", "a", expect=2,
                      env={"ASTRA_AUTH_KEYRING_TIMEOUT": value})
        assert f"ASTRA_AUTH_KEYRING_TIMEOUT={value!r}" in result.err


def test_commands_without_the_keyring_ignore_a_bad_keyring_timeout(proc):
    # The keyring store is built only when a command uses it.
    proc("targets", "add", "a", env={"ASTRA_AUTH_KEYRING_TIMEOUT": "abc"})
    assert "a" in proc("targets", "list", env={"ASTRA_AUTH_KEYRING_TIMEOUT": "abc"}).out


class _BuggyStore(MemoryStore):
    """A keyring whose library fails in a way nobody planned for, saying a secret."""

    def get(self, key: str) -> str | None:
        raise RuntimeError(f"backend exploded while holding {CLIENT_SECRET}")


def _run(config_path, argv, environ):
    """main() in-process, returning (exit code, stderr): tracebacks allowed here."""
    deps = make_deps(config_path, secrets=_BuggyStore(), environ=environ)
    err = io.StringIO()
    deps.io.stderr = err
    deps.io.stdout = io.StringIO()
    code = main(argv, make_deps=lambda path: deps)
    return code, strip_ansi(err.getvalue())


def _add_target(cli):
    cli("configure", "t", *CC, "--secrets", "env")
    with open(cli.config_path) as f:
        text = f.read()
    with open(cli.config_path, "w") as f:
        f.write(text.replace('secrets = "env"', 'secrets = "keyring"'))


def test_a_bug_is_exit_1_with_where_it_happened_and_no_made_up_url(cli, leaks):
    _add_target(cli)
    code, err = _run(cli.config_path, ["targets", "show", "t"], {})
    leaks.record("stderr", err)
    assert code == 1
    assert err.startswith("astra-auth: internal error (RuntimeError at test_errors.py:")
    assert err.rstrip().endswith(
        "This is a bug; please report it with the command you ran (leave out any secret), "
        "and the traceback that ASTRA_AUTH_DEBUG=1 adds.")
    assert "http" not in err  # the project declares no tracker, so none is named
    assert "Traceback" not in err and "exploded" not in err


def test_debug_adds_a_traceback_without_any_message(cli, leaks):
    _add_target(cli)
    code, err = _run(cli.config_path, ["targets", "show", "t"], {"ASTRA_AUTH_DEBUG": "1"})
    leaks.record("stderr", err)  # the secret in the exception's message must not show
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == ("Traceback (most recent call last; messages withheld, they may hold a "
                        "secret):")
    assert any(line.strip() == "raise RuntimeError(f\"backend exploded while holding "
               "{CLIENT_SECRET}\")" for line in lines)  # the source line, not its value
    assert 'in get' in err and "tests/test_errors.py" in err
    assert "builtins.RuntimeError" in lines
    assert "exploded while holding cs-" not in err
    assert lines[-1] == ("astra-auth: internal error (RuntimeError at test_errors.py:"
                         f"{_BuggyStore.get.__code__.co_firstlineno + 1}). This is a bug; "
                         "please report it with the command you ran (leave out any secret).")


def test_debug_traceback_shows_the_chain_of_causes():
    from astra_auth.core.errors import redacted_traceback

    inner, outer = "in" + "ner-" * 3, "out" + "er-" * 3  # values made at run time
    try:
        try:
            raise KeyError(inner)
        except KeyError as exc:
            raise ValueError(outer) from exc
    except ValueError as exc:
        lines = redacted_traceback(exc)
    text = "\n".join(lines)
    assert "inner-" not in text and "outer-" not in text
    assert lines.index("builtins.KeyError") < lines.index(
        "The above exception was the direct cause of the following exception:") < lines.index(
        "builtins.ValueError")
    assert sys.exc_info() == (None, None, None)
