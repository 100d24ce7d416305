"""Reading an untrusted JSON or YAML document from a file or an https URL.

- Bounded: at most `MAX_DOCUMENT` bytes, nested at most `MAX_DEPTH` levels, and
  a URL is fetched within one deadline, through the same client as every other
  exchange (`net.transport`: the OS trust store, no redirects followed, plain
  http only to loopback).
- YAML is read with PyYAML's safe loader only: no tag beyond plain data
  (a `!!python/object` is an error, never a constructor call).
- A document that cannot be read says where: the file with line and column for
  a syntax error, a JSON path (`components.securitySchemes.oauth.flows`) for a
  value of the wrong shape (`where`).
- `resolve` follows local `$ref`s (JSON pointers into the same document,
  RFC 6901); a `$ref` into another document is refused, never fetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from astra_auth.core import validate
from astra_auth.imports.model import DocumentError
from astra_auth.text.safetext import clean
from astra_auth.text.shellcmd import quote

if TYPE_CHECKING:
    import httpx

MAX_DOCUMENT = 10 * 1024 * 1024
MAX_DEPTH = 200
# The whole download of a document, when the caller gives no deadline.
FETCH_TIME = 30.0
# How many `$ref`s one lookup may follow before it is taken for a loop.
MAX_REFS = 32

JsonPath = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")


@dataclass(frozen=True)
class Loaded:
    """A parsed document: `name` is how messages call it (the path as given,
    or the URL); `url` the URL it came from, the base for relative URLs in it."""

    data: Any
    name: str
    url: str | None = None


def where(path: Sequence[str | int]) -> str:
    """A JSON path to show: `components.securitySchemes.oauth`, `paths['/pets'].get`,
    `security[0]`."""
    shown = ""
    for part in path:
        if isinstance(part, int):
            shown += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            shown += f".{part}" if shown else part
        else:
            text = part if len(part) <= 80 else part[:80] + "…"
            shown += "[" + repr(text) + "]"
    return shown or "(the document)"


def shape_error(name: str, path: Sequence[str | int], expected: str, found: Any) -> DocumentError:
    return DocumentError(f"{name}: {where(path)}: expected {expected}, found {kind_of(found)}")


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_url(source: str) -> bool:
    return source[:8].lower().startswith(("https://", "http://"))


def load(source: str, make_client: Callable[[], httpx.Client] | None = None, *,
         seconds: float = FETCH_TIME) -> Loaded:
    """The document at `source`, a file path or an http(s) URL (fetched with a
    client from `make_client`, all of it within `seconds`)."""
    if is_url(source):
        if make_client is None:
            raise DocumentError(f"{source}: reading a document from a URL needs a network "
                                "client here")
        raw = fetch(source, make_client, seconds)
        return Loaded(parse(raw, source, urlsplit(source).path), source, source)
    return Loaded(parse(read_file(source), source, source), source)


def read_file(source: str) -> bytes:
    path = Path(source).expanduser()
    try:
        if not path.is_file():
            problem = "is not a file" if path.exists() else "no such file"
            raise DocumentError(f"{source}: {problem}")
        with path.open("rb") as handle:
            raw = handle.read(MAX_DOCUMENT + 1)
    except OSError as exc:
        raise DocumentError(f"{source}: cannot be read ({exc.strerror or type(exc).__name__})"
                            ) from None
    if len(raw) > MAX_DOCUMENT:
        raise DocumentError(f"{source}: larger than {MAX_DOCUMENT // (1024 * 1024)} MiB; "
                            "astra-auth reads documents up to that size")
    return raw


def fetch(url: str, make_client: Callable[[], httpx.Client], seconds: float) -> bytes:
    """The body of a 200 answer to GET `url`; anything else is a DocumentError."""
    from astra_auth.net.transport import Deadline, pin_loopback
    from astra_auth.oauth.token_response import classify_transport
    from astra_auth.text.redact import Redactor

    try:
        validate.api_url(url)
    except validate.InsecureURL:
        raise DocumentError(f"{url}: the document URL must use https (plain http is accepted "
                            "only for loopback hosts)", category="insecure_url",
                            hints=["Give its https address: " + quote(validate.https_form(url))]
                            ) from None
    except ValueError as exc:
        raise DocumentError(f"{url}: {exc}") from None
    parts = urlsplit(url)
    if parts.fragment:
        raise DocumentError(f"{url}: a document URL has no #fragment; remove everything "
                            "from '#'")
    deadline = Deadline(seconds)

    def get() -> bytes:
        target, pinned = pin_loopback(url, deadline)
        headers = {"Accept": "application/json, application/yaml, text/yaml;q=0.9, */*;q=0.5",
                   "Accept-Encoding": "identity", **pinned}
        with make_client() as client, client.stream("GET", target, headers=headers) as answer:
            status = answer.status_code
            if 300 <= status < 400:
                location = clean(answer.headers.get("location", "")[:300], one_line=True)
                raise DocumentError(
                    f"{url}: the server answered HTTP {status} (a redirect"
                    + (f" to {location}" if location else "") + "); astra-auth follows no "
                    "redirect: give the document's own URL")
            if status != 200:
                raise DocumentError(f"{url}: the server answered HTTP {status}, not the document")
            declared = answer.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_DOCUMENT:
                raise _too_large(url)
            body = bytearray()
            for chunk in answer.iter_bytes():
                deadline.check()
                body += chunk
                if len(body) > MAX_DOCUMENT:
                    raise _too_large(url)
            return bytes(body)

    try:
        return deadline.run(get)
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - every transport failure is reported
        failure = classify_transport(exc, url, seconds, Redactor())
        raise DocumentError(f"{url}: {failure.message}",
                            exit_code=failure.exit_code, category=failure.category) from None


def _too_large(url: str) -> DocumentError:
    return DocumentError(f"{url}: larger than {MAX_DOCUMENT // (1024 * 1024)} MiB; astra-auth "
                         "reads documents up to that size")


def parse(raw: bytes, name: str, path: str) -> Any:
    """JSON or YAML (by `path`'s suffix, else by the first character), checked
    for depth; a syntax error says the line and column."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    suffix = path.lower().rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    if suffix == "json":
        data = _json(text, name)
    elif suffix in ("yaml", "yml"):
        data = _yaml(text, name)
    elif text.lstrip()[:1] in ("{", "["):
        try:
            data = _json(text, name)
        except DocumentError:
            # Not JSON: YAML's flow style starts the same way; report JSON's error
            # unless YAML reads it.
            try:
                data = _yaml(text, name)
            except DocumentError:
                data = _json(text, name)
    else:
        data = _yaml(text, name)
    check_depth(data, name)
    return data


def _json(text: str, name: str) -> Any:
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"{name}, line {exc.lineno}, column {exc.colno}: not valid JSON: "
                            f"{exc.msg}") from None
    except RecursionError:
        raise _too_deep(name) from None


