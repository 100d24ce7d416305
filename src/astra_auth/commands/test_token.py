"""`astra-auth test-token`: perform the grant for real and say what happened.

The checking is `diagnosis.diagnose`; this command picks the targets and
prints each `Diagnosis` as JSON or as panels (`commands.shared.report`).
"""

from __future__ import annotations

from typing import Any

from astra_auth.commands.options.test_token import TestTokenOptions
from astra_auth.commands.shared import report
from astra_auth.core.errors import ConfigError, ExitCode, SilentError, UsageError
from astra_auth.deps import Deps
from astra_auth.diagnosis import apicheck
from astra_auth.diagnosis.diagnose import Settings, diagnose
from astra_auth.net.settings import check_network_options
from astra_auth.storage.config import Config, Target
from astra_auth.storage.lookup import lookup
from astra_auth.text.safetext import dumps
from astra_auth.text.shellcmd import command


def test_token(opts: TestTokenOptions, deps: Deps) -> None:
    _check_options(opts)
    config = deps.config.load()
    if opts.all:
        if opts.name:
            raise UsageError("give a target NAME or --all, not both")
        targets = [config.targets[n] for n in sorted(config.targets)
                   if config.targets[n].auth_type is not None]
        if not targets:
            raise ConfigError("no configured targets to test",
                              hints=["Add one with: " + command("configure")])
    else:
        target = _pick(opts.name, config, deps)
        if target.auth_type is None:
            raise ConfigError(
                f"target {target.name!r} has no authentication configured yet",
                hints=["Set it up with: " + command("configure", target.name)])
        if opts.probe is not None:
            apicheck.probe_url(target, opts.probe)  # a bad --probe is exit 2 before anything
        targets = [target]

    settings = Settings(timeout=opts.timeout, ca_bundle=opts.ca_bundle, probe=opts.probe,
                        api_check=not opts.no_probe,
                        waiting=None if opts.json else report.waiting_status(deps))
    diagnoses = []
    for target in targets:
        diagnosis = diagnose(target, settings, deps)
        diagnoses.append(diagnosis)
        if not opts.json:
            report.show(diagnosis, deps, verbose=opts.verbose, summary=opts.all)
    if opts.json:
        objects = [report.to_json(d) for d in diagnoses]
        payload: Any = objects if opts.all else objects[0]
        deps.io.write_out(dumps(payload, indent=2) + "\n")
    worst = max((d.exit_code for d in diagnoses), default=ExitCode.OK)
    if worst != ExitCode.OK:
        raise SilentError(worst)


def _check_options(opts: TestTokenOptions) -> None:
    if opts.probe is not None and opts.no_probe:
        raise UsageError("--probe and --no-probe cannot be used together")
    check_network_options(opts.timeout, opts.ca_bundle)


def _pick(name: str | None, config: Config, deps: Deps) -> Target:
    if name is not None:
        return lookup(config, name, deps)
    names = sorted(config.targets)
    if not names:
        raise ConfigError("no targets yet", hints=["Add one with: " + command("configure")])
    if len(names) == 1:
        return config.targets[names[0]]
    if deps.io.can_prompt():
        from astra_auth.ui.picker import pick_target

        return config.targets[pick_target(deps, config.targets, "Targets")]
    raise UsageError(
        f"there are {len(names)} targets; name one ({', '.join(names)}) or use --all"
    )


