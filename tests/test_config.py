"""The config file: location, permissions and ownership, strict reading, never
overwriting a bad file, and saves that survive killed and concurrent writers."""

from __future__ import annotations

import base64
import os
import signal
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from astra_auth.storage.config import default_path
from tests.fakes import CLIENT_SECRET, ENV, add, tt_json, unique

CC = ["--grant-type", "client_credentials", "--token-url", "https://idp.example.com/oauth/token",
      "--client-id", "scanner-app", "--client-secret", CLIENT_SECRET]


def test_default_path_follows_xdg_and_override():
    assert default_path({"XDG_CONFIG_HOME": "/x", "HOME": "/h"}) == Path(
        "/x/astra-auth/config.toml")
    assert default_path({"HOME": "/h"}) == Path("/h/.config/astra-auth/config.toml")
    assert default_path({"ASTRA_AUTH_CONFIG": "/c.toml", "XDG_CONFIG_HOME": "/x"}) == Path(
        "/c.toml")


def test_file_is_0600_in_a_0700_folder_even_with_a_loose_umask(cli, config_path):
    old = os.umask(0o000)
    try:
        cli("configure", "a", *CC)
    finally:
        os.umask(old)
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_path.parent.stat().st_mode) == 0o700


def test_global_config_option_names_another_file(cli, tmp_path):
    other = tmp_path / "elsewhere" / "mine.toml"
    cli("--config", str(other), "targets", "add", "a")
    assert "[targets.a]" in other.read_text()


BAD_FILES = {
    "bad toml": ("version = 1\n[targets.a\n", "line 2"),
    "future version": ("version = 2\n", "version: 2 is not supported"),
    "no version": ("[targets.a]\n", "version: missing"),
    "version string": ('version = "1"\n', "must be a whole number"),
    "targets not table": ("version = 1\ntargets = 3\n", "targets: must be a table"),
    "url wrong type": ("version = 1\n[targets.a]\nurl = 5\n", "targets.a.url: must be a string"),
    "bad grant": (
        'version = 1\n[targets.a]\nauth_type = "oauth2"\n[targets.a.oauth2]\n'
        'grant_type = "implicit"\ntoken_url = "https://i.example.com/t"\nclient_id = "c"\n',
        "targets.a.oauth2.grant_type",
    ),
    "missing client_id": (
        'version = 1\n[targets.a]\nauth_type = "oauth2"\n[targets.a.oauth2]\n'
        'grant_type = "client_credentials"\ntoken_url = "https://i.example.com/t"\n',
        "client_id: missing",
    ),
    "password without username": (
        'version = 1\n[targets.a]\nauth_type = "oauth2"\n[targets.a.oauth2]\n'
        'grant_type = "password"\ntoken_url = "https://i.example.com/t"\nclient_id = "c"\n',
        "username: missing",
    ),
    "bad target name": ('version = 1\n[targets."a b"]\n', "not a valid target name"),
    "unknown key": ("version = 1\n[targets.a]\ncolour = 'red'\n", "unknown setting"),
    "not utf-8": (b"version = 1\n# \xff\xfe\n", "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_invalid_file_is_reported_with_path_and_never_overwritten(cli, config_path, case):
    content, message = BAD_FILES[case]
    config_path.parent.mkdir(parents=True)
    raw = content if isinstance(content, bytes) else content.encode()
    config_path.write_bytes(raw)
    for args in (["targets", "list"], ["targets", "add", "b"], ["configure", "b", *CC]):
        result = cli(*args, expect=3)
        assert str(config_path) in result.err
        assert message in result.err
        assert config_path.read_bytes() == raw


def test_secret_written_into_the_file_by_hand_is_refused_and_not_echoed(cli, config_path, leaks):
    config_path.parent.mkdir(parents=True)
    config_path.write_text(
        'version = 1\n[targets.a]\nauth_type = "oauth2"\n[targets.a.oauth2]\n'
        'grant_type = "client_credentials"\ntoken_url = "https://i.example.com/t"\n'
        'client_id = "c"\nclient_secret = "hand-written-secret-42"\n'
    )
    result = cli("targets", "list", expect=3)
    assert "secrets do not belong in the config file" in result.err
    assert "hand-written-secret-42" not in result.text


def test_folder_in_place_of_file_is_config_error(cli, config_path):
    config_path.mkdir(parents=True)
    assert "is a folder" in cli("targets", "list", expect=3).err


def test_unreadable_file_is_config_error(cli, config_path):
    # A symlink loop cannot be read even by root (the CI user), unlike mode 000.
    config_path.parent.mkdir(parents=True)
    config_path.symlink_to(config_path)
    assert "cannot be read" in cli("targets", "list", expect=3).err


def test_no_temporary_files_are_left_behind(cli, config_path):
    cli("configure", "a", *CC)
    cli("configure", "b", *CC)
    names = sorted(p.name for p in config_path.parent.iterdir())
    assert names == ["config.toml", "config.toml.lock"]


def test_every_hand_edit_to_the_file_is_seen_at_once(cli, config_path):
    cli("configure", "a", *CC)
    assert "a" in cli("targets", "list").out
    text = config_path.read_text().replace("[targets.a", "[targets.b")
    config_path.write_text(text)
    listed = cli("targets", "list").out
    assert "b " in listed and "a " not in listed
    # A hand edit that breaks the file is reported by the next command.
    config_path.write_text(text + "\n[broken\n")
    assert "is not valid TOML" in cli("targets", "list", expect=3).err


# ---------------------------------------------------------------------------
# Ownership, permissions, planted links


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
# Deep nesting


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
# Durability: killed and concurrent writers

WRITER = """
import sys
from pathlib import Path
from astra_auth.storage.config import ConfigStore, Target
store = ConfigStore(Path(sys.argv[1]))
i = 0
while True:
    with store.edit() as config:
        config.targets[f"t{i % 50}"] = Target(name=f"t{i % 50}", url=f"https://a{i}.example.com")
    i += 1
"""


@pytest.mark.slow
def test_sigkill_during_saves_leaves_a_valid_file(tmp_path):
    path = tmp_path / "cfg" / "config.toml"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent / "src"))
    for round_number in range(12):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=env)
        time.sleep(0.15 + 0.037 * round_number)  # land at different moments of a save
        child.send_signal(signal.SIGKILL)
        child.wait()
        if path.exists():
            data = tomllib.loads(path.read_text())  # old or new, never half
            assert data["version"] == 1
    assert path.exists()
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    # A killed writer may leave its temporary file; it is never the config.
    assert all(name.startswith(".config.toml.") for name in leftovers)
    kept = {p.name for p in path.parent.iterdir() if not p.name.endswith(".tmp")}
    assert "config.toml" in kept
    assert kept <= {"config.toml", "config.toml.lock"}


@pytest.mark.slow
def test_twenty_concurrent_writers_lose_no_update(proc):
    names = [f"w{i:02d}" for i in range(20)]
    env = dict(proc.env, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    children = [
        subprocess.Popen([sys.executable, "-m", "astra_auth", "targets", "add", name],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in names
    ]
    for child in children:
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    data = tomllib.loads(proc.config_path.read_text())
    assert sorted(data["targets"]) == names
