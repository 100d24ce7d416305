"""Masking credentials in the log records of the HTTP libraries.

httpx logs every request's URL at INFO (`HTTP Request: GET https://…?key=…`).
A credential that travels in a query parameter (an API key kept there) would
reach any log an application has switched on, `auth_for`'s included.  A filter
on those loggers masks every such value astra-auth has put into a URL.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote, quote_plus

from astra_auth.text.redact import MASK

_LOGGERS = ("httpx", "httpcore")


class _MaskFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.values: set[str] = set()
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.values:
            return True
        message = record.getMessage()
        masked = message
        with self.lock:
            values = sorted(self.values, key=len, reverse=True)
        for value in values:
            masked = masked.replace(value, MASK)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_FILTER = _MaskFilter()
_installed = False


def mask_in_http_logs(value: str) -> None:
    """From now on, `value` (and its URL-encoded forms) never appears in httpx's logs."""
    global _installed
    with _FILTER.lock:
        _FILTER.values.update(v for v in {value, quote(value, safe=""), quote_plus(value)} if v)
        if not _installed:
            for name in _LOGGERS:
                logging.getLogger(name).addFilter(_FILTER)
            _installed = True
