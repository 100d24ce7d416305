"""`astra-auth configure`: the walk-through, interactive or from flags.

Both modes fill one `Answers` value (`walkthrough.py` by asking, `flags.py`
from flags, the environment and the existing target); `build_plan` turns it
into the `Plan` (the target's new settings and the keyring changes), then
`save` applies it: secrets first, then the config file under its lock,
undoing the secrets if the file cannot be written.  Nothing is touched before
the plan is complete, so Ctrl-C, Ctrl-D or a refused value at any point leaves
the config file and the keyring as they were.

The modules, one job each: `options` (the flags, checked; secrets given with
them), `answers` (the shared model), `walkthrough` and `ask` (asking),
`flags` (CI), `provider` (discovery), `oauth2` (one auth type; `auth_types`
lists them), `plan`, `summary`, `save`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from astra_auth.commands.configure.answers import Answers, Secret, Session
from astra_auth.commands.configure.flags import from_flags
from astra_auth.commands.configure.from_document import check_import_flags, in_ci
from astra_auth.commands.configure.keys import refuse_unfit_keys
from astra_auth.commands.configure.options import ConfigureOptions, check_flags, read_given
from astra_auth.commands.configure.plan import Plan, build_plan
from astra_auth.commands.configure.save import save
from astra_auth.commands.configure.summary import show_summary
from astra_auth.commands.configure.walkthrough import walkthrough, which_setting
from astra_auth.core.errors import ExitCode, KeyringUnavailable, SilentError
from astra_auth.storage.config import Target
from astra_auth.storage.secretstore import env_names, env_source, name_clash
from astra_auth.text.shellcmd import command
from astra_auth.ui.prompter import Choice

if TYPE_CHECKING:
    from astra_auth.deps import Deps

__all__ = ["Answers", "ConfigureOptions", "Plan", "build_plan", "configure", "save"]


def configure(opts: ConfigureOptions, deps: Deps) -> None:
    opts = check_flags(opts)
    check_import_flags(opts)
    interactive = deps.io.can_prompt(no_input=opts.no_input)
    config = deps.config.load()
    clash = name_clash(opts.name, config.targets) if opts.name is not None else None
    if clash is not None:
        raise clash
    if interactive:
        opts = check_keyring(opts, config.targets, deps)
    given = read_given(opts, deps, interactive)
    if interactive:
        session = walkthrough(opts, config.targets, deps, given)
        answers = session.answers
        plan = _settle(session)
        if plan is None:
            deps.io.info("Nothing was saved.")
            return
        # Each key was checked as it was given; a setting changed from the
        # summary's menu (the algorithm) may not fit it any more.
        refuse_unfit_keys(session)
        plan = _save_interactive(answers, plan, deps)
    else:
        opts, given = in_ci(opts, config.targets, deps, given)
        plan = build_plan(from_flags(opts, config.targets, deps, given))
        save(plan, deps)
    deps.io.success(f"Saved target {plan.target.name} to {deps.config_path}{_where(plan)}.")
    o = plan.target.oauth2
    login = o is not None and o.needs_login
    unset = _unset_variables(plan, deps)
    if unset and interactive:
        # A test (or a login) now could only fail on the missing variable:
        # none is offered; this says what to set.
        then = "." if login else (", then check the target with: "
                                  + command("test-token", plan.target.name))
        deps.io.info("Set " + " and ".join(unset) + " where astra-auth runs (the scanner's "
                     "environment, the CI job)" + then)
    if login:
        _offer_login(plan, opts, deps, interactive and not unset)
        return
    if opts.test or (
        interactive and not unset
        and deps.prompter.confirm("Run test-token now to check it?", default=True)
    ):
        from astra_auth.commands.configure.retest import test_until_settled

        test_until_settled(answers if interactive else None, plan, deps)


# Offered when the summary is not saved, so that one wrong answer does not
# cost all the others.
DECLINED_CHOICES = [
    Choice("Change a setting", "pick it from the list, then see the summary again"),
    Choice("Discard everything", "save nothing and stop"),
]
# Offered before the first question when no keyring can be used.
KEYRING_CHOICES = [
    Choice("In environment variables", "nothing stored; read from ASTRA_AUTH_* variables"),
    Choice("Stop here", "make a keyring usable, then run configure again"),
]


def _settle(session: Session) -> Plan | None:
    """The summary, until the user saves it (the plan) or discards it (None);
    declining to save offers the "Which setting?" menu first."""
    deps = session.deps
    while True:
        plan = build_plan(session.answers)
        show_summary(plan, deps)
        if deps.prompter.confirm("Save these settings?", default=True):
            return plan
        if deps.prompter.select("Change a setting, or discard everything?",
                                DECLINED_CHOICES, default=0) == 1:
            return None
        which_setting(session)


def _unset_variables(plan: Plan, deps: Deps) -> list[str]:
    """For a target that reads its secrets from variables: those not set here
    (by their per-target names)."""
    if plan.secrets_mode != "env":
        return []
    return [env_names(plan.target.name, kind)[0] for kind in plan.secret_states
            if env_source(plan.target.name, kind, deps.environ) is None]


def check_keyring(opts: ConfigureOptions, targets: dict[str, Target],
                  deps: Deps) -> ConfigureOptions:
    """Before the first question: is there a keyring to keep the secrets in?
    Without one, say so at once and offer environment variables, or stop,
    rather than fail after the seventh answer."""
    if opts.secrets == "env":
        return opts
    existing = targets.get(opts.name or "")
    if opts.secrets is None and existing is not None and existing.secrets_mode == "env":
        return opts
    try:
        # Target names cannot start with ':', so this entry is nobody's.
        deps.secrets.get(":keyring-check")
    except KeyringUnavailable as exc:
        deps.io.warn(exc.message)
        choice = deps.prompter.select("Where should this target's secrets live?",
                                      KEYRING_CHOICES, default=0)
        if choice == 1:
            for hint in exc.hints[:1]:
                deps.io.info(hint)
            raise SilentError(ExitCode.CONFIG) from None
        return replace(opts, secrets="env")
    return opts


def _save_interactive(answers: Answers, plan: Plan, deps: Deps) -> Plan:
    """Save; when the keyring fails only now, offer to save the other settings
    with the secrets read from the environment, rather than lose every answer."""
    try:
        save(plan, deps)
        return plan
    except KeyringUnavailable as exc:
        deps.io.warn(exc.message)
        if plan.secrets_mode == "env" or not deps.prompter.confirm(
                "Save the other settings, with the secrets read from environment variables "
                "(the secrets typed are not kept)?", default=True):
            raise
    answers.secrets_mode = "env"
    for kind in answers.secrets:
        answers.secrets[kind] = Secret("env")
    plan = build_plan(answers)
    save(plan, deps)
    return plan


def _offer_login(plan: Plan, opts: ConfigureOptions, deps: Deps, interactive: bool) -> None:
    """The login grants: the one human step comes right after saving."""
    from astra_auth.commands.configure.retest import test_once
    from astra_auth.commands.shared.login_flow import log_in
    from astra_auth.storage.lookup import load_target
    from astra_auth.text.shellcmd import command

    name = plan.target.name
    if not (interactive and deps.prompter.confirm("Log in now?", default=True)):
        deps.io.info("Next, log in once (renewal is unattended afterwards): "
                     + command("login", name))
        if opts.test:
            test_once(name, deps)
        return
    log_in(load_target(deps, name), deps)
    if opts.test or deps.prompter.confirm("Run test-token now to check it?", default=True):
        test_once(name, deps)


def _where(plan: Plan) -> str:
    """Where the secrets live, said after the path: nothing for a target
    without one (a public client)."""
    if not plan.secret_states:
        return ""
    if plan.secrets_mode == "keyring":
        return " (secrets in the OS keyring)"
    names = " and ".join(env_names(plan.target.name, kind)[0] for kind in plan.secret_states)
    return f" (secrets read from {names} at run time)"
