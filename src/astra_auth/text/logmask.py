"""Masking credentials in the log records of the HTTP libraries.

httpx logs every request's URL at INFO (`HTTP Request: GET https://…?key=…`).
A credential that travels in a query parameter (an API key kept there) would
reach any log an application has switched on, `auth_for`'s included.  A filter
on those loggers masks every such value astra-auth has put into a URL, by the
same rules as everything else that is shown (text/redact.py): whole or in
part, and in any encoding, the form-encoded one of a query string
(`application/x-www-form-urlencoded`: `+` for a space, `%XX` for the rest)
among them.
"""

from __future__ import annotations

import logging
import threading

from astra_auth.text.redact import Redactor

_LOGGERS = ("httpx", "httpcore")


class _MaskFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.redactor = Redactor()
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.redactor.redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_FILTER = _MaskFilter()
_installed = False


def mask_in_http_logs(value: str) -> None:
    """From now on, `value` (in part, and in its encoded forms) never appears in
    httpx's or httpcore's log records."""
    global _installed
    with _FILTER.lock:
        _FILTER.redactor.add(value)
        if not _installed:
            for name in _LOGGERS:
                logging.getLogger(name).addFilter(_FILTER)
            _installed = True
