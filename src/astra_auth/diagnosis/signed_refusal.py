"""Why an API refused a signed request, per scheme: what test-token's API check
says when a target that signs each request (aws_sigv4, http_signature,
digest, oauth2 with DPoP) gets a 401 or 403.

Each explanation comes from what the API answered, read as its scheme or
its vendor defines it, never echoed: the API's `Date` against this machine's
clock; AWS's error messages (API Gateway's JSON `message`, the XML `Message`
of other services, the `x-amzn-ErrorType` header) for a wrong region,
service, key or an expired signature; RFC 9421 §5.1's `Accept-Signature` for
the components, key id and algorithm an API wants; RFC 7616's challenge for
Digest; RFC 9449 §7.1's `WWW-Authenticate: DPoP` errors.  Values taken from
the answer (a region, a key id) are suggested only when they pass the check
`configure` would apply to them, and are shell-quoted like every argument.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from astra_auth.core import validate
from astra_auth.storage.config import Target
from astra_auth.text.shellcmd import command, configure

# AWS Signature V4 allows a request time within 5 minutes of the server's
# ("Signature expired"); RFC 9421 and RFC 9449 leave the window to the server,
# and a minute is what common verifiers allow.
AWS_SKEW = 300
SKEW = 60


def signature_refused(target: Target, status: int, headers: Mapping[str, str],
                      body: bytes) -> bool:
    """Whether the API refused the signature itself, whatever its status: AWS
    answers 403 to a signature it does not accept (`api_unauthorized`, not a
    missing permission)."""
    if status == 401:
        return True
    if target.aws_sigv4 is None:
        return False
    said = aws_message(headers, body)
    return bool(re.search(r"Signature|scoped to|security token included|InvalidClientTokenId|"
                          r"UnrecognizedClient", said)) and not re.search(
        r"is not authorized to perform|AccessDenied", said)


def refusal_hints(target: Target, status: int, headers: Mapping[str, str], body: bytes,
                  answered_challenge: bool, now: float) -> list[str]:
    """What the API's refusal says, for a target whose scheme signs each request."""
    hints: list[str] = []
    skew = clock_skew(headers.get("date"), now)
    limit = AWS_SKEW if target.aws_sigv4 is not None else SKEW
    if skew is not None and abs(skew) > limit:
        hints.append(
            f"This machine's clock is {abs(skew)} seconds "
            f"{'behind' if skew > 0 else 'ahead of'} the API's (its Date header): a "
            "signature or proof made with it is refused as expired or not yet valid. Set the "
            "clock right (NTP) where astra-auth runs.")
    if target.aws_sigv4 is not None:
        hints += _sigv4(target, headers, body)
    elif target.http_signature is not None:
        hints += _http_signature(target, headers, body)
    elif target.digest is not None:
        hints += _digest(target, headers, answered_challenge)
    elif target.oauth2 is not None and target.oauth2.dpop:
        hints += _dpop(target, headers, answered_challenge)
    return hints


def clock_skew(date: str | None, now: float) -> int | None:
    """Seconds the API's `Date` (RFC 9110 §6.6.1) is ahead of `now` (negative:
    behind); None without a readable one."""
    if not date:
        return None
    try:
        when = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return round(when.timestamp() - now)


# ---------------------------------------------------------------------------
# AWS Signature V4


def aws_message(headers: Mapping[str, str], body: bytes) -> str:
    """AWS's own words for the refusal: API Gateway's JSON `message`, another
    service's XML `<Message>`, and the `x-amzn-ErrorType` header; "" when none."""
    parts = [headers.get("x-amzn-errortype", "")]
    text = body[:65536].decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "Message", "__type"):
            if isinstance(data.get(key), str):
                parts.append(data[key])
    parts += re.findall(r"<(?:Code|Message)>([^<]{1,500})</(?:Code|Message)>", text)
    return " ".join(p for p in parts if p)


