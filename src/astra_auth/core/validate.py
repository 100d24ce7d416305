"""Checks on every value a user gives, each failing with a reason to show.

Validators raise `ValueError` with a message fit for the user; the caller turns
it into a re-ask (at a terminal) or a usage error naming the flag (in CI).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import urlsplit


# Regular expressions are compiled on first use (`_regex`), not at import:
# compiling the six here took ~0.4 ms on every start, and `--version`, `--help`
# or completion use none of them (benchmarks/startup.py).
@functools.cache
def _regex(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


TARGET_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
MAX_URL = 2048
MAX_CLIENT_ID = 512
MAX_USERNAME = 512
MAX_SCOPE = 2048
MAX_SECRET = 8192

GRANT_TYPES = ("client_credentials", "password", "device_code", "authorization_code")
# Each grant's name as people say it: the one place every output takes it from.
GRANT_LABELS = {"client_credentials": "Client Credentials", "password": "Resource Owner Password",
                "device_code": "Device Code", "authorization_code": "Authorization Code"}
GRANT_ALIASES = {"client-credentials": "client_credentials", "device-code": "device_code",
                 "authorization-code": "authorization_code"}
# The grants whose one human step is `astra-auth login`: afterwards only a
# refresh token is kept (`<target>:refresh_token`), and renewal is unattended.
LOGIN_GRANTS = ("device_code", "authorization_code")
AUTH_TYPES = ("oauth2", "basic", "bearer", "api_key", "jwt", "aws_sigv4", "http_signature",
              "digest")
# How each auth type is named to people (walk-through, summary, test-token, targets).
AUTH_LABELS = {"oauth2": "OAuth 2.0", "basic": "Basic", "bearer": "Bearer token",
               "api_key": "API key", "jwt": "JWT (signed here)",
               "aws_sigv4": "AWS Signature V4", "http_signature": "HTTP Message Signatures",
               "digest": "HTTP Digest"}
# The types whose every request carries its own signature or answer: no
# credential exists that `token` or `exec` could hand over.
SIGNED_TYPES = ("aws_sigv4", "http_signature", "digest")
# Keyring kinds whose words are not the kind with its underscores as spaces.
_SECRET_WORDS = {"api_key": "API key", "dpop_key": "DPoP key"}


def secret_words(kind: str) -> str:
    """A keyring kind as people read it in a sentence: "client secret", "API key"."""
    return _SECRET_WORDS.get(kind, kind.replace("_", " "))


def secret_label(kind: str) -> str:
    """A keyring kind as a label: "Client secret", "API key"."""
    words = secret_words(kind)
    return words[:1].upper() + words[1:]


KEY_LOCATIONS = ("header", "query", "cookie")
JWT_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "PS256", "ES256")
# iat, exp and jti are set per token (docs/auth/jwt.md), never configured.
JWT_TIMED_CLAIMS = ("iat", "exp", "jti")
MAX_JWT_LIFETIME = 86400
MAX_CLAIMS_DEPTH = 8
# HTTP Message Signatures (RFC 9421): the algorithms of its registry (§6.2.2)
# that astra-auth signs with, and the components covered unless told otherwise.
HTTP_SIGNATURE_ALGORITHMS = ("ed25519", "ecdsa-p256-sha256", "rsa-pss-sha512",
                             "rsa-v1_5-sha256", "hmac-sha256")
HTTP_SIGNATURE_COMPONENTS = ("@method", "@target-uri", "content-digest", "content-type")
# The derived components of RFC 9421 §2.2 that a request has (@status is a response's).
DERIVED_COMPONENTS = ("@method", "@target-uri", "@authority", "@scheme", "@request-target",
                      "@path", "@query")
MAX_SIGNATURE_LIFETIME = 86400
# DPoP proof keys (RFC 9449 §5.1's dpop_signing_alg_values_supported, as providers list them).
DPOP_ALGORITHMS = ("ES256", "PS256", "RS256", "EdDSA")
CLIENT_AUTH_METHODS = ("basic", "post", "private_key_jwt", "tls_client_auth", "none")
# --- enterprise clients (docs/auth/enterprise.md) ------------------------------
# Client authentication methods as RFC 8414 metadata names them
# (token_endpoint_auth_methods_supported), and back.
CLIENT_AUTH_METADATA = {"basic": "client_secret_basic", "post": "client_secret_post",
                        "private_key_jwt": "private_key_jwt",
                        "tls_client_auth": "tls_client_auth", "none": "none"}
# The methods that need a PEM private key (keyring kind `private_key`) and no secret.
KEY_CLIENT_AUTH = ("private_key_jwt", "tls_client_auth")
ASSERTION_ALGORITHMS = ("RS256", "PS256", "ES256")
# The token request's own fields: an extra parameter may not replace one
# (RFC 6749 §4, RFC 7521 §4.2, RFC 8628, RFC 7636).
GRANT_FIELDS = frozenset({
    "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type",
    "username", "password", "refresh_token", "scope", "audience", "code", "code_verifier",
    "redirect_uri", "device_code",
})
PARAM_NAME = r"[A-Za-z0-9_.~:-]{1,128}"
MAX_TIMEOUT = 600.0
# --- end of enterprise clients --------------------------------------------------
SECRET_MODES = ("keyring", "env")
TOKEN_FORMATS = ("bare", "header", "json")
SHELLS = ("bash", "zsh", "fish", "powershell")


HEADER_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"


def target_name(value: str) -> str:
    if not value:
        raise ValueError("a target name cannot be empty")
    if len(value) > 64:
        raise ValueError(f"a target name has at most 64 characters (this one has {len(value)})")
    if not _regex(TARGET_NAME).fullmatch(value):
        raise ValueError(
            f"{_show(value)} is not a valid target name: use letters, digits, '.', '_' "
            "and '-', starting with a letter or digit"
        )
    return value


def grant_type(value: str) -> str:
    value = GRANT_ALIASES.get(value, value)
    if value not in GRANT_TYPES:
        raise ValueError(f"{_show(value)} is not a grant type: use client_credentials, password, "
                         "device_code or authorization_code")
    return value


def choice(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{_show(value)} is not one of: {', '.join(allowed)}")
    return value


class InsecureURL(ValueError):
    """A URL over plain http to a host that is not loopback (`insecure_url`)."""


def token_url(value: str) -> str:
    """An absolute https URL (http only to a loopback host) without userinfo:
    the token URL and every other URL of the provider's."""
    url = _url(value, what="the token URL")
    if "#" in url:  # an empty fragment ("…/token#") too
        raise ValueError("a token URL has no #fragment; remove everything from '#'")
    return url


