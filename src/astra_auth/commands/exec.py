"""`astra-auth exec TARGET -- COMMAND ...`: run a scanner with the credential in
its environment.

The credential comes from the one `CredentialSource` (cache, renewal and
single-flight live there).  COMMAND inherits stdin, stdout and stderr, receives
the signals sent to astra-auth, and its exit status becomes ours, so that
`astra-auth exec api -- zap.sh ...` can stand wherever `zap.sh ...` stood.
Nothing here ever prints the credential.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from astra_auth.commands.options.exec import ExecOptions
from astra_auth.core.errors import ExitCode, SilentError, UsageError
from astra_auth.core.threads import start_worker
from astra_auth.credentials.interface import Credential, SourceSettings, open_source
from astra_auth.net.settings import check_network_options
from astra_auth.storage.lookup import load_target
from astra_auth.storage.secretstore import KINDS
from astra_auth.text import shellcmd

# What shells answer for a command that cannot run (POSIX 2.8.2).
NOT_FOUND = 127
NOT_EXECUTABLE = 126

# Every variable exec may set.  All are removed from the inherited environment
# first, so that a nested `exec` (or a stale export) never leaves another
# target's credential, or a header that no longer applies, beside ours.
VARIABLES = (
    "ASTRA_AUTH_TOKEN", "ASTRA_AUTH_HEADER_NAME", "ASTRA_AUTH_HEADER_VALUE",
    "ASTRA_AUTH_LOCATION", "ASTRA_AUTH_QUERY",
    "ZAP_AUTH_HEADER", "ZAP_AUTH_HEADER_VALUE", "ZAP_AUTH_HEADER_SITE",
)

# astra-auth's own secret variables (secretstore.env_names): `ASTRA_AUTH_<KIND>`
# and `ASTRA_AUTH_<TARGET>_<KIND>`, for every kind of secret.  COMMAND gets the
# credential, never the secrets it was made from, whichever target they are for.
_PREFIX = "ASTRA_AUTH_"
_SECRET_KINDS = tuple(kind.upper() for kind in KINDS)


def is_secret_variable(name: str) -> bool:
    """True for a variable that supplies one of astra-auth's secrets, to any target."""
    if not name.startswith(_PREFIX):
        return False
    rest = name[len(_PREFIX):]
    return any(rest == kind or rest.endswith("_" + kind) for kind in _SECRET_KINDS)

# Signals passed on to COMMAND.  Not SIGTSTP/SIGCONT: job control stops and
# continues the whole process group, COMMAND included, by itself.
FORWARDED = tuple(
    getattr(signal, name) for name in
    ("SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGWINCH")
    if hasattr(signal, name)
)
# Signals a terminal sends to its whole foreground process group: COMMAND, in
# our group, has received them already.  (Where the sender is known, any
# signal the kernel sent is taken as such; elsewhere, these while we are in the
# terminal's foreground, a hangup excepted, as a user's `kill -HUP` is likelier.)
FROM_TERMINAL = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGQUIT", "SIGWINCH") if hasattr(signal, name)
)

if TYPE_CHECKING:
    from astra_auth.deps import Deps


class CommandExit(SilentError):
    """COMMAND has ended: its exit status is ours, whatever it means to it."""

    def __init__(self, status: int) -> None:
        super().__init__(ExitCode.OK)
        self.exit_code = status  # type: ignore[assignment]


def exec_command(opts: ExecOptions, deps: Deps) -> None:
    _check(opts)
    target = load_target(deps, opts.name)
    if target.signs_each_request:
        from astra_auth.commands.shared.handover import signed_refusal

        raise signed_refusal(target.name, target.auth_type, "exec")
    source = open_source(target, deps, SourceSettings(
        min_ttl=opts.min_ttl, timeout=opts.timeout, ca_bundle=opts.ca_bundle))
    # A CredentialError (category, hints, exit code) ends here, before COMMAND runs.
    credential = source.get()
    env, notes = environment(deps.environ, credential, target.url, target.name)
    left = None if credential.expires_at is None else credential.expires_at - deps.clock()
    if left is not None and left < opts.min_ttl:
        # Renewed already: the provider issues no longer-lived tokens.
        notes.append(f"the credential expires in {max(0, round(left))} s, sooner than "
                     f"--min-ttl {opts.min_ttl:g} s: a run longer than that needs "
                     f"`astra-auth proxy {target.name}`, which renews.")
    for note in notes:
        deps.io.err.print(f"astra-auth: {note}", markup=False, highlight=False, soft_wrap=True)
    status = run_child(opts.command, env)
    if status != 0:
        raise CommandExit(status)


def _check(opts: ExecOptions) -> None:
    if not opts.command:
        raise UsageError(
            "exec: no COMMAND given",
            hints=[f"Put the command after `--`: astra-auth exec {opts.name} -- sh -c "
                   "'printf \"%s: %s\\n\" \"$ASTRA_AUTH_HEADER_NAME\" "
                   "\"$ASTRA_AUTH_HEADER_VALUE\" | curl -H @- https://api.example.com/'"],
        )
    if not 0 <= opts.min_ttl <= 86400:
        raise UsageError("--min-ttl: give a number of seconds between 0 and 86400")
    check_network_options(opts.timeout, opts.ca_bundle)


