"""`astra-auth proxy` against the same API reached directly and through mitmproxy.

One loopback upstream (an aiohttp app answering a small JSON object), measured
three ways in one run, alternating over several rounds:

- direct: the load generator talks to the upstream;
- astra-auth: through `astra-auth proxy` (credential from a local token endpoint);
- mitmproxy: through `mitmdump --mode reverse:…` with an addon that sets the
  same Authorization header.  mitmproxy's pins clash with this project's: it
  is installed from PyPI into a virtualenv of its own the first time
  (~/.cache/astra-auth-bench/mitmproxy), or give its `mitmdump` with
  --mitmdump PATH.
- astra-auth on asyncio's own loop, to keep the measurement that decides
  whether uvloop stays;
- astra-auth signing every request: an aws_sigv4 target (botocore's
  canonical request and HMAC chain per request) and an oauth2 target with
  DPoP (a fresh ES256 proof per request, `ath` included); the upstream checks
  neither, so the difference to the unsigned proxy is what signing costs.

The load generator is a separate process: 32 concurrent keep-alive
connections, a fixed number of GET requests, latency per request; then one
connection at a time.  It prints requests per second, p50/p99 latency, the
ratio to direct and to mitmproxy, the p50 latency each proxy adds at 1 and at
32 connections, and each server's CPU time per request.  Floors: astra-auth
>= 10x mitmproxy's requests per second at 32 connections, < 0.5 ms added to
the p50 latency at one connection, and signing (SigV4, DPoP) < 0.3 ms more
p50 at one connection than the unsigned proxy.  Not a test: run it on a quiet
machine, and report the load average with the figures (it prints it).

    python benchmarks/proxy.py [--requests N] [--rounds R] [--mitmdump PATH]
                               [--no-mitmproxy] [--no-signed]
    python benchmarks/proxy.py --profile [--requests N]

Everything listens on 127.0.0.1 only, and every loop is bounded by the request
count.  Each server is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 32
TOKEN = "bench-token-not-a-secret"
GOAL_MITM = 10.0
GOAL_ADDED_P50_MS_ONE = 0.5
GOAL_SIGNING_P50_MS_ONE = 0.3
AWS_SECRET = "bench/aws+secret+not-a-secret0000000000"
MITM_VENV = Path.home() / ".cache" / "astra-auth-bench" / "mitmproxy"
# The proxy as `python -m astra_auth`, optionally with uvloop hidden (its
# import then fails, and the proxy runs on asyncio's own loop).  With
# BENCH_PROFILE naming a file, SIGUSR1 starts cProfile (after start-up and a
# warm-up), and its figures go to that file when the proxy exits.
PROXY_MAIN = (
    "import os, sys\n"
    "if sys.argv.pop(1) == 'asyncio':\n"
    "    sys.modules['uvloop'] = None\n"
    "if os.environ.get('BENCH_PROFILE'):\n"
    "    import atexit, cProfile, signal\n"
    "    profiler = cProfile.Profile()\n"
    "    signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())\n"
    "    atexit.register(lambda: profiler.dump_stats(os.environ['BENCH_PROFILE']))\n"
    "from astra_auth.cli.app import main_exit\n"
    "sys.argv[0] = 'astra-auth'\n"
    "main_exit()\n"
)

UPSTREAM = r"""
import sys
from aiohttp import web

BODY = {"id": 7, "name": "widget", "price": 12.5, "tags": ["a", "b"]}

async def item(request):
    return web.json_response(BODY)

async def token(request):
    await request.read()
    # A proof on the request asks for a DPoP-bound token (RFC 9449 §5).
    kind = "DPoP" if "DPoP" in request.headers else "Bearer"
    return web.json_response({"access_token": sys.argv[2], "token_type": kind,
                              "expires_in": 3600})

app = web.Application()
app.router.add_post("/oauth/token", token)
app.router.add_route("*", "/{tail:.*}", item)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""

MITM_ADDON = """
from mitmproxy import http

def request(flow: http.HTTPFlow) -> None:
    flow.request.headers["Authorization"] = "Bearer %s"
"""

