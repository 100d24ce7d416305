"""The leak guard of tests/conftest.py catches what it is there to catch.
"""

from __future__ import annotations

import pytest

from tests.conftest import LeakGuard
from tests.fakes import CLIENT_SECRET, PASSWORD


def test_the_leak_guard_catches_a_leak_in_output_logs_and_files(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("guard-self-test")  # outside this test's own guard
    for place in ("output", "file"):
        guard = LeakGuard(root=tmp_path / place)
        (tmp_path / place).mkdir()
        if place == "output":
            guard.record("stderr", f"oops {CLIENT_SECRET}")
        else:
            (tmp_path / place / "config.toml").write_text(f'x = "{PASSWORD}"')
        with pytest.raises(AssertionError, match="found in"):
            guard.check()
