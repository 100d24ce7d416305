"""HTTP Digest (RFC 7616): the API's 401 challenge answered, then every request.

The hashing, the challenge parsing and the `nc` bookkeeping are httpx's
(`httpx.DigestAuth`: MD5, SHA-256, SHA-512 and their `-sess` forms, `qop=auth`),
driven through its documented auth-flow interface (`sync_auth_flow`: it
yields the request, receives the 401, yields the answered request; see
https://www.python-httpx.org/advanced/authentication/#custom-authentication-schemes)
for requests that no httpx client sends:

- `sign` gives the answer to the last challenge (RFC 7616 §3.4: a client may
  reuse a nonce, counting `nc` up; httpx counts per nonce) or, before the
  first challenge, no `Authorization` at all (any the client sent is removed);
- `challenge` reads a 401's `WWW-Authenticate: Digest …` and gives the
  answered request's headers (`nc=00000001` for the new nonce; a session
  cookie the 401 set, as httpx sends it back).  A nonce the server calls stale
  (`stale=true`, §3.3) is answered the same way, without asking anyone for the
  password again; the caller retries each request once, so a wrong password
  costs one retry, never a loop.

The request's body is never read: `qop=auth-int` is not supported (by httpx
either), and a challenge offering only it is refused with a clear message.
"""

from __future__ import annotations

import threading
from typing import Any

from astra_auth.signing.message import HeaderUpdate, Request, Response, SigningError


class DigestSigner:
    """Answers one API's Digest challenges with one username and password."""

    needs_body = False

    def __init__(self, username: str, password: str) -> None:
        import httpx

        if not username or any(ch in username for ch in '"\r\n\\'):
            raise SigningError("The Digest username must be set and cannot hold a quote, "
                               "a backslash or a line break.")
        self._auth = httpx.DigestAuth(username, password)
        # httpx.DigestAuth keeps the last challenge and its nc: one flow at a time.
        self._lock = threading.Lock()

    def sign(self, request: Request) -> HeaderUpdate:
        sent = _httpx_request(request)
        with self._lock:
            flow = self._auth.sync_auth_flow(sent)
            try:
                first = next(flow)
            finally:
                flow.close()
        return {"Authorization": first.headers.get("Authorization")}

    def challenge(self, request: Request, response: Response) -> HeaderUpdate | None:
        if response.status != 401 or not any(
                value.strip().lower().startswith("digest")
                for value in response.all("WWW-Authenticate")):
            return None
        import httpx

        sent = _httpx_request(request)
        answer = httpx.Response(response.status, headers=list(response.headers), request=sent)
        with self._lock:
            flow = self._auth.sync_auth_flow(sent)
            try:
                next(flow)
                retry = flow.send(answer)
            except StopIteration:
                return None
            except KeyError as exc:
                # Digest's own algorithm table has no such entry.
                raise SigningError(f"The API asks for a Digest algorithm that is not "
                                   f"supported ({exc}); MD5, SHA-256 and SHA-512 (and their "
                                   f"-sess forms) are.") from None
            except NotImplementedError:
                raise SigningError("The API offers only qop=auth-int (a digest of the body), "
                                   "which is not supported; qop=auth is.") from None
            except httpx.ProtocolError:
                raise SigningError("The API's Digest challenge is malformed (it needs a realm "
                                   "and a nonce).") from None
            finally:
                flow.close()
        update: HeaderUpdate = {"Authorization": retry.headers.get("Authorization")}
        cookie = retry.headers.get("Cookie")
        if cookie is not None and cookie != request.header("Cookie"):
            update["Cookie"] = cookie
        return update


def _httpx_request(request: Request) -> Any:
    import httpx

    # Without the client's own Authorization: only the answer goes out.
    headers = [(k, v) for k, v in request.headers if k.lower() != "authorization"]
    try:
        return httpx.Request(request.method, request.url, headers=headers)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise SigningError(f"The request cannot be answered with Digest: "
                           f"{type(exc).__name__}.") from None
