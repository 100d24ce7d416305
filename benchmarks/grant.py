"""The grant and the cached token, each against what a user would write by hand.

1. `astra-auth test-token NAME --json` (secrets from the environment) against a
   local authorization server, versus a bare httpx POST of the same grant in a
   fresh interpreter.  Goal <= 1.5x.
2. `astra-auth token NAME` with a valid cached token, versus a bare
   `keyring.get_password` of the same entry in a fresh interpreter.  Goal <= 1.5x.
   (Needs a usable keyring: run inside tests/with-keyring.sh under
   dbus-run-session, as tests/run.sh does.)

    python benchmarks/grant.py [--rounds N]

Side by side in one run, alternating, medians.  Where a ratio is over its goal,
the slowest imports of the slower command are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes import CLIENT_SECRET  # noqa: E402
from tests.servers.authserver import RunningServer  # noqa: E402

BARE_GRANT = """
import os, httpx
r = httpx.post(os.environ["URL"], data={"grant_type": "client_credentials",
               "client_id": os.environ["CID"],
               "client_secret": os.environ["ASTRA_AUTH_CLIENT_SECRET"]})
r.raise_for_status(); print(r.json()["access_token"][:0])
"""
BARE_KEYRING = """
import keyring, os
print(len(keyring.get_password("astra-auth", os.environ["ENTRY"]) or ""))
"""


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed ({done.returncode}): {done.stderr[-500:]}")
    return elapsed


def compare(title: str, pair: dict[str, tuple[list[str], dict[str, str]]], rounds: int,
            goal: float) -> None:
    times: dict[str, list[float]] = {name: [] for name in pair}
    for round_number in range(rounds + 1):
        for name, (argv, env) in pair.items():
            t = timed(argv, env)
            if round_number:  # round 0 warms up
                times[name].append(t)
    (base_name, base_times), (tool_name, tool_times) = times.items()
    base, tool = statistics.median(base_times), statistics.median(tool_times)
    ratio = tool / base
    print(f"\n{title}")
    print(f"  {base_name:48} {base * 1000:7.1f} ms")
    print(f"  {tool_name:48} {tool * 1000:7.1f} ms   ratio {ratio:.2f} (goal <= {goal})"
          + ("" if ratio <= goal else "  OVER"))
    if ratio > goal:
        argv, env = pair[tool_name]
        out = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], env=env,
                             capture_output=True, text=True).stderr
        rows = []
        for line in out.splitlines():
            if line.startswith("import time:") and "|" in line:
                parts = line.split("|")
                try:
                    rows.append((int(parts[1].strip()), parts[2].rstrip()))
                except ValueError:
                    pass
        print("  where the time goes (cumulative import time, top-level modules):")
        for micros, module in sorted((r for r in rows if not r[1].startswith("  ")),
                                     reverse=True)[:6]:
            print(f"    {micros / 1000:6.1f} ms  {module.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    server = RunningServer()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    home = Path(tempfile.mkdtemp())
    env = dict(os.environ, XDG_CONFIG_HOME=str(home), NO_COLOR="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    py = sys.executable
    tool = [py, "-m", "astra_auth"]

    subprocess.run([*tool, "configure", "bench", "--grant-type", "client_credentials",
                    "--token-url", server.token_url, "--client-id", "scanner-app",
                    "--client-auth", "post", "--secrets", "env", "--no-input"], env=env,
                   check=True,
                   capture_output=True)
    grant_env = dict(env, ASTRA_AUTH_CLIENT_SECRET=CLIENT_SECRET, URL=server.token_url,
                     CID="scanner-app")
    compare("1. a client-credentials grant, fresh interpreter each time", {
        "bare httpx POST (python -c …)": ([py, "-c", BARE_GRANT], grant_env),
        "astra-auth test-token bench --json": ([*tool, "test-token", "bench", "--json"],
                                               grant_env),
    }, args.rounds, 1.5)

    import keyring

    try:
        keyring.get_password("astra-auth", "probe")
        usable = type(keyring.get_keyring()).__module__.startswith("keyring.backends.Secret")
    except Exception:  # noqa: BLE001
        usable = False
    if not usable:
        print("\n2. skipped: no usable Secret Service here (run under tests/with-keyring.sh)")
        return
    subprocess.run([*tool, "configure", "cached", "--grant-type", "client_credentials",
                    "--token-url", server.token_url, "--client-id", "scanner-app",
                    "--no-input"], env=dict(env, ASTRA_AUTH_CLIENT_SECRET=CLIENT_SECRET),
                   check=True, capture_output=True)
    subprocess.run([*tool, "token", "cached"], env=env, check=True, capture_output=True)
    before = server.token_requests()
    compare("2. a valid cached token, fresh interpreter each time", {
        "bare keyring.get_password (python -c …)": ([py, "-c", BARE_KEYRING],
                                                    dict(env, ENTRY="cached:token")),
        "astra-auth token cached": ([*tool, "token", "cached"], env),
    }, args.rounds, 1.5)
    assert server.token_requests() == before, "the cached runs made token requests"
    subprocess.run([*tool, "targets", "remove", "cached", "--yes"], env=env, check=True,
                   capture_output=True)


if __name__ == "__main__":
    main()
