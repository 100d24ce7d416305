"""The test offered after the walk-through, and what to do when it fails on a
secret: enter it again and test again, instead of a dead end (issue 14, item 6).
"""

from __future__ import annotations

from astra_auth.commands.configure.answers import Answers, Session
from astra_auth.commands.configure.plan import Plan, build_plan
from astra_auth.commands.configure.save import save
from astra_auth.core.errors import SilentError
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


def test_until_settled(answers: Answers | None, plan: Plan, deps: Deps) -> None:
    """Run test-token on the saved target; at a terminal, when it fails on a
    secret that was typed (not one a variable supplies), offer to enter it again,
    save it and test again, as often as the user wants."""
    from astra_auth.commands.configure.ask import ask_secret
    from astra_auth.commands.configure.options import ConfigureOptions, Given
    from astra_auth.commands.test_token import TestTokenOptions, check, print_report

    opts = TestTokenOptions(name=plan.target.name)
    while True:
        target = deps.config.load().targets[plan.target.name]
        report = check(target, opts, deps)
        print_report(report, opts, deps)
        if report.ok:
            return
        error = report.data["error"]
        kind = refused_secret(error["category"], report.data.get("grant_type"),
                              error["http_status"])
        sources = report.data.get("secret_sources", {})
        if (answers is None or kind is None or plan.secrets_mode != "keyring"
                or sources.get(kind) != "keyring"):
            raise SilentError(report.exit_code)
        what = kind.replace("_", " ")
        if not deps.prompter.confirm(f"Enter the {what} again and test again?", default=True):
            raise SilentError(report.exit_code)
        answers.secrets.pop(kind, None)
        session = Session(opts=ConfigureOptions(name=answers.name), deps=deps, given=Given(),
                          answers=answers)
        ask_secret(session, kind)
        plan = build_plan(answers)
        save(plan, deps)
        deps.io.success(f"Saved the new {what} for {plan.target.name}.")


__all__ = ["refused_secret", "test_until_settled"]