LOADGEN = r"""
import asyncio, json, sys, time

async def connection(port, request, left, latencies):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while left[0] > 0:
        left[0] -= 1
        start = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length, chunked = 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await reader.readexactly(length)
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit("unexpected answer: " + head.split(b"\r\n")[0].decode())
        latencies.append(time.perf_counter() - start)
    writer.close()

async def run(port, count, connections):
    request = (f"GET /items/7?view=full HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               "Accept: application/json\r\nUser-Agent: bench\r\n\r\n").encode()
    warm = []
    await asyncio.gather(*(connection(port, request, [20], warm) for _ in range(connections)))
    latencies, left = [], [count]
    start = time.perf_counter()
    await asyncio.gather(*(connection(port, request, left, latencies)
                           for _ in range(connections)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    print(json.dumps({"rps": len(latencies) / elapsed,
                      "p50": latencies[len(latencies) // 2] * 1000,
                      "p99": latencies[min(len(latencies) - 1,
                                           int(len(latencies) * 0.99))] * 1000}))

asyncio.run(run(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, child: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"{what} exited with {child.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not listen on port {port} within {timeout:g} s")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used (Linux /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(port: int, count: int, connections: int = CONNECTIONS,
            server: int | None = None) -> dict[str, float]:
    """req/s and latency at `port`; with `server` (a pid), also the CPU time
    that process spent per request: a figure that other load on the machine
    disturbs far less than req/s."""
    before = cpu_seconds(server) if server is not None else None
    done = subprocess.run([sys.executable, "-c", LOADGEN, str(port), str(count),
                           str(connections)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"load generator failed on port {port}: {done.stderr.strip()}")
    result: dict[str, float] = json.loads(done.stdout)
    after = cpu_seconds(server) if server is not None else None
    if before is not None and after is not None:
        # The load generator warms up with 20 requests a connection first.
        result["cpu_us"] = (after - before) * 1e6 / (count + 20 * connections)
    return result


def start_proxy(workdir: Path, upstream_port: int, loop: str = "uvloop",
                kind: str = "bearer", profile: Path | None = None
                ) -> tuple[subprocess.Popen, int]:
    """The proxy for target `kind`: "bearer" (an OAuth 2.0 token), "sigv4" or
    "dpop" (each request signed); under cProfile, written to `profile`."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(workdir / "config"), HOME=str(workdir),
               ASTRA_AUTH_CLIENT_SECRET="bench-secret", PYTHONPATH=str(ROOT / "src"),
               ASTRA_AUTH_SECRET_ACCESS_KEY=AWS_SECRET, BENCH_PROFILE=str(profile or ""))
    env.pop("ASTRA_AUTH_CONFIG", None)
    base = f"http://127.0.0.1:{upstream_port}"
    if kind == "sigv4":
        settings = ["--auth-type", "aws_sigv4", "--access-key-id", "AKIDBENCHEXAMPLE",
                    "--region", "eu-west-1", "--service", "execute-api"]
    else:
        settings = ["--grant-type", "client_credentials", "--token-url", f"{base}/oauth/token",
                    "--client-id", "bench"] + (["--dpop"] if kind == "dpop" else [])
    if kind == "dpop":
        sys.path.insert(0, str(ROOT / "src"))
        from astra_auth.signing.dpop import generate_key

        env["ASTRA_AUTH_DPOP_KEY"] = generate_key("ES256")
    subprocess.run([sys.executable, "-m", "astra_auth", "configure", kind, *settings,
                    "--secrets", "env", "--url", base, "--no-input"],
                   env=env, check=True, capture_output=True, timeout=60)
    port = free_port()
    child = subprocess.Popen([sys.executable, "-c", PROXY_MAIN, loop, "proxy",
                              f"{kind}={port}", "--quiet"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    wait_port(port, child, "astra-auth proxy")
    return child, port


def mitmdump_path(given: str | None) -> str | None:
    """`--mitmdump`, else one on PATH, else mitmproxy from PyPI in a virtualenv
    of its own (made once)."""
    if given:
        return given
    found = shutil.which("mitmdump")
    if found:
        return found
    mitmdump = MITM_VENV / "bin" / "mitmdump"
    if not mitmdump.exists():
        print(f"installing mitmproxy into {MITM_VENV} (once) ...", flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(MITM_VENV)], check=True,
                           timeout=300)
            subprocess.run([str(MITM_VENV / "bin" / "pip"), "install", "-q", "mitmproxy"],
                           check=True, timeout=900)
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"could not install mitmproxy ({exc}); measuring without it.\n")
            return None
    return str(mitmdump)


