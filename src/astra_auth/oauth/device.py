"""The device authorization grant (RFC 8628): `astra-auth login` for `device_code`.

1. `start`: ask the device authorization endpoint for a device code and a
   user code (§3.1, §3.2).
2. The user opens the verification URL anywhere (a phone will do), enters the
   code and approves, MFA included.
3. `poll`: ask the token endpoint at the provider's interval (§3.4, §3.5):
   `authorization_pending` waits, `slow_down` adds 5 seconds to the interval
   for good, `access_denied` and `expired_token` end it.

Every answer is judged by `token_response.classify_response`, as for any token request;
nothing here raises for what the provider sends, except `LoginFailed`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from astra_auth.core.failure import Category, Failure
from astra_auth.net.transport import Deadline, pin_loopback
from astra_auth.oauth.grant import Outcome, post_form, request_token
from astra_auth.oauth.login import LoginFailed
from astra_auth.oauth.token_request import GrantRequest
from astra_auth.oauth.token_response import (
    Token,
    classify_response,
    classify_transport,
    seen_tokens,
)
from astra_auth.text.redact import Redactor

if TYPE_CHECKING:
    import httpx

DEFAULT_INTERVAL = 5  # §3.2: "If no value is provided, clients MUST use 5 as the default."
SLOW_DOWN_STEP = 5  # §3.5: slow_down adds 5 seconds, for this and every later request
MAX_INTERVAL = 60  # a provider's interval of an hour would look like a hang
# Failures that may pass while the user approves: polling goes on, slower.
_PASSING = frozenset({Category.TIMEOUT, Category.CONNECTION_ERROR, Category.RATE_LIMITED,
                      Category.SERVER_ERROR})
MAX_LIFETIME = 3600  # nor should a code be waited on for days
SHOWN_CODE = 64  # a user code or URL longer than this is not a real one


@dataclass
class DeviceCode:
    """The device authorization response (§3.2), checked."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


def start(base: GrantRequest, url: str, make_client: Callable[[], httpx.Client], *,
          timeout: float) -> DeviceCode:
    """Ask for a device code (§3.1): the client authenticates as for a token
    request, with its scope and audience.  Raises LoginFailed."""
    headers, form = base.headers_and_form()
    del form["grant_type"]
    redactor = base.redactor()
    deadline = Deadline(timeout)
    try:
        target, pinned = pin_loopback(url, deadline)
        raw = deadline.run(lambda: post_form(make_client, target, {**headers, **pinned}, form,
                                             deadline))
    except Exception as exc:  # noqa: BLE001 - every transport failure is classified
        raise LoginFailed(classify_transport(exc, url, timeout, redactor)) from None
    for value in seen_tokens(raw.body):
        redactor.add(value)
    if not 200 <= raw.status < 300 or raw.truncated or raw.broken or raw.undecodable:
        failure = classify_response(raw, redactor)
        assert not isinstance(failure, Token)  # not a 2xx, or not whole: never a token
        raise LoginFailed(failure)
    import json

    try:
        data = json.loads(raw.body.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise LoginFailed(Failure(Category.NOT_JSON, "The device authorization endpoint's "
                                  f"answer (HTTP {raw.status}) is not a JSON object.",
                                  http_status=raw.status))
    return _checked(data, raw.status, redactor)


def _checked(data: dict[str, object], status: int, redactor: Redactor) -> DeviceCode:
    def fail(problem: str) -> LoginFailed:
        return LoginFailed(Failure(Category.INVALID_TOKEN_RESPONSE,
                                   "The device authorization endpoint's answer is not usable "
                                   f"(RFC 8628 §3.2): {problem}.", http_status=status))

    device_code = data.get("device_code")
    user_code = data.get("user_code")
    # Google's endpoint says verification_url, as drafts of RFC 8628 did.
    uri = data.get("verification_uri", data.get("verification_url"))
    complete = data.get("verification_uri_complete")
    if not isinstance(device_code, str) or not device_code:
        raise fail("no device_code")
    if not isinstance(user_code, str) or not user_code or len(user_code) > SHOWN_CODE \
            or not user_code.isprintable():
        raise fail("no user_code of printable characters")
    if not _web_url(uri):
        raise fail("no verification_uri (an https URL, or http to this machine)")
    assert isinstance(uri, str)
    if complete is not None and not _web_url(complete):
        complete = None  # optional: a bad one is left out, not trusted
    expires_in = _whole(data.get("expires_in"))
    if expires_in is None or expires_in <= 0:
        raise fail("no expires_in")
    interval = _whole(data.get("interval"))
    return DeviceCode(
        device_code=device_code, user_code=user_code, verification_uri=uri,
        verification_uri_complete=complete if isinstance(complete, str) else None,
        expires_in=min(expires_in, MAX_LIFETIME),
        interval=min(max(interval if interval is not None else DEFAULT_INTERVAL, 1),
                     MAX_INTERVAL),
    )


def _web_url(value: object) -> bool:
    """An https URL, or plain http to a loopback host: a link a user may follow
    (one that is not is never shown)."""
    from urllib.parse import urlsplit

    from astra_auth.core.validate import is_loopback_host

    if not isinstance(value, str) or len(value) > 2048 or not value.isprintable():
        return False
    parts = urlsplit(value)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http"
                                       and is_loopback_host(parts.hostname))


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def poll(base: GrantRequest, code: DeviceCode, make_client: Callable[[], httpx.Client], *,
         timeout: float, sleep: Callable[[float], None], monotonic: Callable[[], float],
         on_slow_down: Callable[[int], None] | None = None,
         on_backoff: Callable[[int, str], None] | None = None) -> Outcome:
    """Poll the token endpoint until the user approves (the outcome, with its
    token), declines (`access_denied`) or the code expires (`login_timeout`).
    Raises LoginFailed; Ctrl-C (KeyboardInterrupt) passes through."""
    req = replace(base, grant_type="device_code", device_code=code.device_code)
    expires = monotonic() + code.expires_in
    interval = code.interval
    while True:
        if monotonic() + interval > expires:
            raise LoginFailed(_expired(code))
        sleep(interval)
        outcome = request_token(req, make_client, timeout=timeout,
                                try_other_client_auth=False, monotonic=monotonic)
        if outcome.token is not None:
            return outcome
        failure = outcome.failure
        assert failure is not None
        error = failure.oauth_error
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval = min(interval + SLOW_DOWN_STEP, MAX_INTERVAL)
            if on_slow_down is not None:
                on_slow_down(interval)
            continue
        if error is None and failure.category in _PASSING:
            # §3.5: a connection timeout (and, alike, a dropped connection, a 429
            # or a 5xx) is waited out with an exponential back-off, for as long
            # as the code is valid; the user may be half-way through approving.
            interval = min(interval * 2, MAX_INTERVAL)
            if on_backoff is not None:
                on_backoff(interval, failure.category)
            continue
        if error == "access_denied":
            raise LoginFailed(replace(failure, category=Category.ACCESS_DENIED,
                                      message="The login was declined at the provider "
                                      "(access_denied)."))
        if error == "expired_token":
            raise LoginFailed(replace(failure, category=Category.LOGIN_TIMEOUT,
                                      message=_expired(code).message))
        raise LoginFailed(failure)


def _expired(code: DeviceCode) -> Failure:
    minutes = max(1, round(code.expires_in / 60))
    return Failure(Category.LOGIN_TIMEOUT,
                   f"The code expired before the login was finished (it was valid for about "
                   f"{minutes} minute{'' if minutes == 1 else 's'}).")
