"""Every source as consumers get it from `open_source`: one call at a time,
its outcome shared, a back-off after a failure, and no value that cannot go
into a header.

- Callers that need the source while another call to it runs (a renewal, say)
  wait for that call and share its outcome, failure included: fifty scanner
  requests during an outage make one token request, not fifty in a row.  None
  of them waits longer than one token request's timeout for the others.
- After a failure, the same error is returned at once for a back-off period:
  1 s, doubled for each failure in a row, at most 30 s.  However fast a
  scanner sends, the provider is asked at most once per period.
- A renewal fails while the credential it was to replace has not expired
  yet (renewal starts well before expiry): that credential is used until it
  expires, and the provider is asked again after each back-off period;
  while a renewal runs, other callers take it without waiting.  An outage at
  renewal time costs no request that the current token would have served.
  Not after the API refused it: a failed renewal on a 401 drops it.
- The consumer's log (the proxy's) hears of a failure once per change of
  category, not once per request.
- A credential whose value holds a line break, NUL or another control
  character, or a character outside Latin-1, is refused (`invalid_key`): sent
  as a header, it would end the header early or split the request in two
  (RFC 9110 §5.5).  Every consumer gets the check, since every consumer gets
  its credentials here.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from astra_auth.core.errors import AstraError
from astra_auth.core.failure import Category, CredentialError, Failure
from astra_auth.credentials.interface import Credential, CredentialSource
from astra_auth.storage.config import Target
from astra_auth.storage.secretstore import sources

T = TypeVar("T")

FIRST_BACK_OFF = 1.0
MAX_BACK_OFF = 30.0

# C0 controls (CR, LF and NUL among them), DEL, C1 controls, and anything
# beyond Latin-1, which an HTTP/1.1 field value cannot carry.
_UNFIT = re.compile("[\x00-\x1f\x7f-\x9f]|[^\x00-\xff]")


def _again(exc: AstraError) -> AstraError:
    """The failure to raise once more: a new one, so that threads raising it
    at once do not share (and lengthen) one traceback."""
    if isinstance(exc, CredentialError):
        return CredentialError(exc.failure, exc.hints, target=exc.target,
                               secret_sources=exc.secret_sources)
    return exc.with_traceback(None)


def header_problem(value: str) -> str | None:
    """Why `value` cannot go into an HTTP header field, or None when it can."""
    found = _UNFIT.search(value)
    if found is None:
        return None
    char = found.group()
    if char in "\r\n":
        return "holds a line break"
    if char == "\x00":
        return "holds a NUL character"
    if ord(char) > 0xFF:
        return f"holds a character outside Latin-1 (U+{ord(char):04X})"
    return f"holds a control character (U+{ord(char):04X})"


class SharedSource:
    """A `CredentialSource` around another: see the module's docstring."""

    def __init__(self, make: Callable[[Callable[[str, str], None]], CredentialSource],
                 target: Target, *, environ: Mapping[str, str],
                 monotonic: Callable[[], float], timeout: float,
                 on_event: Callable[[str, str], None] | None,
                 clock: Callable[[], float] = time.time, min_ttl: float | None = None
                 ) -> None:
        """`make(on_event)` opens the inner source, with its log lines going
        through `inner_event`.  `clock` is the wall clock that credentials'
        `expires_at` count in."""
        self.target = target
        self._environ = environ
        self._monotonic = monotonic
        self._clock = clock
        self._min_ttl = min_ttl or 0.0
        self._current: Credential | None = None  # the last credential had
        self._timeout = timeout
        self._on_event = on_event
        self._cond = threading.Condition()
        self._busy = False  # a call to the inner source runs
        self._failure: AstraError | None = None
        self._retry_at = 0.0
        self._failures = 0  # in a row
        self._told: str | None = None  # the category the log last heard of
        self._pending: str | None = None  # the running call's failure line
        self._checked: str | None = None  # the last value that passed the check
        self._inner = make(self.inner_event)

    # -- the CredentialSource interface ---------------------------------------

    def peek(self) -> Credential | None:
        credential = self._inner.peek()
        if credential is None or credential.value != self._checked:
            return None  # new to this check: through `get`
        return credential

    def get(self) -> Credential:
        credential = self.peek()
        if credential is not None:
            return credential
        with self._cond:
            renewing = self._busy
        current = self._unexpired() if renewing else None
        if current is not None:
            return current  # no need to wait for the renewal that runs
        try:
            got = self._call(self._inner.get, self.peek)
        except AstraError:
            current = self._unexpired()
            if current is None:
                raise
            return current
        assert got is not None
        return got

    def renew(self, failed: Credential, www_authenticate: str | None = None) -> Credential | None:
        try:
            return self._call(lambda: self._inner.renew(failed, www_authenticate), None)
        except AstraError:
            current = self._current
            if current is not None and current.value == failed.value:
                self._current = None  # the API refused it: never served again
            raise

    def _unexpired(self) -> Credential | None:
        """The last credential had, while it has not expired (and lives for
        `min_ttl` more seconds)."""
        current = self._current
        if current is None or current.expires_at is None:
            return None
        if current.expires_at - self._clock() <= self._min_ttl:
            return None
        return current

    # -- one call at a time -----------------------------------------------------

    def _call(self, call: Callable[[], T], shared: Callable[[], T | None] | None) -> T | None:
        """`call()` unless another call runs: then wait for it and take its
        failure, or (`shared`) what it left fresh.  In a back-off, the last
        failure at once."""
        # Real time for the wait (a condition's timeout is), the injected
        # clock for the back-off.
        give_up = time.monotonic() + self._timeout
        with self._cond:
            while True:
                if self._failure is not None and self._monotonic() < self._retry_at:
                    raise _again(self._failure)
                if not self._busy:
                    break
                left = give_up - time.monotonic()
                if left <= 0:
                    raise self._error(Failure(
                        Category.TIMEOUT,
                        f"The credential for {self.target.name} was still being renewed "
                        f"after {self._timeout:g} s.", details={"renewing": "timeout"}))
                self._cond.wait(left)
                if shared is not None and not self._busy and self._failure is None:
                    fresh = shared()
                    if fresh is not None:
                        return fresh
            self._busy = True
            self._pending = None
        try:
            result = call()
            if isinstance(result, Credential):
                self._check(result)
        except AstraError as exc:
            self._failed(exc)
            raise
        except BaseException:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
            raise
        with self._cond:
            self._busy = False
            self._failure = None
            self._failures = 0
            self._told = None
            if isinstance(result, Credential):
                self._checked = result.value
                self._current = result
            self._cond.notify_all()
        return result

    def _failed(self, exc: AstraError) -> None:
        category = str(getattr(exc, "category", "") or type(exc).__name__)
        with self._cond:
            self._failures += 1
            delay = min(FIRST_BACK_OFF * 2 ** (self._failures - 1), MAX_BACK_OFF)
            self._retry_at = self._monotonic() + delay
            self._failure = exc
            self._busy = False
            line, self._pending = self._pending, None
            tell = category != self._told
            self._told = category
            self._cond.notify_all()
        if tell and self._on_event is not None:
            line = line or f"{self.target.name}: no credential: {exc.message}"
            current = self._unexpired()
            if current is not None and current.expires_at is not None:
                left = current.expires_at - self._clock()
                line += f" (the current credential stays in use until it expires, in {left:.0f} s)"
            self._on_event("failed", line)

    def inner_event(self, kind: str, text: str) -> None:
        """The inner source's log lines: renewals pass, a failure waits until
        its category says whether the log has heard of it already."""
        if kind == "failed":
            self._pending = text
        elif self._on_event is not None:
            self._on_event(kind, text)

    # -- the header check -------------------------------------------------------

    def _check(self, credential: Credential) -> None:
        if credential.value == self._checked:
            return
        problem = header_problem(credential.value)
        if problem is None:
            return
        what, kind = _VALUES.get(self.target.auth_type or "", ("credential", None))
        details = {"header_value": problem} | ({"kind": kind} if kind else {})
        raise self._error(Failure(
            Category.INVALID_KEY,
            f"The {what} of {self.target.name} {problem}, so it cannot go into an HTTP "
            "header; it is not sent.", details=details))

    def _error(self, failure: Failure) -> CredentialError:
        return CredentialError(failure, target=self.target,
                               secret_sources=sources(self.target, self._environ))


# auth_type -> (what the value is, the kind of the secret it is made of, if
# one secret is sent as it is), for the header check's message and hints.
_VALUES: dict[str, tuple[str, str | None]] = {
    "bearer": ("bearer token", "bearer_token"),
    "api_key": ("API key", "api_key"),
    "basic": ("Basic credential", "password"),
    "jwt": ("signed JWT header value", None),
    "oauth2": ("access token", None),
}