def _yaml(text: str, name: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or exc.context or "").strip() or "not valid YAML"
        if len(problem) > 200:
            problem = problem[:200] + "…"
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise DocumentError(f"{name}{at}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise DocumentError(f"{name}: not valid YAML ({type(exc).__name__})") from None
    except RecursionError:
        raise _too_deep(name) from None


def _too_deep(name: str) -> DocumentError:
    return DocumentError(f"{name}: nested more than {MAX_DEPTH} levels deep; astra-auth "
                         "reads documents up to that depth")


def check_depth(data: Any, name: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH.  Iterative, and each
    shared node (a YAML alias) is visited once, so a "billion laughs" document
    costs no more than its size."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep(name)
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))


def resolve(doc: Loaded, node: Any, path: JsonPath) -> tuple[Any, JsonPath]:
    """`node` with its `$ref`s followed (within `doc` only), and where it is."""
    followed: list[str] = []
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str):
            raise shape_error(doc.name, (*path, "$ref"), "text", ref)
        if not ref.startswith("#"):
            shown = ref if len(ref) <= 200 else ref[:200] + "…"
            raise DocumentError(
                f"{doc.name}: {where(path)}: $ref {shown!r} points into another document; "
                "astra-auth reads only the document it is given and fetches nothing else: "
                "bundle the description into one document first (Redocly CLI's or "
                "swagger-cli's `bundle` command does)")
        if ref in followed or len(followed) >= MAX_REFS:
            raise DocumentError(f"{doc.name}: {where(path)}: $ref {ref!r} leads into a loop of "
                                "references")
        followed.append(ref)
        path = pointer_path(doc.name, ref, path)
        node = at_path(doc, path, ref)
    return node, path


def pointer_path(name: str, ref: str, origin: JsonPath) -> JsonPath:
    """The tokens of a `#/…` JSON pointer (RFC 6901 §3, §6: percent-decoded,
    then `~1` → `/` and `~0` → `~`)."""
    pointer = unquote(ref[1:])
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise DocumentError(f"{name}: {where(origin)}: $ref {ref!r} is not a JSON pointer "
                            "(#/components/…)")
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/"))


def at_path(doc: Loaded, path: JsonPath, ref: str) -> Any:
    node = doc.data
    for token in path:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif (isinstance(node, list) and isinstance(token, str) and token.isdigit()
              and int(token) < len(node)):
            node = node[int(token)]
        else:
            raise DocumentError(f"{doc.name}: $ref {ref!r}: the document has nothing at "
                                f"{where(path)}")
    return node
