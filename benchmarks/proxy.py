"""`astra-auth proxy` against the same API reached directly and through mitmproxy.

One loopback upstream (an aiohttp app answering a small JSON object), measured
three ways in one run, alternating over several rounds:

- direct: the load generator talks to the upstream;
- astra-auth: through `astra-auth proxy` (credential from a local token endpoint);
- mitmproxy: through `mitmdump --mode reverse:…` with an addon that sets the
  same Authorization header (mitmproxy comes from PyPI for the benchmark only:
  give its `mitmdump` with --mitmdump PATH, or have it on PATH).

The load generator is a separate process: 32 concurrent keep-alive
connections, a fixed number of GET requests, latency per request.  It prints
requests per second and p50/p99 latency for each, and the ratios.  Goals:
astra-auth >= 0.5x direct and >= 3x mitmproxy; p50 latency added < 2 ms.

    pip install -e '.[bench]'   # aiohttp, for the upstream API
    python benchmarks/proxy.py [--requests N] [--rounds R] [--mitmdump PATH]

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
GOAL_DIRECT = 0.5
GOAL_MITM = 3.0
GOAL_ADDED_P50_MS = 2.0

UPSTREAM = r"""
import sys
from aiohttp import web

BODY = {"id": 7, "name": "widget", "price": 12.5, "tags": ["a", "b"]}

async def item(request):
    return web.json_response(BODY)

async def token(request):
    await request.read()
    return web.json_response({"access_token": sys.argv[2], "token_type": "Bearer",
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


def start_proxy(workdir: Path, upstream_port: int) -> tuple[subprocess.Popen, int]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(workdir / "config"), HOME=str(workdir),
               ASTRA_AUTH_CLIENT_SECRET="bench-secret", PYTHONPATH=str(ROOT / "src"))
    env.pop("ASTRA_AUTH_CONFIG", None)
    base = f"http://127.0.0.1:{upstream_port}"
    subprocess.run([sys.executable, "-m", "astra_auth", "configure", "bench", "--grant-type",
                    "client_credentials", "--token-url", f"{base}/oauth/token", "--client-id",
                    "bench", "--secrets", "env", "--url", base, "--no-input"],
                   env=env, check=True, capture_output=True, timeout=60)
    port = free_port()
    child = subprocess.Popen([sys.executable, "-m", "astra_auth", "proxy", f"bench={port}",
                              "--quiet"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    wait_port(port, child, "astra-auth proxy")
    return child, port


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
    parser.add_argument("--mitmdump", default=shutil.which("mitmdump"))
    args = parser.parse_args()

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
            if args.mitmdump:
                mitm, ports["mitmproxy"] = start_mitm(args.mitmdump, workdir, upstream_port)
                pids["mitmproxy"] = mitm.pid
                children.append(mitm)
            else:
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
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()}; {CONNECTIONS} keep-alive connections, {args.requests} GETs, "
          f"medians of {args.rounds} rounds\n")
    print(f"{'':18} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'req/s vs direct':>16} "
          f"{'CPU us/req':>11}")
    for name, m in med.items():
        ratio = m["rps"] / med["direct"]["rps"]
        cpu = f"{m['cpu_us']:11.1f}" if "cpu_us" in m else f"{'-':>11}"
        print(f"{name:18} {m['rps']:9.0f} {m['p50']:8.2f} {m['p99']:8.2f} {ratio:16.2f} {cpu}")
    print("(CPU us/req: the server's own CPU time per request; for direct, the API's. Through "
          "a proxy, the API's cost comes on top.)")
    print(f"\none connection at a time ({max(args.requests // 20, 100)} GETs): p50 latency")
    for name, m in one.items():
        extra = "" if name == "direct" else f"  (+{m['p50'] - one['direct']['p50']:.2f} ms)"
        print(f"{name:18} {m['p50']:8.2f} ms{extra}")
    ours = med["astra-auth proxy"]
    added = ours["p50"] - med["direct"]["p50"]
    vs_direct = ours["rps"] / med["direct"]["rps"]
    lines = [("throughput vs direct", vs_direct, f">= {GOAL_DIRECT}", vs_direct >= GOAL_DIRECT),
             ("p50 added, 32 connections", added, f"< {GOAL_ADDED_P50_MS}",
              added < GOAL_ADDED_P50_MS)]
    if "mitmproxy" in med:
        vs_mitm = ours["rps"] / med["mitmproxy"]["rps"]
        lines.insert(1, ("throughput vs mitmproxy", vs_mitm, f">= {GOAL_MITM}",
                         vs_mitm >= GOAL_MITM))
    lines.append(("p50 added, one connection", one["astra-auth proxy"]["p50"]
                  - one["direct"]["p50"], f"< {GOAL_ADDED_P50_MS}",
                  one["astra-auth proxy"]["p50"] - one["direct"]["p50"] < GOAL_ADDED_P50_MS))
    print()
    for label, value, goal, ok in lines:
        print(f"{label:26} {value:6.2f}  goal {goal:7}  {'ok' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
