"""Real scanners against a real protected API whose tokens live 3 seconds.

Schemathesis (PyPI) and Newman (npm, installed by tests/run.sh in tests/newman)
run for long enough that tokens expire at least five times; the API's own log
must show that every request carried a valid token.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI, add_scan_target, strip_ansi
from tests.fakes import CLIENT_SECRET
from tests.servers.scanapi import SHORT_LIFETIME

# Real scans, each longer than several tokens live.
pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
NEWMAN_DIR = HERE / "newman"
COLLECTION = NEWMAN_DIR / "collection.json"
# A scan must outlast five tokens; the API's log shows it did.
SCAN_SECONDS = 5 * SHORT_LIFETIME + 2
HOOKS = {"SCHEMATHESIS_HOOKS": "astra_auth.schemathesis"}


def _tool(path: Path | None, what: str) -> str:
    if path is None or not path.exists():
        if IN_CI:
            pytest.fail(f"CI must run the scanner tests, but {what} is not installed")
        pytest.skip(f"{what} is not installed (tests/run.sh installs it)")
    return str(path)


def schemathesis_cli() -> str:
    found = shutil.which("st", path=str(Path(sys.executable).parent))
    return _tool(Path(found) if found else None, "Schemathesis")


def newman_cli() -> str:
    if shutil.which("node") is None:
        return _tool(None, "Node.js")
    return _tool(NEWMAN_DIR / "node_modules" / ".bin" / "newman", "Newman")


def run(leaks, cmd: list[str], env: dict[str, str], cwd: Path,
        timeout: float = 180) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    leaks.record(f"stdout of {cmd[:2]}", done.stdout)
    leaks.record(f"stderr of {cmd[:2]}", done.stderr)
    return done


def st_run(proc, leaks, tmp_path: Path, url: str, *args: str,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A positive-data fuzzing scan that checks only what the auth decides.

    `ignored_auth` and negative data would send requests without the
    credential on purpose; this scan is about every request carrying one.
    """
    # One worker thread: with two, Hypothesis describes its lambdas (ast.parse)
    # in both at once, and CPython 3.11's AST constructor then now and then
    # raises "SystemError: AST constructor recursion depth mismatch"
    # (python/cpython#106905), which ends the scan with a Runtime Error.
    cmd = [schemathesis_cli(), "run", url, "--phases", "fuzzing", "--mode", "positive",
           "--checks", "not_a_server_error", "--workers", "1", "--seed", "1", *args]
    return run(leaks, cmd, dict(proc.env, **(env or {})), tmp_path)


def assert_every_request_authenticated_across_renewals(api, minimum: int) -> None:
    log = api.log()
    assert len(log) >= minimum, f"only {len(log)} requests reached the API"
    refused = [(r.method, r.path, round(r.at - log[0].at, 2)) for r in log if not r.valid]
    assert refused == [], f"{len(refused)} of {len(log)} requests had no valid token"
    # Five tokens expired during the scan, so it used at least six (counted by
    # the API, not timed: a loaded machine starts the scanner late).
    assert len({r.token for r in log}) >= 6


# ---------------------------------------------------------------------------
# Schemathesis with the auth provider (no proxy)


