"""The config file's rules: who may write it (group as well as others), and
which `version` is read (only the current one, never an older or a newer
one as if it were current)."""

from __future__ import annotations

import os

import pytest

from astra_auth.storage.config import ownership_problems
from astra_auth.storage.config.parse import VERSION

TARGET = ('[targets.a]\nauth_type = "oauth2"\n[targets.a.oauth2]\n'
          'grant_type = "client_credentials"\ntoken_url = "https://idp.example.com/token"\n'
          'client_id = "c"\n')


def write(config_path, text: str) -> None:  # type: ignore[no-untyped-def]
    config_path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    config_path.write_text(text)
    os.chmod(config_path, 0o600)


# ---------------------------------------------------------------------------
# Group-writable


@pytest.mark.parametrize(("file_mode", "folder_mode", "problem"), [
    (0o620, 0o700, "the file can be written by its group (mode 0620)"),
    (0o660, 0o700, "the file can be written by its group (mode 0660)"),
    (0o600, 0o770, "its folder can be written by its group (mode 0770)"),
    (0o600, 0o730, "its folder can be written by its group (mode 0730)"),
    (0o602, 0o700, "the file can be written by others (mode 0602)"),
    (0o622, 0o700, "the file can be written by others (mode 0622)"),
])
def test_a_file_or_folder_others_or_the_group_can_write_is_reported(tmp_path, file_mode,
                                                                     folder_mode, problem):
    folder = tmp_path / "astra-auth"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(f"version = {VERSION}\n")
    os.chmod(path, file_mode)
    os.chmod(folder, folder_mode)
    try:
        assert ownership_problems(path, uid=os.geteuid()) == [problem]
    finally:
        os.chmod(folder, 0o700)


@pytest.mark.parametrize("file_mode", [0o600, 0o640, 0o644, 0o400])
def test_a_file_only_its_owner_can_write_is_not_reported(tmp_path, file_mode):
    path = tmp_path / "config.toml"
    path.write_text(f"version = {VERSION}\n")
    os.chmod(path, file_mode)
    os.chmod(tmp_path, 0o755)
    assert ownership_problems(path, uid=os.geteuid()) == []


def test_a_group_writable_config_is_a_warning(cli, config_path):
    write(config_path, f"version = {VERSION}\n{TARGET}")
    os.chmod(config_path, 0o660)
    result = cli("targets", "list")
    assert result.err == (
        f"! {config_path}: the file can be written by its group (mode 0660); anyone "
        "who can change it can send your secrets elsewhere (fix with chmod go-w)\n")


def test_a_group_writable_folder_named_by_flag_is_exit_3(cli, config_path):
    write(config_path, f"version = {VERSION}\n{TARGET}")
    os.chmod(config_path.parent, 0o770)
    try:
        result = cli("--config", str(config_path), "targets", "list", expect=3)
    finally:
        os.chmod(config_path.parent, 0o700)
    assert (f"{config_path}: refusing to use it: its folder can be written by its group "
            "(mode 0770)") in result.err


# ---------------------------------------------------------------------------
# Versions


def test_this_release_reads_version_1():
    assert VERSION == 1


@pytest.mark.parametrize("version", [0, 2, -1, 10])
def test_a_file_of_another_version_is_not_read_as_if_current(cli, config_path, version):
    text = f"version = {version}\n{TARGET}"
    write(config_path, text)
    result = cli("targets", "list", expect=3)
    assert (f"version: {version} is not supported by astra-auth") in result.err
    assert "which reads version 1; upgrade astra-auth to use this file" in result.err
    assert "a" not in result.out.split()  # the target was not listed
    assert config_path.read_text() == text  # nor the file rewritten


def test_a_file_of_another_version_is_never_rewritten_by_configure(cli, config_path):
    text = f"version = 0\n{TARGET}"
    write(config_path, text)
    cli("configure", "a", "--scope", "read", expect=3)
    assert config_path.read_text() == text


def test_the_current_version_is_read(cli, config_path):
    write(config_path, f"version = {VERSION}\n{TARGET}")
    assert cli("targets", "list").out.splitlines()[1].split()[0] == "a"
