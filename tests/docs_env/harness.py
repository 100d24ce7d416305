"""Runs the documentation's examples as written, inside a private network.

Started by tests/test_docs.py as

    unshare --net --mount bash tests/docs_env/netns.sh HOSTS ADDRESS \\
        python -m tests.docs_env.harness WORKDIR ADDRESS

it serves the example hosts (site.py) on ADDRESS:443 over TLS, trusted
through a bundle that replaces the system's in this mount namespace and
through the variables that libraries with bundles of their own read
(SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, NODE_EXTRA_CA_CERTS).
Then it answers requests, one JSON object a line on stdin, each answered on
stdout on a line that starts with `@@ `:

    {"op": "page", "fresh": false}   a new working folder and home; unless
                                     fresh, target payments-api configured
    {"op": "run", "lang": "sh", "code": "...", "background": null}
    {"op": "file", "name": "x", "code": "..."}   writes a file for later blocks
    {"op": "end"}                    stops the page's background commands
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import trustme

from tests.docs_env import site
from tests.fakes import CLIENT_SECRET, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
BLOCK_TIMEOUT = 120

# What every page starts from, unless its front matter says `examples: fresh`:
# the target that the examples name, as the quick start configures it.
SETUP = """
printf '%s\\n' "$CLIENT_SECRET" | astra-auth configure payments-api \\
  --url https://api.example.com --grant-type client_credentials \\
  --token-url https://idp.example.com/oauth/token \\
  --client-id "$CLIENT_ID" --client-secret-stdin --no-input
