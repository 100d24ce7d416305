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

from astra_auth.commands.configure.answers import SECRETS, Answers
from astra_auth.commands.configure.flags import from_flags
from astra_auth.commands.configure.options import ConfigureOptions, check_flags, read_given
from astra_auth.commands.configure.plan import Plan, build_plan
from astra_auth.commands.configure.save import save
from astra_auth.commands.configure.summary import show_summary
from astra_auth.commands.configure.walkthrough import walkthrough
from astra_auth.deps import Deps

__all__ = ["Answers", "ConfigureOptions", "Plan", "build_plan", "configure", "save"]


def configure(opts: ConfigureOptions, deps: Deps) -> None:
    opts = check_flags(opts)
    interactive = deps.io.can_prompt(no_input=opts.no_input)
    config = deps.config.load()
    given = read_given(opts, deps, interactive)
    if interactive:
        plan = build_plan(walkthrough(opts, config.targets, deps, given))
        show_summary(plan, deps)
        if not deps.prompter.confirm("Save these settings?", default=True):
            deps.io.info("Nothing was saved.")
            return
    else:
        plan = build_plan(from_flags(opts, config.targets, deps, given))
    save(plan, deps)
    deps.io.success(f"Saved target {plan.target.name} to {deps.config_path} ({_where(plan)}).")
    if opts.test or (
        interactive and deps.prompter.confirm("Run test-token now to check it?", default=True)
    ):
        from astra_auth.commands.test_token import TestTokenOptions, test_token

        test_token(TestTokenOptions(name=plan.target.name), deps)


def _where(plan: Plan) -> str:
    if plan.secrets_mode == "keyring":
        return "secrets in the OS keyring"
    names = " and ".join(SECRETS[kind].env for kind in plan.secret_states)
    return f"secrets read from {names} at run time"
