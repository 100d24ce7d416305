"""The real OS keyring (gnome-keyring's Secret Service on D-Bus), and broken ones.

These run the CLI as a separate process, exactly as a user or CI does.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.fakes import CLIENT_SECRET, PASSWORD

CC = ["--grant-type", "client_credentials", "--token-url", "https://idp.example.com/oauth/token",
      "--client-id", "scanner-app"]
PW = ["--grant-type", "password", "--token-url", "https://idp.example.com/oauth/token",
      "--client-id", "hr-app", "--username", "john.doe"]


@pytest.mark.keyring
def test_secrets_land_in_the_secret_service_and_read_back(proc, real_keyring):
    name = real_keyring.name()
    proc("configure", name, *PW, "--client-secret-stdin", "--password-stdin", "--no-input",
         input=f"{CLIENT_SECRET}\n{PASSWORD}\n")
    # Read back through keyring's SecretService backend, in this process.
    assert real_keyring.get(f"{name}:client_secret") == CLIENT_SECRET
    assert real_keyring.get(f"{name}:password") == PASSWORD
    # And through libsecret's own tool, independent of the keyring package.
    looked_up = subprocess.run(
        ["secret-tool", "lookup", "service", "astra-auth", "username", f"{name}:password"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert looked_up == PASSWORD
    data = json.loads(proc("targets", "show", name, "--json").out)
    assert data["secrets"] == {"client_secret": "stored", "password": "stored"}
    assert CLIENT_SECRET not in proc.config_path.read_text()


@pytest.mark.keyring
def test_rerun_keeps_and_replaces_secrets_in_the_real_keyring(proc, real_keyring):
    name = real_keyring.name()
    proc("configure", name, *CC, env={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    proc("configure", name, "--scope", "read", "--no-input")
    assert real_keyring.get(f"{name}:client_secret") == CLIENT_SECRET
    proc("configure", name, "--client-secret-stdin", input="replaced-secret-value\n")
    assert real_keyring.get(f"{name}:client_secret") == "replaced-secret-value"


@pytest.mark.keyring
def test_remove_deletes_the_real_keyring_entries(proc, real_keyring):
    name = real_keyring.name()
    proc("configure", name, *PW, env={"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET,
                                      "ASTRA_AUTH_PASSWORD": PASSWORD})
    proc("targets", "remove", name, "--yes")
    assert real_keyring.get(f"{name}:client_secret") is None
    assert real_keyring.get(f"{name}:password") is None


def _fault_env(backend: str) -> dict[str, str]:
    return {"PYTHON_KEYRING_BACKEND": backend, "ASTRA_AUTH_KEYRING_TIMEOUT": "2"}


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        ("tests.keyring_backends.Locked", "locked"),
        ("tests.keyring_backends.Raising", "ServiceUnknown"),
        ("tests.keyring_backends.PlaintextKeyring", "plain file"),
        ("keyring.backends.fail.Keyring", "no keyring backend"),
        ("keyring.backends.null.Keyring", "no keyring backend"),
    ],
)
def test_unusable_keyring_is_exit_3_with_ways_out_and_saves_nothing(proc, backend, reason):
    result = proc("configure", "a", *CC, input=CLIENT_SECRET + "\n", expect=3,
                  env=_fault_env(backend) | {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert "keyring is not usable" in result.err and reason in result.err
    assert "--secrets env" in result.err and "ASTRA_AUTH_CLIENT_SECRET" in result.err
    assert not proc.config_path.exists()


def test_a_backend_from_keyrings_alt_is_refused_whatever_its_class_is_called(proc):
    fake = Path(__file__).resolve().parent / "fake_keyrings"
    env = {"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.EncryptedKeyring",
           "PYTHONPATH": f"{proc.env['PYTHONPATH']}{os.pathsep}{fake}",
           "ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}
    result = proc("configure", "a", *CC, expect=3, env=env)
    assert ("The OS keyring is not usable: the selected backend "
            "keyrings.alt.file.EncryptedKeyring keeps secrets in a plain file, which "
            "astra-auth refuses") in result.err
    assert not proc.config_path.exists()


def _hanging(tmp_path, timeout="2"):
    """The hanging backend, logging each call it receives to the returned file."""
    log = tmp_path / "keyring-calls.log"
    env = _fault_env("tests.keyring_backends.Hanging") | {
        "HANGING_KEYRING_LOG": str(log), "ASTRA_AUTH_KEYRING_TIMEOUT": timeout}
    return env, log


def _calls(log):
    return log.read_text().splitlines() if log.exists() else []


# These count the keyring calls a command makes, not the seconds it takes:
# on a loaded machine seconds say little, and a second wait is a second call.
# (The subprocess timeout only keeps a real hang from stalling the suite.)
def test_hanging_keyring_times_out_instead_of_hanging(proc, tmp_path):
    env, log = _hanging(tmp_path)
    result = proc("configure", "a", *CC, expect=3, timeout=60,
                  env=env | {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert "did not answer within 2 seconds" in result.err
    assert _calls(log) == ["get a:client_secret"]
    assert not proc.config_path.exists()


def test_without_dbus_the_keyring_is_unusable_but_secrets_env_works(proc):
    env = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus",
           "ASTRA_AUTH_KEYRING_TIMEOUT": "5", "ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET}
    result = proc("configure", "a", *CC, env=env, expect=3)
    assert "keyring is not usable" in result.err
    assert ("set the target's variables where the tool runs: ASTRA_AUTH_<TARGET>_<KIND> (e.g. "
            "ASTRA_AUTH_PAYMENTS_API_CLIENT_SECRET for target payments-api), or "
            "ASTRA_AUTH_<KIND> (e.g. ASTRA_AUTH_CLIENT_SECRET) for every target."
            ) in " ".join(result.err.split())
    proc("configure", "a", *CC, "--secrets", "env", env=env)
    shown = json.loads(proc("targets", "show", "a", "--json", env=env).out)
    assert shown["secrets"] == {"client_secret": "env"}


def test_secrets_env_configure_never_touches_a_hanging_keyring_for_long(proc, tmp_path):
    env, log = _hanging(tmp_path)
    proc("configure", "a", *CC, "--secrets", "env", timeout=60, env=env)
    # One best-effort clean-up call at most, bounded by the keyring timeout.
    assert len(_calls(log)) <= 1
    assert all(call.startswith("delete a:") for call in _calls(log))


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="process spawning below is POSIX-only")
def test_concurrent_configure_processes_lose_no_target(proc):
    names = [f"t{i}" for i in range(8)]
    env = dict(proc.env, ASTRA_AUTH_CLIENT_SECRET=CLIENT_SECRET, PYTHON_KEYRING_BACKEND=
               "keyring.backends.null.Keyring")
    children = [
        subprocess.Popen(
            [os.sys.executable, "-m", "astra_auth", "configure", name, *CC, "--secrets", "env"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in names
    ]
    for child in children:
        out, err = child.communicate(timeout=60)
        proc.leaks.record("concurrent", out + err)
        assert child.returncode == 0, err
    listed = json.loads(proc("targets", "list", "--json").out)
    assert sorted(row["name"] for row in listed) == names


@pytest.mark.slow
def test_hanging_keyring_is_waited_for_once_per_run(proc, tmp_path):
    # token reads the cache entry, then the secret: the second read must not wait again.
    proc("configure", "a", *CC, "--secrets", "env")
    text = proc.config_path.read_text().replace('secrets = "env"', 'secrets = "keyring"')
    proc.config_path.write_text(text)
    env, log = _hanging(tmp_path, timeout="3")
    result = proc("token", "a", expect=3, timeout=60, env=env)
    assert "did not answer within 3 seconds" in result.err
    assert _calls(log) == ["get a:token"]  # one wait; the secret was not asked for