def api_url(value: str) -> str:
    """The API under test: https (http only to a loopback host), no userinfo."""
    return _url(value, "https://api.example.com", what="the API URL")


def web_url(value: str, what: str) -> str:
    """A URL a provider gives for a person to open: https (http only to a
    loopback host), nothing else (no javascript:, no file:)."""
    return _url(value, "https://idp.example.com/device", what=what)


def _url(value: str, example: str = "https://idp.example.com/oauth/token", *,
         what: str = "the URL") -> str:
    value = value.strip()
    if not value:
        raise ValueError("the URL is empty")
    if len(value) > MAX_URL:
        raise ValueError(f"the URL is too long ({len(value)} characters; at most {MAX_URL})")
    # isprintable() is False for control, format and separator characters
    # (but the ASCII space).
    if " " in value or not value.isprintable():
        raise ValueError("the URL contains spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http"):
        raise ValueError(
            f"the URL must start with https:// (for example {example})"
        )
    if "@" in parts.netloc:
        # Checked before anything else about the host: userinfo is a password in
        # the config file and in every log line that shows the URL.
        raise ValueError(
            "the URL contains user information (user:password@); credentials belong "
            "in the client ID and secret, never in the URL"
        )
    try:
        host = parts.hostname
        if parts.port == 0:  # urlsplit takes 0, which no server listens on
            raise ValueError
    except ValueError:
        raise ValueError("the URL has an invalid port (a number from 1 to 65535)") from None
    if not host:
        raise ValueError("the URL has no host name")
    if parts.netloc.endswith(":"):
        raise ValueError("the URL has an empty port after ':'")
    if not _valid_host(host):
        raise ValueError(f"{_show(host)} is not a valid host name")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise InsecureURL(
            f"{what} must use https: credentials would cross the network in "
            "clear text (plain http is accepted only for loopback hosts)"
        )
    return value


def https_form(url: str) -> str:
    """`url` with https instead of plain http: the fix an `insecure_url` suggests."""
    return "https://" + url.split("://", 1)[1] if url.startswith("http://") else url


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    label_re = _regex(_LABEL)
    return all(label_re.fullmatch(label) for label in labels)


def is_loopback_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_value(value: str, what: str, limit: int, *, allow_empty: bool = False) -> str:
    """Client IDs, usernames, scopes, audiences: printable text of bounded length."""
    value = value.strip()
    if not value and not allow_empty:
        raise ValueError(f"the {what} cannot be empty")
    if len(value) > limit:
        raise ValueError(f"the {what} is too long ({len(value)} characters; at most {limit})")
    if not value.isprintable():
        raise ValueError(f"the {what} contains control characters")
    return value


# --- enterprise clients (docs/auth/enterprise.md) ------------------------------


def extra_param(name: str, value: str) -> tuple[str, str]:
    """One `--param NAME=VALUE` / `extra_params` entry, checked."""
    if not _regex(PARAM_NAME).fullmatch(name):
        raise ValueError(f"{_show(name)} is not a parameter name (letters, digits and _.~:-)")
    if name in GRANT_FIELDS:
        raise ValueError(f"{name} is a field of the token request itself; an extra parameter "
                         "cannot replace it")
    return name, plain_value(value, f"value of {name}", MAX_URL, allow_empty=True)