def _sigv4(target: Target, headers: Mapping[str, str], body: bytes) -> list[str]:
    aws = target.aws_sigv4
    assert aws is not None
    said = aws_message(headers, body)
    name = target.name
    hints: list[str] = []
    region = re.search(r"scoped to a valid region(?:, not '([^']*)')?", said)
    if region:
        hints.append(
            f"AWS says the region is wrong: the request was signed for {aws.region!r}. Sign for "
            "the API's own region (the one in its URL, e.g. execute-api.eu-west-1."
            "amazonaws.com): " + configure(name, "--region", _placeholder("REGION")))
    service = re.search(r"scoped to correct service: '([^']*)'", said)
    if service:
        wanted = _aws_name(service.group(1), "service")
        hints.append(
            f"AWS says the service is wrong: the request was signed for {aws.service!r}, and "
            f"it wants {wanted or 'another'}: " + configure(
                name, "--service", wanted or _placeholder("SERVICE")))
    if "Signature expired" in said or "Signature not yet current" in said:
        hints.append("AWS says the signature's time (X-Amz-Date) is more than 5 minutes from "
                     "its own: set this machine's clock right (NTP).")
    if re.search(r"security token included in the request is expired", said, re.I):
        hints.append("The session token has expired (temporary credentials last hours): store "
                     "new ones: " + _store(name, "--access-key-id", "--secret-access-key-stdin",
                                           "--session-token-stdin"))
    elif re.search(r"security token included in the request is invalid|InvalidClientTokenId|"
                   r"UnrecognizedClient", said):
        hints.append(
            f"AWS does not know the access key {aws.access_key_id!r} (or its session token): "
            "check that it is active in IAM, and that temporary credentials (ASIA…) come with "
            "their session token: " + _store(name, "--secret-access-key-stdin",
                                             "--session-token-stdin"))
    if "signature we calculated does not match" in said or (
            "InvalidSignature" in said and not hints):
        hints.append(
            "AWS computed another signature from the same request: the secret access key is "
            "not the one of " + repr(aws.access_key_id) + " (store it again: "
            + _store(name, "--secret-access-key-stdin") + "), or something between here and "
            "AWS changes the request after it was signed (a proxy rewriting the path, the "
            "query or the Host).")
    if "Missing Authentication Token" in said or "MissingAuthenticationToken" in said:
        hints.append("API Gateway answers \"Missing Authentication Token\" for a path or "
                     "method it does not have, signed or not: check the path (--probe PATH) "
                     "and the stage in the target's url.")
    if re.search(r"is not authorized to perform|AccessDenied", said):
        hints.append("The signature was accepted, but the identity may not call this: its IAM "
                     "policy must allow execute-api:Invoke (or the service's action) on this "
                     "resource.")
    if not hints:
        hints.append(
            f"Check the key and where it signs for: access key {aws.access_key_id!r}, region "
            f"{aws.region!r}, service {aws.service!r} (API Gateway: execute-api; the region in "
            "its URL); change them with: " + configure(name, "--region",
                                                       _placeholder("REGION"), "--service",
                                                       _placeholder("SERVICE")))
    return hints


def _aws_name(value: str, what: str) -> str | None:
    try:
        return validate.aws_name(value, what)
    except ValueError:
        return None


def _store(name: str, *flags: str) -> str:
    from astra_auth.text.shellcmd import piped_secret

    if "--access-key-id" in flags:
        flags = tuple(f for f in flags if f != "--access-key-id")
        return ("printf '%s\\n%s\\n' \"$SECRET_ACCESS_KEY\" \"$SESSION_TOKEN\" | "
                + configure(name, "--access-key-id", _placeholder("ID"), *flags))
    if len(flags) == 2:
        return ("printf '%s\\n%s\\n' \"$SECRET_ACCESS_KEY\" \"$SESSION_TOKEN\" | "
                + configure(name, *flags))
    return piped_secret("SECRET_ACCESS_KEY", configure(name, *flags))


def _placeholder(text: str) -> Any:
    from astra_auth.text.shellcmd import Placeholder

    return Placeholder(text)


# ---------------------------------------------------------------------------
# HTTP Message Signatures (RFC 9421)


def accept_signature(value: str | None) -> dict[str, tuple[list[str], dict[str, Any]]]:
    """RFC 9421 §5.1's `Accept-Signature` (a Structured Field dictionary): per
    label, the components wanted and the parameters (keyid, alg...); {} when
    absent or unreadable."""
    if not value:
        return {}
    import http_sf

    try:
        parsed = http_sf.parse(value.encode("latin-1", "replace"), tltype="dictionary")
    except (ValueError, TypeError, IndexError, KeyError):
        return {}
    wanted: dict[str, tuple[list[str], dict[str, Any]]] = {}
    members: Any = parsed
    for label, member in members.items():
        if not isinstance(member, tuple) or len(member) != 2:
            continue
        items, params = member
        if isinstance(items, list) and isinstance(params, dict):
            wanted[str(label)] = ([str(item[0]) for item in items if isinstance(item, tuple)],
                                  dict(params))
    return wanted


