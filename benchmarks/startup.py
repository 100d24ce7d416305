"""Start-up time of astra-auth's light commands against `python -c "import typer"`.

Runs every command side by side with the floor in one run, alternating, over
several rounds, and prints each command's median as a ratio to the floor's
median.  Goals: --version, --help and completion <= 1.3; `targets list` <= 1.4
with one target and <= 2 with 1,000.

    python benchmarks/startup.py [--rounds N]

Exits 1 when a ratio is over the goal, and prints the modules that took
longest to import for it (python -X importtime), so the next step is clear.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomli_w

FLOOR = "floor: python -c 'import typer'"


def write_config(path: Path, count: int) -> None:
    targets = {
        f"target-{i:04d}": {
            "url": f"https://api{i}.example.com",
            "auth_type": "oauth2",
            "oauth2": {
                "grant_type": "client_credentials",
                "token_url": f"https://idp.example.com/t{i}/oauth/token",
                "client_id": f"client-{i}",
                "client_auth": "basic",
                "secrets": "keyring",
            },
        }
        for i in range(count)
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps({"version": 1, "targets": targets}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp())
    one, many = tmp / "one.toml", tmp / "many.toml"
    write_config(one, 1)
    write_config(many, 1000)
    env = dict(os.environ, NO_COLOR="1")
    # Measure what an installed tool does: `pip install` compiles bytecode, so
    # let this run write it too (some shells set PYTHONDONTWRITEBYTECODE).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    py = sys.executable
    tool = [py, "-m", "astra_auth"]
    commands = {
        FLOOR: [py, "-c", "import typer"],
        "--version": [*tool, "--version"],
        "--help": [*tool, "--help"],
        "targets list (1 target)": [*tool, "--config", str(one), "targets", "list"],
        "targets list (1,000 targets)": [*tool, "--config", str(many), "targets", "list"],
        "targets list --json (1,000)": [*tool, "--config", str(many), "targets", "list", "--json"],
        "completion bash (prints the script)": [*tool, "completion", "bash"],
        "completion of a target name": [*tool, "--config", str(one), "test-token", ""],
    }
    # Each command's goal, as a ratio to the floor.
    goals = {name: 2.0 if "1,000" in name else 1.4 if "(1 target)" in name else 1.3
             for name in commands}
    completion_env = dict(env, _ASTRA_AUTH_COMPLETE="complete_bash", COMP_WORDS=
                          f"astra-auth --config {one} test-token ", COMP_CWORD="4")

    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_number in range(args.rounds + 1):
        for name, argv in commands.items():  # alternating: one of each per round
            run_env = completion_env if name.startswith("completion of") else env
            if name.startswith("completion of"):
                argv = [py, "-m", "astra_auth"]
            started = time.perf_counter()
            subprocess.run(argv, env=run_env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
            if round_number:  # round 0 warms up: bytecode, the file cache
                times[name].append(time.perf_counter() - started)

    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians[FLOOR]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.system()} {platform.release()}, "
          f"load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print(f"{args.rounds} rounds, alternating; medians; floor = {floor * 1000:.1f} ms\n")
    # The fastest run of each, as a second opinion on a machine that is busy
    # with other work: noise only ever adds time.
    fastest = {name: min(values) for name, values in times.items()}
    floor_fastest = fastest[FLOOR]
    print(f"{'command':34} {'median':>9} {'ratio':>6} {'(fastest)':>10}  goal")
    over = []
    for name, median in medians.items():
        ratio = median / floor
        line = (f"{name:34} {median * 1000:7.1f}ms {ratio:6.2f} "
                f"{fastest[name] / floor_fastest:9.2f} ")
        if name != FLOOR:
            line += f"  <= {goals[name]}" + ("" if ratio <= goals[name] else "  OVER")
            if ratio > goals[name]:
                over.append(name)
        print(line)

    floor_modules = dict(import_times([py, "-c", "import typer"], env))
    for name in over:
        argv = commands[name]
        if name.startswith("completion of"):
            continue
        extra = [(t, m) for m, t in import_times(argv, env) if m not in floor_modules]
        print(f"\nwhere the time goes for {name}: {len(extra)} modules beyond the floor's, "
              f"{sum(t for t, _ in extra) / 1000:.1f} ms of imports; the slowest:")
        for micros, module in sorted(extra, reverse=True)[:8]:
            print(f"  {micros / 1000:6.1f} ms  {module}")
        print("  (the rest is typer building the command tree and running the command: "
              f"python -m cProfile -s cumtime {' '.join(argv[1:])})")
    sys.exit(1 if over else 0)


def import_times(argv: list[str], env: dict[str, str]) -> list[tuple[str, int]]:
    """(module, self time in µs) for each import a command makes."""
    result = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], env=env,
                            capture_output=True, text=True, check=False)
    rows = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            parts = line.split("|")
            try:
                rows.append((parts[2].strip(), int(parts[0].split(":")[1])))
            except ValueError:
                pass
    return rows


if __name__ == "__main__":
    main()