def environment(base: Mapping[str, str], credential: Credential, url: str | None,
                name: str) -> tuple[dict[str, str], list[str]]:
    """COMMAND's environment, and notes (never a secret) for stderr.

    - Ours, less every variable exec sets (a parent `exec`'s are stale here) and
      every secret variable of astra-auth's (`is_secret_variable`).
    - Always `ASTRA_AUTH_LOCATION` (header, query or cookie) and, where the
      credential has one, the bare token or key as `ASTRA_AUTH_TOKEN`.
    - A header credential: `ASTRA_AUTH_HEADER_NAME` / `_VALUE`; a cookie: the
      same, as the `Cookie` header that carries it.
    - A query-parameter credential has no header form: `ASTRA_AUTH_QUERY` holds
      `name=value`, URL-encoded, to append to a URL.
    - ZAP's variables only with the target's URL known: without
      `ZAP_AUTH_HEADER_SITE`, ZAP adds the header to every site it touches.
    """
    env = {k: v for k, v in base.items() if k not in VARIABLES and not is_secret_variable(k)}
    notes: list[str] = []
    env["ASTRA_AUTH_LOCATION"] = credential.location
    if credential.token is not None:
        env["ASTRA_AUTH_TOKEN"] = credential.token
    if credential.location == "query":
        env["ASTRA_AUTH_QUERY"] = f"{quote(credential.name, safe='')}=" \
                                  f"{quote(credential.value, safe='')}"
        notes.append(f"target {name!r} sends its key as the query parameter "
                     f"{credential.name!r}: ASTRA_AUTH_QUERY holds it, and no header "
                     "variable is set (ZAP's included); `astra-auth proxy` adds it to "
                     "every request instead.")
        return env, notes
    if credential.location == "cookie":
        header_name, header_value = "Cookie", f"{credential.name}={credential.value}"
    else:
        header_name, header_value = credential.name, credential.value
    env["ASTRA_AUTH_HEADER_NAME"] = header_name
    env["ASTRA_AUTH_HEADER_VALUE"] = header_value
    host = urlsplit(url).hostname if url else None
    if host:
        env["ZAP_AUTH_HEADER"] = header_name
        env["ZAP_AUTH_HEADER_VALUE"] = header_value
        env["ZAP_AUTH_HEADER_SITE"] = host
    else:
        notes.append(f"target {name!r} has no API URL, so ZAP_AUTH_HEADER* are not set "
                     "(without ZAP_AUTH_HEADER_SITE, ZAP would send the credential to every "
                     "site). Set it with: "
                     + shellcmd.configure(name, "--url", shellcmd.Placeholder("URL")))
    return env, notes


# ---------------------------------------------------------------------------
# Running COMMAND


def run_child(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run `command` with `env`; its exit status, as a shell reports it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if (hasattr(signal, "sigwaitinfo") and hasattr(signal, "pthread_kill")
            and hasattr(os, "posix_spawnp") and hasattr(os, "waitid")):
        return _run_linux(command, env)
    return _run_portable(command, env)


def _status(wait_status: int) -> int:
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)  # as shells report it
    return os.WEXITSTATUS(wait_status)


def _spawn_error(exc: OSError, program: str) -> int:
    """A command that did not start: say so as a shell would, on stderr."""
    if isinstance(exc, FileNotFoundError):
        print(f"astra-auth: {program}: command not found", file=sys.stderr)
        return NOT_FOUND
    reason = "permission denied" if isinstance(exc, PermissionError) else (
        exc.strerror or type(exc).__name__).lower()
    print(f"astra-auth: {program}: cannot run it: {reason}", file=sys.stderr)
    return NOT_EXECUTABLE


