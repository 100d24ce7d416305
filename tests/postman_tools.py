"""Postman's own tools (tests/postman, installed by tests/run.sh) as test oracles.

`resolve` asks Postman's collection SDK which auth every item of a collection
uses (inherited as Postman inherits it) with the variables replaced; `agrees`
checks that what astra-auth imported says the same, field by field, through a
table written here from Postman's documentation of each auth type.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from astra_auth.imports.model import Scheme
from tests.conftest import IN_CI

HERE = Path(__file__).resolve().parent
TOOLS = HERE / "postman"
SCRIPT = TOOLS / "postman.js"
MODULES = TOOLS / "node_modules"
DOCUMENTS = HERE / "documents"
FIGMA = MODULES / "@figma" / "rest-api-spec" / "openapi" / "openapi.yaml"
BLOCKFROST = MODULES / "@blockfrost" / "openapi" / "openapi.yaml"

# Postman's auth type → astra-auth's.
TYPES = {"oauth2": "oauth2", "basic": "basic", "bearer": "bearer", "apikey": "api_key",
         "awsv4": "aws_sigv4", "digest": "digest"}
# Per Postman type: its parameter → ("setting" or "secret", astra-auth's name).
FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "oauth2": {"accessTokenUrl": ("setting", "token_url"), "clientId": ("setting", "client_id"),
               "scope": ("setting", "scope"), "clientSecret": ("secret", "client_secret")},
    "basic": {"username": ("setting", "username"), "password": ("secret", "password")},
    "digest": {"username": ("setting", "username"), "password": ("secret", "password")},
    "bearer": {"token": ("secret", "bearer_token")},
    "apikey": {"key": ("setting", "name"), "value": ("secret", "api_key"),
               "in": ("setting", "location")},
    "awsv4": {"accessKey": ("setting", "access_key_id"), "region": ("setting", "region"),
              "service": ("setting", "service"), "secretKey": ("secret", "secret_access_key"),
              "sessionToken": ("secret", "session_token")},
}
# Fields that only one grant reads (Postman's grant names).
GRANT_FIELDS = {
    "authUrl": (("authorization_code", "authorization_code_with_pkce"),
                ("setting", "authorization_url")),
    "username": (("password_credentials",), ("setting", "username")),
    "password": (("password_credentials",), ("secret", "password")),
}


def node_tools() -> None:
    """Skip (fail in CI) when Node.js or tests/postman's packages are missing."""
    if shutil.which("node") is None or not (MODULES / "postman-collection").is_dir():
        if IN_CI:
            pytest.fail("CI must run the import tests, but Node.js or tests/postman's npm "
                        "packages are not installed")
        pytest.skip("Node.js or tests/postman's npm packages are not installed "
                    "(tests/run.sh installs them)")


def public_document(path: Path) -> Path:
    node_tools()
    if not path.is_file():
        pytest.fail(f"{path} is not in its npm package any more: update the tests")
    return path


def convert(out: Path, documents: dict[str, Path]) -> None:
    """Postman's converter: OUT/NAME.v21.json and OUT/NAME.v20.json per document."""
    node_tools()
    subprocess.run(["node", str(SCRIPT), "convert", str(out),
                    *(f"{name}={path}" for name, path in documents.items())],
                   check=True, timeout=300, capture_output=True)


def resolve(collection: Path, environment: Path | None = None) -> list[dict[str, Any]]:
    """Per item (and the collection, path []), the auth Postman's SDK finds."""
    node_tools()
    return json.loads(_resolved(collection, environment))


@functools.cache
def _resolved(collection: Path, environment: Path | None) -> str:
    done = subprocess.run(["node", str(SCRIPT), "resolve", str(collection),
                           *([str(environment)] if environment else [])],
                          check=True, timeout=300, capture_output=True, text=True)
    return done.stdout


def item_names(entries: list[dict[str, Any]]) -> list[tuple[str | None, dict[str, Any]]]:
    """How to name each entry of `resolve` for the importer: its path, or its id
    where several items share the path (an id the SDK made up itself, for a
    collection without ids, names nothing: those entries are left out)."""
    paths = ["/".join(e["path"]) for e in entries]
    named: list[tuple[str | None, dict[str, Any]]] = []
    for path, entry in zip(paths, entries, strict=True):
        if paths.count(path) == 1:
            named.append((path or None, entry))
        elif entry.get("has_id"):
            named.append((entry["id"], entry))
    return named


def agrees(postman: dict[str, Any] | None, scheme: Scheme) -> int:
    """Assert that `scheme` says what Postman's SDK says (`postman`: its auth
    with variables replaced, or None); the number of fields compared."""
    if postman is None or postman["type"] not in TYPES:
        assert scheme.auth_type is None, (postman, scheme)
        return 0
    params: dict[str, Any] = postman["params"]
    grant = params.get("grant_type") or "authorization_code"
    if postman["type"] == "oauth2" and grant == "implicit":
        assert scheme.auth_type is None and "implicit" in (scheme.unsupported or "")
        return 0
    assert scheme.auth_type == TYPES[postman["type"]], (postman, scheme)
    fields = dict(FIELDS[postman["type"]])
    if postman["type"] == "oauth2":
        fields.update({k: where for k, (grants, where) in GRANT_FIELDS.items() if grant in grants})
    secrets = {s.kind: s.value for s in scheme.secrets}
    compared = 0
    for key, (kind, name) in fields.items():
        value = params.get(key)
        ours = scheme.settings.get(name) if kind == "setting" else secrets.get(name)
        if key == "in" and not value:
            value = "header"  # Postman's default
        if not isinstance(value, str) or value == "":
            assert ours is None, (key, postman, scheme)
        elif "{{" in value:
            assert ours is None, (key, postman, scheme)
            assert set(scheme.unresolved) >= {v.split("}}")[0] for v in value.split("{{")[1:]}
        else:
            assert ours == value, (key, value, ours)
        compared += 1
    return compared
