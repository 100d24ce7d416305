"""Collections nobody here wrote: Postman's own converter (openapi-to-postmanv2)
turns the test OpenAPI documents and two public API descriptions into v2.1
collections, Postman's collection SDK loads them, and its transformer writes
them again as v2.0.  Each is then imported (astra_auth.imports.postman) and
checked against what the SDK resolves, item by item, and against what the
OpenAPI import of the same document says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from astra_auth.imports.document import Loaded
from astra_auth.imports.model import Imported
from astra_auth.imports.openapi import read_openapi
from astra_auth.imports.postman import from_collection
from tests.postman_tools import (
    BLOCKFROST,
    DOCUMENTS,
    FIGMA,
    agrees,
    convert,
    item_names,
    public_document,
    resolve,
)

# The conversion takes about 10 s, once per process (per xdist worker).
pytestmark = pytest.mark.slow

SOURCES = {
    "openapi-3.0": DOCUMENTS / "openapi-3.0.yaml",
    "openapi-3.1": DOCUMENTS / "openapi-3.1.json",
    "swagger-2.0": DOCUMENTS / "swagger-2.0.json",
    "swagger-2.0-yaml": DOCUMENTS / "swagger-2.0.yaml",
    "figma": FIGMA,
    "blockfrost": BLOCKFROST,
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    public_document(FIGMA)
    public_document(BLOCKFROST)
    out = tmp_path_factory.mktemp("converted")
    convert(out, SOURCES)
    return out


# Each converted collection, parsed once (Figma's is 2 MB, read for each of its items).
PARSED: dict[Path, Loaded] = {}


def imported(path: Path, item: str | None = None) -> Imported:
    if path not in PARSED:
        PARSED[path] = Loaded(json.loads(path.read_text()), str(path))
    return from_collection(PARSED[path], None, item)


@pytest.mark.parametrize("version", ["v21", "v20"])
@pytest.mark.parametrize("name", list(SOURCES))
def test_every_converted_item_agrees_with_postman_sdk(converted, name, version):
    path = converted / f"{name}.{version}.json"
    data = json.loads(path.read_text())
    assert data["info"]["schema"] == ("https://schema.getpostman.com/json/collection/"
                                      f"{'v2.1.0' if version == 'v21' else 'v2.0.0'}/"
                                      "collection.json")
    entries = item_names(resolve(path))
    assert entries
    for item, entry in entries:
        agrees(entry["auth"], imported(path, item).schemes[0])


@pytest.mark.parametrize("name", ["openapi-3.0", "openapi-3.1", "figma", "blockfrost"])
def test_the_converted_collection_has_the_url_the_openapi_import_finds(converted, name):
    expected = read_openapi(str(SOURCES[name])).url
    assert expected is not None
    assert imported(converted / f"{name}.v21.json").url == expected
    assert imported(converted / f"{name}.v20.json").url == expected


def test_swagger_20_converted_takes_the_first_scheme_where_the_openapi_import_prefers_https(
        converted):
    # Postman's converter builds baseUrl from schemes[0] (http), which is not
    # loopback, so the collection gives no API URL (it is asked for);
    # astra-auth picks https when the document lists it.
    assert imported(converted / "swagger-2.0.v21.json").url is None
    assert read_openapi(str(SOURCES["swagger-2.0"])).url == (
        "https://inventory.example.com:8443/api/v1")


@pytest.mark.parametrize("name", list(SOURCES))
def test_each_converted_auth_is_one_the_openapi_import_also_finds(converted, name):
    schemes = read_openapi(str(SOURCES[name])).usable()
    oauth = {(s.settings.get("grant_type"), s.settings.get("token_url"))
             for s in schemes if s.auth_type == "oauth2"}
    keys = {(s.settings["name"], s.settings["location"]) for s in schemes
            if s.auth_type == "api_key"}
    types = {s.auth_type for s in schemes}
    path = converted / f"{name}.v21.json"
    seen = 0
    for item, _ in item_names(resolve(path)):
        scheme = imported(path, item).schemes[0]
        if not scheme.usable:
            continue
        seen += 1
        assert scheme.auth_type in types
        if scheme.auth_type == "oauth2":
            assert (scheme.settings["grant_type"], scheme.settings["token_url"]) in oauth
        if scheme.auth_type == "api_key":
            assert (scheme.settings["name"], scheme.settings["location"]) in keys
    assert seen or name == "openapi-3.1"  # the converter knows neither mutualTLS nor 3.1's refs


def test_converted_openapi_30_first_flow_implicit_is_named_and_basic_is_left_to_ask(converted):
    path = converted / "openapi-3.0.v21.json"
    # The converter takes the first flow of the global requirement's scheme: implicit.
    collection = imported(path).schemes[0]
    assert collection.auth_type is None
    assert collection.unsupported.startswith("the OAuth 2.0 implicit flow is not supported")
    legacy = next(item for item, entry in item_names(resolve(path)) if entry["path"] == ["/legacy"])
    scheme = imported(path, legacy).schemes[0]
    assert scheme.auth_type == "basic"
    # The converter leaves the credentials to variables it does not define.
    assert scheme.unresolved == ("basicAuthUsername", "basicAuthPassword")
    assert scheme.secrets == ()


def test_converted_figma_requests_carry_the_personal_access_token_header(converted):
    # Each Figma operation lists PersonalAccessToken first among its
    # alternatives; the converter keeps only the first.
    path = converted / "figma.v21.json"
    found = {}
    for item, _ in item_names(resolve(path)):
        scheme = imported(path, item).schemes[0]
        if scheme.usable:
            found.setdefault(scheme.auth_type, scheme)
    assert set(found) == {"api_key"}
    assert dict(found["api_key"].settings) == {"name": "X-Figma-Token", "location": "header"}
    # The converter leaves the key's value to a variable it does not define.
    assert found["api_key"].unresolved == ("apiKey",)