def _http_signature(target: Target, headers: Mapping[str, str], body: bytes) -> list[str]:
    hs = target.http_signature
    assert hs is not None
    name = target.name
    hints: list[str] = []
    for _, (components, params) in list(accept_signature(headers.get("accept-signature")
                                                          ).items())[:1]:
        keyid = params.get("keyid")
        if isinstance(keyid, str) and keyid != hs.key_id:
            shown = _checked(validate.signature_key_id, keyid)
            hints.append(f"The API expects {'key id ' + repr(shown) if shown else 'another key id'}"
                         f", not {hs.key_id!r} (an unknown key id): " + configure(
                             name, "--key-id", shown or _placeholder("KEY_ID")))
        alg = params.get("alg")
        if isinstance(alg, str) and alg != hs.algorithm:
            shown = alg if alg in validate.HTTP_SIGNATURE_ALGORITHMS else None
            hints.append(f"The API expects the algorithm {shown or alg[:40]!r}, not "
                         f"{hs.algorithm!r}"
                         + (": " + configure(name, "--algorithm", shown) if shown else "."))
        checked = [c for c in (_checked(validate.signature_component, c) for c in components)
                   if c]
        missing = [c for c in checked if c not in hs.components]
        extra = [c for c in hs.components if checked and c not in checked]
        if missing or extra:
            text = "The API wants the components " + " ".join(checked) + " covered"
            if extra:
                text += f" (this target covers {' '.join(extra)} too, which it does not expect)"
            hints.append(text + ": " + configure(name, *[
                part for c in checked for part in ("--component", c)]))
    lowered = body[:65536].decode("utf-8", "replace").lower()
    if not hints and re.search(r"\bkey ?id\b|unknown key", lowered):
        hints.append(f"The API does not know the key id {hs.key_id!r}: register this target's "
                     f"public key under it (" + command("targets", "show", name)
                     + " gives it), or sign with the key id it has: "
                     + configure(name, "--key-id", _placeholder("KEY_ID")))
    if not hints:
        hints.append(
            f"Check what the API verifies with: the key id {hs.key_id!r} and its public key "
            f"(register it from: {command('targets', 'show', name)}), the algorithm "
            f"{hs.algorithm!r}, and the covered components ({' '.join(hs.components)}): a "
            "component the API does not expect, or one a proxy in between changes, breaks the "
            "signature.")
    return hints


def _checked(check: Any, value: str) -> str | None:
    try:
        return str(check(value))
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# HTTP Digest (RFC 7616)


def _digest(target: Target, headers: Mapping[str, str], answered: bool) -> list[str]:
    assert target.digest is not None
    name = target.name
    challenge = headers.get("www-authenticate", "")
    if "digest" not in challenge.lower():
        return ["The API does not ask for Digest (its WWW-Authenticate names another scheme): "
                "check the target's auth type with: " + command("targets", "show", name)]
    if answered:
        return [f"The API refused the answer to its Digest challenge: check the username "
                f"{target.digest.username!r} and the password (store it again: "
                + _piped("PASSWORD", configure(name, "--password-stdin")) + ")."]
    return ["The API's Digest challenge was not answered: astra-auth answers qop=auth with "
            "MD5, SHA-256 or SHA-512 (and their -sess forms); its WWW-Authenticate is above."]


def _piped(variable: str, text: str) -> str:
    from astra_auth.text.shellcmd import piped_secret

    return piped_secret(variable, text)


# ---------------------------------------------------------------------------
# DPoP (RFC 9449)


def _dpop(target: Target, headers: Mapping[str, str], answered: bool) -> list[str]:
    from astra_auth.diagnosis.apicheck import challenge_params

    name = target.name
    challenge = headers.get("www-authenticate", "")
    if challenge and not re.search(r"(^|,)\s*dpop\b", challenge, re.I):
        return ["The API asks for another scheme than DPoP (its WWW-Authenticate is above): "
                "it may not take DPoP-bound tokens. Turn DPoP off for this target: "
                + configure(name, "--no-dpop")]
    error = challenge_params(challenge).get("error")
    if error == "use_dpop_nonce":
        if headers.get("dpop-nonce") is None:
            return ["The API asks for a DPoP nonce (use_dpop_nonce) but gives none: RFC 9449 "
                    "§9 has it send one in a DPoP-Nonce header. Its owners must fix this."]
        if answered:
            return ["The API asked for a new nonce again after the proof carried the one it "
                    "gave: it may keep nonces per connection or expire them at once."]
    if error == "invalid_dpop_proof":
        return ["The API refused the DPoP proof: check this machine's clock (the proof's iat), "
                "and that the API sees the URL the proof names (htu: a gateway that rewrites "
                "the scheme, host or path breaks it)."]
    return ["The API refused the DPoP-bound token: check that it trusts this provider and "
            "binds tokens by cnf.jkt (RFC 9449 §6); the proof key's thumbprint is in: "
            + command("targets", "show", name)]
