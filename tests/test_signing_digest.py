"""HTTP Digest (astra_auth.signing.digest) against Flask-HTTPAuth's HTTPDigestAuth
(MD5, MD5-sess) and lighttpd's mod_auth (SHA-256), both with qop=auth
(tests/servers/digest_api.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest
from werkzeug.datastructures import Authorization

from astra_auth.signing.digest import DigestSigner
from astra_auth.signing.message import Request, Response, SigningError
from tests.servers.digest_api import DigestApi, Lighttpd
from tests.servers.signing_client import send

USER = "scanner"
PASSWORD = "Digest-pa55:wörd"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def fields(header: str | None) -> dict[str, str | None]:
    """An Authorization: Digest header's fields, parsed by werkzeug."""
    parsed = Authorization.from_header(header)
    assert parsed is not None and parsed.type == "digest", header
    return dict(parsed.parameters)


@pytest.fixture(params=["MD5", "MD5-Sess"])
def flask_api(request, leaks):  # type: ignore[no-untyped-def]
    leaks.watch(PASSWORD)
    api = DigestApi({USER: PASSWORD}, algorithm=request.param)
    yield api
    api.stop()


def test_digest_first_request_answers_the_challenge(flask_api: DigestApi) -> None:
    with httpx.Client() as client:
        exchange = send(client, DigestSigner(USER, PASSWORD), "GET", f"{flask_api.base}/things")

    assert [r.status_code for r in exchange.responses] == [401, 200]
    assert exchange.final.json() == {"user": USER, "path": "/things"}
    assert flask_api.state.authorizations[0] is None
    sent = fields(flask_api.state.authorizations[1])
    assert (sent["qop"], sent["nc"], sent["uri"], sent["username"]) == (
        "auth", "00000001", "/things", USER)


def test_digest_later_requests_reuse_the_nonce_counting_nc(flask_api: DigestApi) -> None:
    signer = DigestSigner(USER, PASSWORD)
    with httpx.Client() as client:
        send(client, signer, "GET", f"{flask_api.base}/things")
        second = send(client, signer, "POST", f"{flask_api.base}/things/2?x=1", content=b"{}")
        third = send(client, signer, "GET", f"{flask_api.base}/things/3")

    # Answered at once: no 401 after the first challenge.
    assert [r.status_code for r in second.responses + third.responses] == [200, 200]
    answers = [fields(h) for h in flask_api.state.authorizations[1:]]
    assert [a["nc"] for a in answers] == ["00000001", "00000002", "00000003"]
    assert len({a["nonce"] for a in answers}) == 1
    assert answers[1]["uri"] == "/things/2?x=1"
    assert len({a["cnonce"] for a in answers}) == 3


def test_digest_stale_nonce_is_answered_again_without_a_loop(flask_api: DigestApi) -> None:
    signer = DigestSigner(USER, PASSWORD)
    with httpx.Client() as client:
        send(client, signer, "GET", f"{flask_api.base}/things")
        send(client, signer, "GET", f"{flask_api.base}/things")
        flask_api.state.make_stale()
        exchange = send(client, signer, "GET", f"{flask_api.base}/things")
        after = send(client, signer, "GET", f"{flask_api.base}/things")

    assert [r.status_code for r in exchange.responses] == [401, 200]
    assert "stale=TRUE" in exchange.responses[0].headers["WWW-Authenticate"]
    old, new, later = (fields(h) for h in flask_api.state.authorizations[-3:])
    assert old["nc"] == "00000003"
    assert new["nonce"] != old["nonce"]
    # nc starts again at 1 for the new nonce, and counts on.
    assert (new["nc"], later["nc"], later["nonce"]) == ("00000001", "00000002", new["nonce"])
    assert after.final.status_code == 200


def test_digest_wrong_password_costs_one_retry_not_a_loop(flask_api: DigestApi) -> None:
    with httpx.Client() as client:
        exchange = send(client, DigestSigner(USER, "not-the-password"), "GET",
                        f"{flask_api.base}/things")

    assert [r.status_code for r in exchange.responses] == [401, 401]
    assert flask_api.state.statuses == [401, 401]


def test_digest_replaces_the_clients_own_authorization(flask_api: DigestApi) -> None:
    with httpx.Client() as client:
        exchange = send(client, DigestSigner(USER, PASSWORD), "GET", f"{flask_api.base}/things",
                        headers={"Authorization": "Basic c2Nhbm5lcjp4"})

    assert exchange.final.status_code == 200
    # Before any challenge, no credential at all goes out.
    assert flask_api.state.authorizations[0] is None