def _run_linux(command: Sequence[str], env: Mapping[str, str]) -> int:
    """posix_spawn, then take signals synchronously, with their sender known.

    The forwarded signals and SIGCHLD are blocked in this thread before COMMAND
    starts and taken with sigwaitinfo, which tells who sent each one.  A signal
    the kernel sent for a terminal (Ctrl-C, Ctrl-\\, a resize, a hangup) reached
    COMMAND too, as it shares our process group: passing it on would deliver it
    twice, and a second Ctrl-C turns many programs' clean shutdown into an
    abrupt one.  Everything else (`kill PID`, a CI runner's SIGTERM, a hangup
    relayed by the shell) goes on.

    A signal arriving before this thread waits for it stays pending until it
    does: astra-auth's own worker threads block every signal
    (core.threads.start_worker), so no other thread takes it.  Handlers are
    installed before COMMAND starts all the same, for a thread that is not ours
    (exec run inside a host program): a signal such a thread takes never ends
    astra-auth with its default action while COMMAND runs on, but goes on
    through `_Relay` when this thread next wakes.
    """
    watched = {*FORWARDED, signal.SIGCHLD}
    defaults = _defaults()
    relay = _Relay()
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    try:
        with _handlers(relay):
            try:
                pid = os.posix_spawnp(command[0], list(command), dict(env),
                                      setsigmask=old_mask, setsigdef=defaults)
            except OSError as exc:
                return _spawn_error(exc, command[0])
            relay.started(pid)
            _wake_when_ended(pid)
            while True:
                # sigwaitinfo, not sigtimedwait: CPython's sigtimedwait returns an
                # uninitialised siginfo when a stop and continue (Ctrl-Z, `fg`)
                # interrupts it after its timeout, and nothing needs a timeout here.
                info = signal.sigwaitinfo(watched)
                if info.si_signo == signal.SIGCHLD:
                    # WNOWAIT: COMMAND stays a zombie, its pid never reused, until
                    # nothing can signal it any more.
                    if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                        continue  # stopped, or the wake-up raced its exit status
                    relay.ended = True
                    return _status(os.waitpid(pid, 0)[1])
                if info.si_code > 0:
                    # SI_KERNEL: a terminal's Ctrl-C, Ctrl-\, resize or hangup,
                    # sent to its whole foreground process group.
                    continue
                if info.si_pid == pid:
                    continue  # COMMAND signalling its own process group
                _send(pid, info.si_signo)
    finally:
        # Drop what arrived after COMMAND ended, so that unblocking does not
        # act on a SIGINT or SIGTERM that was meant for COMMAND.
        while signal.sigtimedwait(watched, 0) is not None:
            pass
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def _wake_when_ended(pid: int) -> None:
    """Send this thread a SIGCHLD of its own once COMMAND has ended.

    The kernel's SIGCHLD goes to the process, and in a host program with
    threads of its own (the tests run exec in-process) one of those may take it
    and discard it.  This one is sent to this thread alone.
    """
    waiting = threading.get_ident()

    def wait() -> None:
        with contextlib.suppress(ChildProcessError):  # reaped already: a wake-up is harmless
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        signal.pthread_kill(waiting, signal.SIGCHLD)

    start_worker(wait, "astra-auth-exec-wait")


def _defaults() -> set[int]:
    """Signals COMMAND starts with at their default action.

    Signals ignored when we started (`nohup`, a background job) stay ignored in
    COMMAND; SIGPIPE and SIGXFSZ, which Python ignores, are reset as
    subprocess does.
    """
    reset = {s for s in FORWARDED if signal.getsignal(s) is not signal.SIG_IGN}
    for name in ("SIGPIPE", "SIGXFSZ"):
        if hasattr(signal, name):
            reset.add(getattr(signal, name))
    return reset


class _Relay:
    """What the handlers do with a signal: pass it on, its sender unknown.

    The handlers are installed before COMMAND starts, so that no forwarded
    signal meets its default action (ending astra-auth, or SIGINT's
    KeyboardInterrupt) while COMMAND runs.  One caught before COMMAND has a pid
    is held until it has one; none is passed on once COMMAND has been reaped,
    as its pid may by then be another process's.
    """

    def __init__(self) -> None:
        self.pid: int | None = None
        self.ended = False
        self.held: list[int] = []

    def __call__(self, signum: int) -> None:
        if self.ended:
            return
        if self.pid is None:
            self.held.append(signum)
            return
        _forward_unknown(self.pid, signum)

    def started(self, pid: int) -> None:
        self.pid = pid
        held, self.held = self.held, []
        for signum in held:
            _forward_unknown(pid, signum)


@contextlib.contextmanager
def _handlers(action: Callable[[int], None]) -> Iterator[None]:
    previous = {}
    for signum in FORWARDED:
        try:
            previous[signum] = signal.signal(signum, lambda s, _f: action(s))
        except (OSError, ValueError):  # not the main thread, or not settable here
            pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _forward_unknown(pid: int, signum: int) -> None:
    """Pass on a signal whose sender is unknown.

    One the terminal sent to the foreground process group has reached COMMAND,
    in our group, already.
    """
    if signum in FROM_TERMINAL and (os.name == "nt" or _in_foreground()):
        return
    _send(pid, signum)


def _send(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError, ValueError, OSError):
        pass  # it has just ended: its exit status is on its way


def _run_portable(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Elsewhere (macOS, Windows): subprocess, and handlers that pass signals on."""
    import subprocess

    relay = _Relay()
    with _handlers(relay):  # before COMMAND starts, as on Linux
        try:
            child = subprocess.Popen(list(command), env=dict(env))
        except OSError as exc:
            return _spawn_error(exc, command[0])
        relay.started(child.pid)
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:  # Windows: the console's Ctrl-C reached COMMAND too
                continue
        relay.ended = True
    return 128 - code if code < 0 else code


def _in_foreground() -> bool:
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False
