"""The test offered after saving (`test-token`'s check and panel), and what to
do when it fails on a secret: enter it again and test again, instead of a dead
end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.commands.configure.answers import Answers, Session
from astra_auth.commands.configure.plan import Plan, build_plan
from astra_auth.commands.configure.save import save
from astra_auth.commands.shared import report
from astra_auth.core.errors import SilentError
from astra_auth.core.validate import secret_words
from astra_auth.diagnosis.diagnose import Diagnosis, Settings, diagnose
from astra_auth.storage.lookup import load_target

if TYPE_CHECKING:
    from astra_auth.deps import Deps

# Categories where the provider refused a secret, and which secret, by grant.
_REFUSED_SECRET = {
    ("invalid_client", None): "client_secret",
    ("invalid_grant", "password"): "password",
}


def refused_secret(category: str, grant_type: str | None, http_status: int | None) -> str | None:
    """The kind of the secret the provider refused, if the failure says one was."""
    if category == "http_error" and http_status == 401:
        return "client_secret"  # a bare 401 from the token endpoint: the client's secret
    return (_REFUSED_SECRET.get((category, None))
            or _REFUSED_SECRET.get((category, grant_type)))


def test_once(name: str, deps: Deps) -> None:
    """Check the saved target as `test-token NAME` does, show the panel, and
    end with its exit code when it failed."""
    diagnosis = _check(name, deps)
    if not diagnosis.ok:
        raise SilentError(diagnosis.exit_code)


def test_until_settled(answers: Answers | None, plan: Plan, deps: Deps) -> None:
    """Check the saved target as `test-token` does; at a terminal, when it fails
    on a secret that was typed (not one a variable supplies), offer to enter it
    again, save it and test again, as often as the user wants."""
    from astra_auth.commands.configure.ask import ask_secret
    from astra_auth.commands.configure.options import ConfigureOptions, Given

    while True:
        diagnosis = _check(plan.target.name, deps)
        if diagnosis.failure is None:
            return
        o = diagnosis.target.oauth2
        kind = refused_secret(diagnosis.failure.category, o.grant_type if o else None,
                              diagnosis.failure.http_status)
        if (answers is None or kind is None or plan.secrets_mode != "keyring"
                or diagnosis.secret_sources.get(kind) != "keyring"):
            raise SilentError(diagnosis.exit_code)
        what = secret_words(kind)
        if not deps.prompter.confirm(f"Enter the {what} again and test again?", default=True):
            raise SilentError(diagnosis.exit_code)
        answers.secrets.pop(kind, None)
        session = Session(opts=ConfigureOptions(name=answers.name), deps=deps, given=Given(),
                          answers=answers)
        ask_secret(session, kind)
        plan = build_plan(answers)
        save(plan, deps)
        deps.io.success(f"Saved the new {what} for {plan.target.name}.")


def _check(name: str, deps: Deps) -> Diagnosis:
    """The saved target, read back from the config file, checked and shown."""
    target = load_target(deps, name)
    diagnosis = diagnose(target, Settings(waiting=report.waiting_status(deps)), deps)
    report.show(diagnosis, deps)
    return diagnosis


__all__ = ["refused_secret", "test_once", "test_until_settled"]
