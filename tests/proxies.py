"""`astra-auth proxy` run as a user would: a process whose address lines and
output are collected as they come, for the tests of the proxy and of the
scanners behind it."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field

import httpx

from tests.fakes import CLIENT_SECRET

ADDRESS = re.compile(r"^(\S+): (http://\S+) \(forwards to (\S+)\)$")


def client() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=30)


@dataclass
class ProxyProcess:
    """A running `astra-auth proxy`; its output is collected as it comes."""

    child: subprocess.Popen[str]
    addresses: dict[str, str] = field(default_factory=dict)
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    _lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    code: int | None = None

    def start_readers(self) -> None:
        def pump(stream, sink, feed):  # type: ignore[no-untyped-def]
            for line in stream:
                sink.append(line)
                if feed:
                    self._lines.put(line)
            if feed:
                self._lines.put(None)

        for stream, sink, feed in ((self.child.stdout, self.out, True),
                                   (self.child.stderr, self.err, False)):
            threading.Thread(target=pump, args=(stream, sink, feed), daemon=True).start()

    def wait_addresses(self, count: int) -> None:
        while len(self.addresses) < count:
            try:
                line = self._lines.get(timeout=30)
            except queue.Empty:
                raise AssertionError(f"no address printed; stderr: {''.join(self.err)}") from None
            if line is None:
                self.child.wait(10)
                raise AssertionError(f"the proxy exited {self.child.returncode}: "
                                     f"{''.join(self.err)}")
            match = ADDRESS.match(line.strip())
            if match:
                self.addresses[match.group(1)] = match.group(2)

    def url(self, name: str, path: str = "/echo") -> str:
        return self.addresses[name] + path

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.code is None:
            self.child.send_signal(sig)
            self.code = self.child.wait(30)
        return self.code

    @property
    def stderr(self) -> str:
        return "".join(self.err)


class Proxies:
    def __init__(self, proc, leaks) -> None:  # type: ignore[no-untyped-def]
        self.proc = proc
        self.leaks = leaks
        self.running: list[ProxyProcess] = []

    def start(self, *args: str, count: int = 1, env: dict[str, str] | None = None
              ) -> ProxyProcess:
        full_env = dict(self.proc.env, ASTRA_AUTH_CLIENT_SECRET=CLIENT_SECRET)
        full_env.update(env or {})
        child = subprocess.Popen([sys.executable, "-m", "astra_auth", "proxy", *args],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=full_env, stdin=subprocess.DEVNULL)
        running = ProxyProcess(child)
        running.start_readers()
        self.running.append(running)
        running.wait_addresses(count)
        return running

    def close(self) -> None:
        for running in self.running:
            if running.code is None:
                running.stop()
            running.child.wait(10)
            out, err = "".join(running.out), "".join(running.err)
            self.leaks.record("proxy stdout", out)
            self.leaks.record("proxy stderr", err)
            assert "Traceback" not in out + err, err