def test_schemathesis_scan_through_the_auth_provider_renews_with_no_401(
        proc, short_target, tmp_path, leaks):
    api = short_target.api
    # No --rate-limit: Schemathesis waits for it after the auth is in the
    # request, which can outlast a 3-second token's last 20 % (a real scan's
    # tokens renew a minute or more ahead).
    done = st_run(proc, leaks, tmp_path, f"{api.base}/openapi.json",
                  "--max-time", str(SCAN_SECONDS),
                  env={**HOOKS, "ASTRA_AUTH_TARGET": "short"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert_every_request_authenticated_across_renewals(api, minimum=150)


def test_schemathesis_renews_once_when_the_api_refuses_a_token(
        proc, steady_target, tmp_path, leaks):
    api = steady_target.api
    api.state.refuse_first = 1  # as if the first token were revoked
    done = st_run(proc, leaks, tmp_path, f"{api.base}/openapi.json", "--max-examples", "10",
                  env={**HOOKS, "ASTRA_AUTH_TARGET": "steady"})
    assert done.returncode == 0, done.stdout + done.stderr
    log = api.log()
    first, second = api.issued()  # exactly two grants: the refused token and its successor
    assert {r.token for r in log if not r.valid} == {first}
    assert {r.token for r in log if r.valid} == {second}
    last_refused = max(i for i, r in enumerate(log) if not r.valid)
    assert all(r.valid for r in log[last_refused + 1:]) and len(log) > last_refused + 10


def test_schemathesis_never_sends_the_credential_to_another_origin(
        proc, scan_api, tmp_path, leaks, closed_port):
    proc.env["ASTRA_AUTH_CLIENT_SECRET"] = CLIENT_SECRET
    elsewhere = f"http://127.0.0.1:{closed_port}"
    proc("configure", "other", "--grant-type", "client_credentials", "--token-url",
         scan_api.token_url, "--client-id", "scan-steady", "--secrets", "env",
         "--url", elsewhere, "--no-input")
    done = st_run(proc, leaks, tmp_path, f"{scan_api.base}/openapi.json", "--max-examples", "2",
                  env={**HOOKS, "ASTRA_AUTH_TARGET": "other"})
    assert done.returncode != 0
    output = " ".join((done.stdout + done.stderr).split())
    assert ("astra-auth: the scan's API is at " + scan_api.base + ", but target 'other' is "
            + elsewhere + "; astra-auth sends a target's credential only to the target's own "
            "origin") in output
    assert all(r.token is None for r in scan_api.log())


# ---------------------------------------------------------------------------
# Schemathesis when no credential can be had


def _before_the_scan(cli, proc, api, case: str, port: int  # type: ignore[no-untyped-def]
                     ) -> tuple[dict[str, str], int, list[str]]:
    """The environment of a scan that cannot start, its exit code, and its message: how
    the first line starts, and some of the hints."""
    if case == "no ASTRA_AUTH_TARGET":
        return HOOKS, 3, [
            "astra-auth: ASTRA_AUTH_TARGET is not set, so astra_auth.schemathesis does not "
            "know which target's credential to use",
            "  → Name the target: ASTRA_AUTH_TARGET=payments-api "
            "SCHEMATHESIS_HOOKS=astra_auth.schemathesis st run URL"]
    if case == "unknown target":
        add_scan_target(cli, proc, api, "steady", "scan-steady")
        return {**HOOKS, "ASTRA_AUTH_TARGET": "nosuch"}, 3, [
            f"astra-auth: no target named 'nosuch' in {proc.config_path}",
            "  → See them all with: astra-auth targets list",
            "  → Create it with: astra-auth configure nosuch"]
    if case == "wrong secret":
        add_scan_target(cli, proc, api, "steady", "scan-steady")
        return {**HOOKS, "ASTRA_AUTH_TARGET": "steady",
                "ASTRA_AUTH_CLIENT_SECRET": "not-the-secret"}, 4, [
            "astra-auth: invalid_client: The provider rejected the request",
            # The secret came from a variable: the hint names it rather than the keyring.
            "  → The client secret came from ASTRA_AUTH_CLIENT_SECRET: check its value "
            "where astra-auth runs."]
    assert case == "unreachable provider"
    proc.env["ASTRA_AUTH_CLIENT_SECRET"] = CLIENT_SECRET
    proc("configure", "gone", "--grant-type", "client_credentials", "--token-url",
         f"http://127.0.0.1:{port}/oauth/token", "--client-id", "scan-steady", "--secrets", "env",
         "--url", api.base, "--no-input")
    return {**HOOKS, "ASTRA_AUTH_TARGET": "gone"}, 5, [
        f"astra-auth: connection_refused: Nothing accepts connections at 127.0.0.1:{port} "
        "(connection refused)."]


@pytest.mark.parametrize("case", ["no ASTRA_AUTH_TARGET", "unknown target", "wrong secret",
                                  "unreachable provider"])
def test_schemathesis_failure_before_the_scan_is_one_message_with_its_hints(
        case, cli, proc, scan_api, tmp_path, leaks, closed_port):
    env, code, lines = _before_the_scan(cli, proc, scan_api, case, closed_port)
    done = st_run(proc, leaks, tmp_path, f"{scan_api.base}/openapi.json", "--max-examples", "1",
                  env=env)
    # astra-auth's message and exit code, nothing of Schemathesis's ("Unable to
    # load Schemathesis extension hooks", a traceback).
    assert (done.returncode, done.stdout) == (code, ""), done.stdout + done.stderr
    first, *hints = done.stderr.splitlines()
    assert first.startswith(lines[0]), done.stderr
    assert hints and all(hint.startswith("  → ") for hint in hints), done.stderr
    assert set(lines[1:]) <= set(hints), done.stderr
    assert done.stderr.count("astra-auth: ") == 1
    assert "Traceback" not in done.stderr
    assert scan_api.log() == []


# Where the provider goes down in each phase: after the API has seen this many
# requests, a few into the phase (tests/servers/scanapi.py holds that request
# until every token has expired).  The document for the examples phase has
# examples; coverage runs both modes, for more requests.
PHASES = {
    "examples": ("openapi-examples.json", 4, ["--mode", "positive"]),
    "coverage": ("openapi.json", 10, []),
    "fuzzing": ("openapi.json", 10, ["--mode", "positive", "--max-examples", "20"]),
    "stateful": ("openapi.json", 30, ["--mode", "positive", "--max-examples", "20"]),
}
OUTAGE = ("astra-auth: server_error: The provider answered 503 SERVICE UNAVAILABLE: an error "
          "on its side, not in this request.\n"
          "  → The provider failed on its side: try again later, and check its status page or "
          "logs.")


@pytest.mark.parametrize("phase", list(PHASES))
def test_schemathesis_fails_in_every_phase_when_the_provider_goes_down(
        phase, proc, short_target, tmp_path, leaks):
    api = short_target.api
    document, after, options = PHASES[phase]
    api.state.outage_after = after
    done = run(leaks, [schemathesis_cli(), "run", f"{api.base}/{document}", "--phases", phase,
                       *options, "--checks", "not_a_server_error", "--seed", "1"],
               dict(proc.env, **HOOKS, ASTRA_AUTH_TARGET="short"), tmp_path)
    output = strip_ansi(done.stdout + done.stderr)
    assert done.returncode == 1, output
    # Reported as an error of the scan, in astra-auth's words (on stdout, in
    # Schemathesis's ERRORS), not in Schemathesis's own ("Token fetch failed").
    assert "Authentication Error\n\n" + OUTAGE in strip_ansi(done.stdout), output
    assert "Token fetch failed" not in output and "Traceback" not in output
    # Mid-phase: the phase's first requests were authenticated.
    assert any(r.valid for r in api.log()[:after])


def test_schemathesis_fails_when_the_api_refuses_the_token_and_no_other_can_be_had(
        proc, steady_target, tmp_path, leaks):
    api = steady_target.api
    api.state.outage_after, api.state.outage_revokes = 30, True
    done = run(leaks, [schemathesis_cli(), "run", f"{api.base}/openapi.json", "--phases",
                       "stateful", *PHASES["stateful"][2], "--checks", "not_a_server_error",
                       "--seed", "1"],
               dict(proc.env, **HOOKS, ASTRA_AUTH_TARGET="steady"), tmp_path)
    output = strip_ansi(done.stdout + done.stderr)
    assert done.returncode == 1, output
    # Every request still carried the one token (Schemathesis only saw 401s),
    # so astra-auth reports it, with how often it happened.
    assert re.search(re.escape("Authentication Error\n\n" + OUTAGE) + r".*\n"
                     r"No credential could be had (once|\d+ times) during this scan, so the "
                     r"scan fails\.\n", strip_ansi(done.stdout), re.DOTALL), output
    assert len(api.issued()) == 1
    assert all(r.token == api.issued()[0] for r in api.log())


# ---------------------------------------------------------------------------
# Newman, its token from exec (one short run: Newman cannot renew by itself)


def test_newman_collection_with_the_header_value_from_exec(proc, steady_target, tmp_path, leaks):
    newman = newman_cli()
    api = steady_target.api
    done = run(leaks, [
        sys.executable, "-m", "astra_auth", "exec", "steady", "--", "sh", "-c",
        'exec "$NEWMAN" run "$COLLECTION" --env-var "baseUrl=$API" '
        '--env-var "authorization=$ASTRA_AUTH_HEADER_VALUE" --reporters cli --color off',
    ], dict(proc.env, NEWMAN=newman, COLLECTION=str(COLLECTION), API=api.base), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"assertions\s*│\s*3\s*│\s*0\s*│", strip_ansi(done.stdout))
    assert [(r.method, r.path, r.valid) for r in api.log()] == [
        ("GET", "/things", True), ("POST", "/things", True), ("GET", "/things/3", True)]


# ---------------------------------------------------------------------------
# Through `astra-auth proxy`: the scanner knows nothing of tokens


@pytest.fixture
def astra_proxy(proxies):  # type: ignore[no-untyped-def]
    """Starts `astra-auth proxy TARGET=0` as a user would; returns the base URL it prints."""

    def start(target: str) -> str:
        return proxies.start(f"{target}=0").addresses[target]

    return start


def test_schemathesis_scan_through_the_proxy_renews_with_no_401(
        proc, short_target, astra_proxy, tmp_path, leaks):
    proxy = astra_proxy("short")
    done = st_run(proc, leaks, tmp_path, f"{proxy}/openapi.json",
                  "--max-time", str(SCAN_SECONDS), "--rate-limit", "30/s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert_every_request_authenticated_across_renewals(short_target.api, minimum=150)


def test_newman_collection_through_the_proxy_renews_with_no_401(
        proc, short_target, astra_proxy, tmp_path, leaks):
    newman = newman_cli()
    proxy = astra_proxy("short")
    # 27 rounds of 3 requests, 200 ms apart: longer than five tokens live.
    done = run(leaks, [newman, "run", str(COLLECTION), "--env-var", f"baseUrl={proxy}",
                       "-n", "27", "--delay-request", "200", "--reporters", "cli",
                       "--color", "off"], dict(proc.env), tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"assertions\s*│\s*81\s*│\s*0\s*│", strip_ansi(done.stdout))
    assert_every_request_authenticated_across_renewals(short_target.api, minimum=81)


# ---------------------------------------------------------------------------
# Signed on every request: AWS SigV4 (botocore verifies) and DPoP (oidc-provider
# binds, Authlib verifies), through the proxy and through the provider

AWS_KEY_ID = "ASIAASTRAEXAMPLE02"
AWS_SECRET = "sEcr3t/aws+Key=wJalrXUtnFEMIK7MDENG"
AWS_SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQ=="


@pytest.fixture
def sigv4_api(proc, leaks):  # type: ignore[no-untyped-def]
    """An API that signs every request again with botocore, and target `aws` for it."""
    from tests.servers.signed_api import AwsUser, Registry, SignedApi

    leaks.watch(AWS_SECRET, AWS_SESSION_TOKEN)
    api = SignedApi(Registry(aws={AWS_KEY_ID: AwsUser(AWS_SECRET, AWS_SESSION_TOKEN)},
                             region="eu-west-1", service="execute-api"))
    proc("configure", "aws", "--auth-type", "aws_sigv4", "--url", api.base,
         "--access-key-id", AWS_KEY_ID, "--region", "eu-west-1", "--service", "execute-api",
         "--secrets", "env", "--no-input")
    proc.env.update(ASTRA_AUTH_AWS_SECRET_ACCESS_KEY=AWS_SECRET,
                    ASTRA_AUTH_AWS_SESSION_TOKEN=AWS_SESSION_TOKEN)
    yield api
    api.stop()


@pytest.fixture
def dpop_api(proc, dpop_provider, leaks):  # type: ignore[no-untyped-def]
    """An API that takes only DPoP-bound tokens with valid proofs, and target `dp` for it."""
    import httpx

    from astra_auth.signing.dpop import generate_key
    from tests.conftest import DPOP_RESOURCE, DPOP_SECRET
    from tests.servers.dpop_api import DpopApi

    api = DpopApi(httpx.get(f"{dpop_provider.issuer}/jwks").json(), DPOP_RESOURCE)
    proc("configure", "dp", "--grant-type", "client_credentials", "--token-url",
         dpop_provider.token_url, "--client-id", "dpop-scanner", "--client-auth", "post",
         "--scope", "read:things", "--url", api.base, "--dpop", "--secrets", "env",
         "--no-input")
    proc.env.update(ASTRA_AUTH_DP_CLIENT_SECRET=DPOP_SECRET,
                    ASTRA_AUTH_DP_DPOP_KEY=generate_key("ES256"))
    yield api
    api.stop()


def test_schemathesis_scan_through_the_proxy_against_a_sigv4_api_with_no_401(
        proc, sigv4_api, astra_proxy, tmp_path, leaks):
    proxy = astra_proxy("aws")
    done = st_run(proc, leaks, tmp_path, f"{proxy}/openapi.json", "--max-examples", "40")
    assert done.returncode == 0, done.stdout + done.stderr
    checked = sigv4_api.checked()
    assert len(checked) >= 60, len(checked)
    assert [(c.method, c.target, c.reason) for c in checked if not c.ok] == []
    assert {c.method for c in checked} == {"GET", "POST"}
    # Generated queries and path segments, percent-encoded as Schemathesis sends them.
    assert any("?" in c.target and "%" in c.target for c in checked)


def test_schemathesis_scan_through_the_proxy_against_a_dpop_api_with_no_401(
        proc, dpop_api, astra_proxy, tmp_path, leaks):
    proxy = astra_proxy("dp")
    done = st_run(proc, leaks, tmp_path, f"{proxy}/openapi.json", "--max-examples", "40")
    assert done.returncode == 0, done.stdout + done.stderr
    checked = dpop_api.checked()
    assert len(checked) >= 60, len(checked)
    # The description's answer gave the API's nonce: not one request was refused.
    assert [(c.method, c.target, c.reason) for c in checked if not c.ok] == []
    assert len({c.claims["jti"] for c in checked}) == len(checked)


def cases(checked: list) -> list:  # type: ignore[type-arg]
    """The requests of test cases, for the document's operations (/things…):
    Schemathesis also probes the server itself before the scan (GET / and
    /schemathesis-probe… with unusual headers), which no auth provider sees."""
    return [c for c in checked if c.target.startswith("/things")]


def test_schemathesis_provider_signs_each_request_for_a_sigv4_api(
        proc, sigv4_api, tmp_path, leaks):
    done = st_run(proc, leaks, tmp_path, f"{sigv4_api.base}/openapi.json",
                  "--max-examples", "15", env={**HOOKS, "ASTRA_AUTH_TARGET": "aws"})
    assert done.returncode == 0, done.stdout + done.stderr
    checked = cases(sigv4_api.checked())
    assert len(checked) >= 20, len(checked)
    assert [(c.method, c.target, c.reason) for c in checked if not c.ok] == []


def test_schemathesis_provider_proves_each_request_for_a_dpop_api(
        proc, dpop_api, tmp_path, leaks):
    done = st_run(proc, leaks, tmp_path, f"{dpop_api.base}/openapi.json",
                  "--max-examples", "15", env={**HOOKS, "ASTRA_AUTH_TARGET": "dp"})
    assert done.returncode == 0, done.stdout + done.stderr
    checked = cases(dpop_api.checked())
    assert len(checked) >= 20, len(checked)
    # The API's first answers ask for its nonce (one per worker at most), answered at once.
    refused = [c.reason for c in checked if not c.ok]
    assert set(refused) <= {"nonce"} and len(refused) <= 2, refused
