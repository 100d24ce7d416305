"""`configure`'s inner shape: checked options, one `Answers` value from either
mode, and `build_plan` turning it into the plan.  The end-to-end behaviour is
in test_walkthrough.py and test_configure_flags.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from astra_auth.commands.configure.answers import Answers, OAuth2Answers, Secret
from astra_auth.commands.configure.flags import from_flags
from astra_auth.commands.configure.options import ConfigureOptions, Given, check_flags
from astra_auth.commands.configure.plan import build_plan
from astra_auth.commands.configure.walkthrough import walkthrough
from astra_auth.storage.config import OAuth2, Target
from tests.fakes import (
    CLIENT_SECRET,
    PASSWORD,
    MemoryStore,
    ScriptedPrompter,
    Step,
    make_deps,
    oauth2_walkthrough,
)

TOKEN_URL = "https://idp.example.com/oauth/token"


def test_check_flags_returns_a_checked_copy_and_leaves_the_options_as_typed():
    typed = ConfigureOptions(name="a", grant_type="client-credentials", token_url=TOKEN_URL,
                             scope="")
    checked = check_flags(typed)
    assert checked.grant_type == "client_credentials"
    assert typed.grant_type == "client-credentials"
    assert checked.scope == ""
    assert checked.name == "a" and checked.token_url == TOKEN_URL
    with pytest.raises(dataclasses.FrozenInstanceError):
        typed.name = "b"  # type: ignore[misc]


def test_build_plan_for_a_new_password_target():
    answers = Answers(
        name="hr",
        url="https://api.example.com",
        secrets={"client_secret": Secret("new", CLIENT_SECRET), "password": Secret("stored")},
        oauth2=OAuth2Answers(grant_type="password", token_url=TOKEN_URL, client_id="scanner-app",
                             client_auth="post", scope="", audience="https://api.example.com",
                             username="john.doe"),
    )
    plan = build_plan(answers)
    assert plan.target == Target(
        name="hr", url="https://api.example.com", auth_type="oauth2",
        oauth2=OAuth2(grant_type="password", token_url=TOKEN_URL, client_id="scanner-app",
                      client_auth="post", scope=None, audience="https://api.example.com",
                      username="john.doe", secrets="keyring"),
    )
    assert plan.is_new is True
    assert plan.secret_changes == {"hr:client_secret": CLIENT_SECRET}
    assert plan.secret_states == {"client_secret": "new", "password": "stored"}
    # A private key the new settings do not use (a private_key_jwt key) is removed too, and
    # so is a DPoP key.
    assert plan.cleanup == ["hr:token", "hr:private_key", "hr:dpop_key"]


def test_build_plan_for_client_credentials_drops_the_user_and_its_password():
    existing = Target(name="a", auth_type="oauth2", oauth2=OAuth2(
        grant_type="password", token_url=TOKEN_URL, client_id="c", username="john.doe"))
    answers = Answers(
        name="a", existing=existing, url="",
        secrets={"client_secret": Secret("stored")},
        oauth2=OAuth2Answers(grant_type="client_credentials", token_url=TOKEN_URL,
                             client_id="c", client_auth="basic", username="john.doe"),
    )
    plan = build_plan(answers)
    assert plan.target.url is None
    assert plan.target.oauth2 is not None and plan.target.oauth2.username is None
    assert plan.is_new is False
    assert plan.secret_changes == {}
    assert plan.cleanup == ["a:token", "a:password", "a:private_key", "a:dpop_key"]


def test_build_plan_in_env_mode_stores_nothing_and_removes_every_stored_secret():
    answers = Answers(
        name="a", secrets_mode="env",
        secrets={"client_secret": Secret("env"), "password": Secret("env")},
        oauth2=OAuth2Answers(grant_type="password", token_url=TOKEN_URL, client_id="c",
                             client_auth="basic", username="u"),
    )
    plan = build_plan(answers)
    assert plan.target.oauth2 is not None and plan.target.oauth2.secrets == "env"
    assert plan.secrets_mode == "env"
    assert plan.secret_changes == {}
    assert plan.secret_states == {"client_secret": "env", "password": "env"}
    assert plan.cleanup == ["a:token", "a:client_secret", "a:password", "a:private_key",
                            "a:dpop_key"]


def test_the_walkthrough_and_the_flags_give_the_same_answers_for_a_new_target(tmp_path: Path):
    prompter = ScriptedPrompter([
        *oauth2_walkthrough("hr", grant="password", token_url=TOKEN_URL, client_auth=1,
                     username="john.doe", password=PASSWORD, scope="read:things",
                     audience="https://api.example.com"),
    ])
    deps = make_deps(tmp_path / "config.toml", prompter=prompter, tty=True)
    asked = walkthrough(ConfigureOptions(), {}, deps, Given()).answers
    prompter.verify()

    flags = ConfigureOptions(
        name="hr", url="https://api.example.com", grant_type="password", token_url=TOKEN_URL,
        client_id="scanner-app", username="john.doe", scope="read:things",
        audience="https://api.example.com", client_auth="post",
    )
    given = Given({"client_secret": CLIENT_SECRET, "password": PASSWORD})
    read = from_flags(flags, {}, make_deps(tmp_path / "config.toml"), given)

    assert asked == read
    assert asked.oauth2 == OAuth2Answers(
        grant_type="password", token_url=TOKEN_URL, client_id="scanner-app",
        client_auth="post", scope="read:things", audience="https://api.example.com",
        username="john.doe",
    )
    assert asked.secrets == {"client_secret": Secret("new", CLIENT_SECRET),
                             "password": Secret("new", PASSWORD)}


def test_the_walkthrough_and_the_flags_give_the_same_answers_when_editing(tmp_path: Path):
    existing = Target(name="a", url="https://api.example.com", auth_type="oauth2",
                      oauth2=OAuth2(grant_type="client_credentials", token_url=TOKEN_URL,
                                    client_id="c", audience="aud", scope="read"))
    targets = {"a": existing}
    store = MemoryStore({"a:client_secret": CLIENT_SECRET})
    prompter = ScriptedPrompter([
        Step("text", "Target: a number", "1"),
        # API URL, type, grant, token URL, client ID, client auth, client secret,
        # scope (7)…
        Step("select", "Which setting?", 7),
        Step("text", "Scope", "write"),
        Step("select", "Which setting?", None),  # Done
    ])
    deps = make_deps(tmp_path / "config.toml", prompter=prompter, tty=True, secrets=store)
    asked = walkthrough(ConfigureOptions(), targets, deps, Given()).answers
    prompter.verify()
    read = from_flags(ConfigureOptions(name="a", scope="write"), targets,
                      make_deps(tmp_path / "config.toml", secrets=store), Given())

    assert asked == read
    assert asked.secrets == {"client_secret": Secret("stored")}
    assert asked.oauth2.scope == "write" and asked.oauth2.audience == "aud"
    assert build_plan(asked).secret_changes == {}