"""


def reply(**fields: object) -> None:
    print("@@ " + json.dumps(fields), flush=True)


class Harness:
    def __init__(self, workdir: Path, address: str) -> None:
        self.workdir = workdir
        ca = trustme.CA()
        cert = ca.issue_cert(*site.HOSTS)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(ctx)
        self.ca_file = workdir / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        self.bundle = workdir / "bundle.pem"
        system = SYSTEM_BUNDLE.read_bytes() if SYSTEM_BUNDLE.exists() else b""
        self.bundle.write_bytes(system + b"\n" + self.ca_file.read_bytes())
        if SYSTEM_BUNDLE.exists():  # this mount namespace only
            subprocess.run(["mount", "--bind", str(self.bundle), str(SYSTEM_BUNDLE)],
                           check=True)
        self.signing_key = self._signing_key()
        self.site = site.Site(address, ctx)
        self.site.state.jwt_public_key = self._public_key
        from http_message_signatures import algorithms

        self.site.state.signed.http_keys[site.HTTP_KEY_ID] = (algorithms.ECDSA_P256_SHA256,
                                                              self._public_key)
        self.dpop_idp = self._start_dpop_idp()
        self.pages = 0
        self.setup_config: bytes | None = None
        self.cwd = workdir
        self.env: dict[str, str] = {}
        self.background: list[tuple[subprocess.Popen[bytes], Path, Path]] = []

    def _signing_key(self) -> bytes:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        self._public_key = key.public_key()
        return key.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def _start_dpop_idp(self) -> subprocess.Popen[str] | None:
        """oidc-provider for the DPoP example (tests/oidc/dpop.mjs, issuing as
        the example host), when tests/oidc has it installed; without it, that
        example's hosts answer 503."""
        oidc = ROOT / "tests" / "oidc"
        if shutil.which("node") is None or not (oidc / "node_modules" / "oidc-provider").is_dir():
            return None
        child = subprocess.Popen(
            ["node", str(oidc / "dpop.mjs")], cwd=oidc,
            env=dict(os.environ, DPOP_ISSUER=site.DPOP_IDP, DPOP_RESOURCE=site.DPOP_API,
                     DPOP_CLIENT_ID=site.DPOP_CLIENT_ID, DPOP_CLIENT_AUTH="client_secret_basic",
                     OIDC_CLIENT_SECRET=site.DPOP_CLIENT_SECRET),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert child.stdout is not None
        base = child.stdout.readline().strip()
        if not base.startswith("http://127.0.0.1:"):
            child.kill()
            return None
        import httpx

        jwks = httpx.get(f"{base}/jwks", trust_env=False).json()
        self.site.state.dpop_idp = base
        self.site.state.dpop = site.dpop_api.DpopState(jwks, site.DPOP_API)
        return child

    def page(self, fresh: bool) -> dict[str, object]:
        self.end()
        self.pages += 1
        page = self.workdir / f"page-{self.pages}"
        home = page / "home"
        self.cwd = page / "work"
        home.mkdir(parents=True)
        self.cwd.mkdir()
        shutil.copy(ROOT / "tests" / "newman" / "collection.json", self.cwd / "collection.json")
        # The CA behind the example hosts' certificates, as a corporate CA would be.
        shutil.copy(self.ca_file, self.cwd / "corp-ca.pem")
        (self.cwd / "signing-key.pem").write_bytes(self.signing_key)
        venv_bin = str(Path(sys.executable).parent)
        newman_bin = str(ROOT / "tests" / "newman" / "node_modules" / ".bin")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ASTRA_AUTH_", "XDG_CONFIG_HOME", "SCHEMATHESIS_"))
               and k not in ("CI", "COLUMNS", "LINES", "PYTHONPATH")}
        env.update(
            HOME=str(home), PATH=os.pathsep.join([venv_bin, newman_bin, env.get("PATH", "")]),
            CLIENT_ID=site.CLIENT_ID, CLIENT_SECRET=CLIENT_SECRET, PASSWORD=PASSWORD,
            TOKEN=site.BEARER_TOKEN, KEY=site.API_KEY,
            AWS_ACCESS_KEY_ID=site.AWS_ROLE_KEY_ID,
            AWS_SECRET_ACCESS_KEY=site.AWS_SECRET_ACCESS_KEY,
            AWS_SESSION_TOKEN=site.AWS_SESSION_TOKEN,
            DPOP_CLIENT_SECRET=site.DPOP_CLIENT_SECRET,
            SSL_CERT_FILE=str(self.bundle), REQUESTS_CA_BUNDLE=str(self.bundle),
            CURL_CA_BUNDLE=str(self.bundle), NODE_EXTRA_CA_CERTS=str(self.ca_file),
            NO_COLOR="1", TERM="dumb", COLUMNS="100",
        )
        self.env = env
        if fresh:
            return {"rc": 0, "out": "", "err": ""}
        config = home / ".config" / "astra-auth" / "config.toml"
        if self.setup_config is not None:
            # The setup's result, as the first page's setup wrote it: the
            # client secret is still in this session's keyring.
            config.parent.mkdir(mode=0o700, parents=True)
            config.write_bytes(self.setup_config)
            config.chmod(0o600)
            return {"rc": 0, "out": "", "err": ""}
        result = self.run("sh", SETUP, None)
        if result["rc"] == 0:
            self.setup_config = config.read_bytes()
        return result

    def run(self, lang: str, code: str, background: str | None) -> dict[str, object]:
        if lang == "python":
            script = self.cwd / "example.py"
            script.write_text(code)
            argv = ["python3", str(script)]
        else:
            argv = ["bash", "-e", "-o", "pipefail", "-c", code]
        if background:
            return self._start(argv, background)
        try:
            done = subprocess.run(argv, cwd=self.cwd, env=self.env, capture_output=True,
                                  timeout=BLOCK_TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            return {"rc": None, "out": _text(exc.stdout), "err": _text(exc.stderr)
                    + f"\n(timed out after {BLOCK_TIMEOUT} s)"}
        return {"rc": done.returncode, "out": _text(done.stdout), "err": _text(done.stderr)}

    def console(self, command: str) -> dict[str, object]:
        """One `$ ` command of a console block: stdout and stderr as one stream."""
        done = subprocess.run(["bash", "-c", command], cwd=self.cwd, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=BLOCK_TIMEOUT, stdin=subprocess.DEVNULL)
        return {"rc": done.returncode, "out": _text(done.stdout), "err": ""}

    def _start(self, argv: list[str], address: str) -> dict[str, object]:
        n = len(self.background)
        out, err = self.cwd / f".bg{n}.out", self.cwd / f".bg{n}.err"
        child = subprocess.Popen(argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                 stdout=out.open("wb"), stderr=err.open("wb"),
                                 start_new_session=True)
        self.background.append((child, out, err))
        host, _, port = address.rpartition(":")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and child.poll() is None:
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                return {"rc": 0, "out": out.read_text(), "err": err.read_text()}
            except OSError:
                time.sleep(0.05)
        rc = child.poll()
        return {"rc": rc if rc else -1, "out": out.read_text(),
                "err": err.read_text() + f"\n(never listened on {address})"}

    def end(self) -> dict[str, object]:
        """Stops the background commands (SIGTERM, as Ctrl-C would); each must exit 0."""
        results = []
        for child, out, err in self.background:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
            try:
                rc = child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                rc = child.wait()
            results.append({"rc": rc, "out": out.read_text(), "err": err.read_text()})
        self.background = []
        return {"background": results}


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log
    workdir, address = Path(sys.argv[1]), sys.argv[2]
    harness = Harness(workdir, address)
    reply(ready=True)
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        try:
            if op == "page":
                reply(**harness.page(request.get("fresh", False)))
            elif op == "run":
                reply(**harness.run(request["lang"], request["code"], request.get("background")))
            elif op == "file":
                (harness.cwd / request["name"]).write_text(request["code"])
                reply(rc=0, out="", err="")
            elif op == "console":
                reply(**harness.console(request["command"]))
            elif op == "end":
                reply(**harness.end())
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails
            reply(rc=None, out="", err=f"harness: {type(exc).__name__}: {exc}")
    harness.end()
    harness.site.stop()
    if harness.dpop_idp is not None:
        harness.dpop_idp.terminate()
        harness.dpop_idp.wait(timeout=10)


if __name__ == "__main__":
    main()