def timeout_seconds(value: float) -> float:
    """A network timeout: more than 0 and at most 600 seconds."""
    if isinstance(value, bool) or not 0 < value <= MAX_TIMEOUT:
        raise ValueError("give a number of seconds between 0 and 600")
    return float(value)


def file_path(value: str, what: str) -> str:
    """A path to a file this tool reads (a CA bundle, a certificate)."""
    return plain_value(value, what, 4096)


# --- end of enterprise clients --------------------------------------------------


def header_name(value: str) -> str:
    """An HTTP field name (RFC 9110 §5.1: a token), e.g. X-API-Key."""
    if not value or len(value) > 256 or not _regex(HEADER_TOKEN).fullmatch(value):
        raise ValueError(f"{_show(value)} is not a valid header name (letters, digits and "
                         "!#$%&'*+-.^_`|~, no spaces)")
    return value


def aws_access_key_id(value: str) -> str:
    """An AWS access key ID: letters and digits (AKIA…, ASIA…; other SigV4 services too)."""
    value = value.strip()
    if not _regex(r"[A-Za-z0-9]{4,128}").fullmatch(value):
        raise ValueError(f"{_show(value)} is not an access key ID (letters and digits, as in "
                         "AKIAIOSFODNN7EXAMPLE)")
    return value


def aws_name(value: str, what: str) -> str:
    """An AWS region or service name as AWS spells them (eu-west-1, execute-api)."""
    value = value.strip()
    if not _regex(r"[a-z0-9][a-z0-9-]{0,62}").fullmatch(value):
        example = "eu-west-1" if what == "region" else "execute-api"
        raise ValueError(f"{_show(value)} is not an AWS {what} name (lower-case letters, "
                         f"digits and '-', as in {example})")
    return value


def signature_key_id(value: str) -> str:
    """A key ID: an HTTP signature's `keyid` (RFC 9421 §2.3), or the `kid` a
    private_key_jwt assertion names its key by (RFC 7515 §4.1.4).  Printable
    ASCII, no quote or backslash."""
    value = value.strip()
    if (not value or len(value) > 256 or not value.isascii() or not value.isprintable()
            or '"' in value or "\\" in value):
        raise ValueError(f"{_show(value)} is not a key ID (printable ASCII without quotes, "
                         "at most 256 characters)")
    return value


def signature_label(value: str) -> str:
    """An HTTP signature's label (RFC 9421 §4.1: a Structured Field key)."""
    value = value.strip()
    if not _regex(r"[a-z*][a-z0-9_.*-]{0,63}").fullmatch(value):
        raise ValueError(f"{_show(value)} is not a signature label (lower-case letters, "
                         "digits, '_', '-', '.', '*', starting with a letter, as in sig1)")
    return value


def signature_component(value: str) -> str:
    """A covered component (RFC 9421 §2): a derived one (@method...) or a header
    field's lower-case name (content-type)."""
    value = value.strip()
    if value.startswith("@"):
        if value not in DERIVED_COMPONENTS:
            raise ValueError(f"{_show(value)} is not a derived component of a request (one of "
                             f"{', '.join(DERIVED_COMPONENTS)})")
        return value
    if value != value.lower() or not _regex(HEADER_TOKEN).fullmatch(value) or len(value) > 256:
        raise ValueError(f"{_show(value)} is not a component: a derived one (@method, "
                         "@target-uri...) or a header field's lower-case name (content-type)")
    return value


def key_name(value: str) -> str:
    """The name of an API key's header, query parameter or cookie."""
    return header_name(value)


def header_prefix(value: str) -> str:
    """A JWT header's prefix ("Bearer", or "" for none): one word of visible ASCII."""
    if value and (len(value) > 64 or not _regex(HEADER_TOKEN).fullmatch(value)):
        raise ValueError(f"{_show(value)} is not a valid prefix (one word, like Bearer, or "
                         "empty for none)")
    return value


def pem_value(value: str, what: str) -> str:
    """A PEM text (a private key), its line ends made LF.  Whether it holds a
    key that can be read and fits its algorithm is the key check's to say
    (`invalid_key`), not this one's."""
    value = value.replace("\r\n", "\n").strip("\n") + "\n"
    if len(value) > MAX_SECRET:
        raise ValueError(f"the {what} is too long (at most {MAX_SECRET} characters)")
    if any(ch in value for ch in "\x00\r"):
        raise ValueError(f"the {what} contains a NUL or carriage-return character")
    return value


def secret_value(value: str, what: str) -> str:
    """A secret as given; only a trailing newline (from a pipe or file) is dropped."""
    if value.endswith("\r\n"):
        value = value[:-2]
    elif value.endswith("\n"):
        value = value[:-1]
    if not value:
        raise ValueError(f"the {what} is empty")
    if len(value) > MAX_SECRET:
        raise ValueError(f"the {what} is too long (at most {MAX_SECRET} characters)")
    if any(ch in "\r\n\x00" for ch in value):
        raise ValueError(f"the {what} contains a line break or NUL character")
    return value


def _show(value: str, limit: int = 60) -> str:
    shown = value if len(value) <= limit else value[:limit] + "…"
    return repr(shown)