def start_mitm(mitmdump: str, workdir: Path, upstream_port: int) -> tuple[subprocess.Popen, int]:
    addon = workdir / "set_header.py"
    addon.write_text(MITM_ADDON % TOKEN)
    port = free_port()
    child = subprocess.Popen([mitmdump, "--mode", f"reverse:http://127.0.0.1:{upstream_port}",
                              "--listen-host", "127.0.0.1", "--listen-port", str(port),
                              "-s", str(addon), "-q", "--set", f"confdir={workdir / 'mitm'}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, child, "mitmdump")
    return child, port


# Where a proxied request's time goes, by the code it runs in (file paths).
PROFILE_GROUPS = (
    ("aiohttp: server (web_*.py)", ("/aiohttp/web",)),
    ("aiohttp: client (client*.py, connector.py)", ("/aiohttp/client", "/aiohttp/connector")),
    ("aiohttp: parsing, writing, streams (both sides)", ("/aiohttp/",)),
    ("multidict, yarl (headers, URLs)", ("/multidict/", "/yarl/")),
    ("system calls (socket reads and writes, epoll)", ("<method 'send", "<method 'recv",
                                                        "<method 'poll'", "<method 'select'")),
    ("asyncio (event loop, transports)", ("/asyncio/",)),
    ("astra_auth (forwarding rules, admission)", ("/astra_auth/",)),
)


def profile(workdir: Path, upstream_port: int, count: int) -> None:
    """The unsigned proxy on asyncio's own loop (uvloop's work would be hidden
    in C) under cProfile: its own time per request, by the code it ran."""
    import pstats

    out = workdir / "proxy.prof"
    child, port = start_proxy(workdir, upstream_port, "asyncio", profile=out)
    try:
        measure(port, 1000)  # warm: connections made, the token fetched
        child.send_signal(signal.SIGUSR1)
        measure(port, count)
    finally:
        stop(child)
    stats = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values())
    groups = dict.fromkeys([label for label, _ in PROFILE_GROUPS] + ["other"], 0.0)
    for (path, _line, function), row in stats.items():
        where = path if path != "~" else function
        label = next((label for label, marks in PROFILE_GROUPS
                      if any(mark in where for mark in marks)), "other")
        groups[label] += row[2]
    requests = count + 20 * CONNECTIONS
    print(f"Where the proxy's time goes (cProfile, asyncio's loop, {requests} requests; "
          f"profiling slows everything, so read the shares):\n")
    for label, seconds in groups.items():
        print(f"  {label:48} {seconds * 1e6 / requests:7.1f} us/req  {seconds / total:6.1%}")
    print(f"  {'total':48} {total * 1e6 / requests:7.1f} us/req\n")
    print("Its 20 most expensive functions (own time):")
    top = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:20]
    for (path, line, function), row in top:
        name = f"{Path(path).parent.name}/{Path(path).name}:{line}" if path != "~" else "~"
        print(f"  {row[2] * 1e6 / requests:6.1f} us/req  {function} ({name})")


def stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mitmdump", default=None)
    parser.add_argument("--no-signed", dest="signed", action="store_false",
                        help="leave out the SigV4 and DPoP proxies")
    parser.add_argument("--no-mitmproxy", dest="mitm", action="store_false",
                        help="leave out mitmproxy (and its installation)")
    parser.add_argument("--profile", action="store_true",
                        help="only profile the proxy: where its time per request goes")
    args = parser.parse_args()
    if args.profile:
        with tempfile.TemporaryDirectory() as tmp:
            upstream_port = free_port()
            upstream = subprocess.Popen([sys.executable, "-c", UPSTREAM, str(upstream_port),
                                         TOKEN])
            try:
                wait_port(upstream_port, upstream, "the upstream")
                profile(Path(tmp), upstream_port, args.requests)
            finally:
                stop(upstream)
        return 0
    args.mitmdump = mitmdump_path(args.mitmdump) if args.mitm else None
    load_before = os.getloadavg()

    children: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        try:
            upstream_port = free_port()
            upstream = subprocess.Popen([sys.executable, "-c", UPSTREAM, str(upstream_port),
                                         TOKEN])
            children.append(upstream)
            wait_port(upstream_port, upstream, "the upstream")
            ports = {"direct": upstream_port}
            pids = {"direct": upstream.pid}
            proxy, ports["astra-auth proxy"] = start_proxy(workdir, upstream_port)
            pids["astra-auth proxy"] = proxy.pid
            children.append(proxy)
            plain, ports["astra-auth, asyncio"] = start_proxy(workdir, upstream_port, "asyncio")
            pids["astra-auth, asyncio"] = plain.pid
            children.append(plain)
            if args.signed:
                for kind, label in (("sigv4", "astra-auth, SigV4"), ("dpop", "astra-auth, DPoP")):
                    signed, ports[label] = start_proxy(workdir, upstream_port, kind=kind)
                    pids[label] = signed.pid
                    children.append(signed)
            if args.mitmdump:
                mitm, ports["mitmproxy"] = start_mitm(args.mitmdump, workdir, upstream_port)
                pids["mitmproxy"] = mitm.pid
                children.append(mitm)
            elif args.mitm:
                print("mitmdump not found: give --mitmdump PATH (pip install mitmproxy in "
                      "another virtualenv); measuring without it.\n")
            results: dict[str, list[dict[str, float]]] = {name: [] for name in ports}
            single: dict[str, list[dict[str, float]]] = {name: [] for name in ports}
            for _ in range(args.rounds):
                for name, port in ports.items():
                    results[name].append(measure(port, args.requests, server=pids[name]))
                    single[name].append(measure(port, max(args.requests // 20, 100), 1))
        finally:
            for child in reversed(children):
                stop(child)

    def medians(runs: list[dict[str, float]]) -> dict[str, float]:
        keys = ("rps", "p50", "p99", "cpu_us") if "cpu_us" in runs[0] else ("rps", "p50", "p99")
        return {k: statistics.median(r[k] for r in runs) for k in keys}

    med = {name: medians(runs) for name, runs in results.items()}
    one = {name: medians(runs) for name, runs in single.items()}
    load_after = os.getloadavg()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()}; {CONNECTIONS} keep-alive connections, {args.requests} GETs, "
          f"medians of {args.rounds} rounds; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after (1 min)\n")
    direct, mitm = med["direct"], med.get("mitmproxy")
    print(f"{'':20} {'req/s':>8} {'x direct':>9} {'x mitm':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'+p50@32':>8} {'+p50@1':>7} {'CPU us/req':>11}")
    for name, m in med.items():
        vs_mitm = f"{m['rps'] / mitm['rps']:7.1f}" if mitm else f"{'-':>7}"
        cpu = f"{m['cpu_us']:11.1f}" if "cpu_us" in m else f"{'-':>11}"
        added32 = m["p50"] - direct["p50"]
        added1 = one[name]["p50"] - one["direct"]["p50"]
        print(f"{name:20} {m['rps']:8.0f} {m['rps'] / direct['rps']:9.2f} {vs_mitm} "
              f"{m['p50']:7.2f} {m['p99']:7.2f} {added32:+8.2f} {added1:+7.2f} {cpu}")
    print("(+p50: latency added to direct's p50, at 32 connections and at one; CPU us/req: "
          "the server's own CPU time per request, for direct the API's: through a proxy, "
          "the API's comes on top.)")
    ours = med["astra-auth proxy"]
    added_one = one["astra-auth proxy"]["p50"] - one["direct"]["p50"]
    lines = [("p50 added, one connection", added_one, f"< {GOAL_ADDED_P50_MS_ONE} ms",
              added_one < GOAL_ADDED_P50_MS_ONE)]
    for label in ("astra-auth, SigV4", "astra-auth, DPoP"):
        if label in one:
            # What signing adds to the unsigned proxy's p50, one request at a time.
            cost = one[label]["p50"] - one["astra-auth proxy"]["p50"]
            lines.append((f"signing ({label.split(', ')[1]}), p50 one conn.", cost,
                          f"< {GOAL_SIGNING_P50_MS_ONE} ms", cost < GOAL_SIGNING_P50_MS_ONE))
    if mitm:
        vs_mitm_ours = ours["rps"] / mitm["rps"]
        lines.insert(0, ("req/s vs mitmproxy, 32 conn.", vs_mitm_ours, f">= {GOAL_MITM:g}x",
                         vs_mitm_ours >= GOAL_MITM))
    print()
    for label, value, goal, ok in lines:
        print(f"{label:30} {value:7.2f}  floor {goal:9}  {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
