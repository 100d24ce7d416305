"""The config file: location, permissions, strict reading, never overwriting a bad file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from astra_auth.storage.config import default_path
from tests.fakes import CLIENT_SECRET

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