# ---------------------------------------------------------------------------
# SHA-256: lighttpd's mod_auth


@pytest.fixture
def lighttpd(tmp_path: Path, leaks):  # type: ignore[no-untyped-def]
    if shutil.which("lighttpd") is None:
        problem = "lighttpd is not installed (tests/run.sh installs it where it can)"
        if IN_CI:
            pytest.fail(f"CI must test Digest SHA-256 against lighttpd, but {problem}")
        pytest.skip(problem)
    leaks.watch(PASSWORD)
    servers: list[Lighttpd] = []

    def start(algorithm: str) -> Lighttpd:
        server = Lighttpd(tmp_path / f"lighttpd-{len(servers)}", {USER: PASSWORD}, algorithm)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    # The user file holds the password, as lighttpd's plain backend wants it: not ours.
    for server in servers:
        (server.folder / "users").unlink()


def test_digest_sha256_against_lighttpd(lighttpd) -> None:  # type: ignore[no-untyped-def]
    server = lighttpd("SHA-256")
    signer = DigestSigner(USER, PASSWORD)
    with httpx.Client() as client:
        first = send(client, signer, "GET", f"{server.base}/things/index.txt")
        second = send(client, signer, "GET", f"{server.base}/things/index.txt?v=2")

    assert [r.status_code for r in first.responses] == [401, 200]
    assert 'algorithm=SHA-256' in first.responses[0].headers["WWW-Authenticate"]
    assert first.final.text == "a thing\n"
    assert [r.status_code for r in second.responses] == [200]
    answer = fields(second.sent[0].headers["Authorization"])
    assert (answer["algorithm"], answer["qop"], answer["nc"]) == ("SHA-256", "auth", "00000002")


def test_digest_md5_against_lighttpd(lighttpd) -> None:  # type: ignore[no-untyped-def]
    server = lighttpd("MD5")
    with httpx.Client() as client:
        exchange = send(client, DigestSigner(USER, PASSWORD), "GET",
                        f"{server.base}/things/index.txt")

    assert [r.status_code for r in exchange.responses] == [401, 200]


def test_digest_wrong_password_is_refused_by_lighttpd(lighttpd) -> None:  # type: ignore[no-untyped-def]
    server = lighttpd("SHA-256")
    with httpx.Client() as client:
        exchange = send(client, DigestSigner(USER, "wrong"), "GET",
                        f"{server.base}/things/index.txt")

    assert [r.status_code for r in exchange.responses] == [401, 401]


# ---------------------------------------------------------------------------
# Challenges that cannot be answered

REQUEST = Request("GET", "https://api.example.com/things")


def challenge(value: str) -> Response:
    return Response(401, (("WWW-Authenticate", value),))


def test_digest_auth_int_only_is_refused_clearly() -> None:
    with pytest.raises(SigningError) as raised:
        DigestSigner(USER, PASSWORD).challenge(
            REQUEST, challenge('Digest realm="r", nonce="n", qop="auth-int"'))
    assert str(raised.value) == ("The API offers only qop=auth-int (a digest of the body), "
                                 "which is not supported; qop=auth is.")


def test_digest_unknown_algorithm_is_refused_clearly() -> None:
    with pytest.raises(SigningError) as raised:
        DigestSigner(USER, PASSWORD).challenge(
            REQUEST, challenge('Digest realm="r", nonce="n", qop="auth", algorithm=SHA-512-256'))
    assert str(raised.value).startswith("The API asks for a Digest algorithm that is not "
                                        "supported ('SHA-512-256')")


def test_digest_malformed_challenge_is_refused_clearly() -> None:
    with pytest.raises(SigningError) as raised:
        DigestSigner(USER, PASSWORD).challenge(REQUEST, challenge('Digest qop="auth"'))
    assert str(raised.value) == ("The API's Digest challenge is malformed (it needs a realm and "
                                 "a nonce).")


@pytest.mark.parametrize("response", [
    Response(401, (("WWW-Authenticate", 'Bearer realm="api"'),)),
    Response(403, (("WWW-Authenticate", 'Digest realm="r", nonce="n"'),)),
    Response(200),
])
def test_digest_other_answers_are_not_retried(response: Response) -> None:
    assert DigestSigner(USER, PASSWORD).challenge(REQUEST, response) is None
