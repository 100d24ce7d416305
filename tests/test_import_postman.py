"""Reading the auth of Postman collections v2.1 and v2.0 with an environment
(astra_auth.imports.postman): each auth type, inheritance through folders,
variables, found secrets, and collections that cannot be used.  Every item of
the test collections is also checked against what Postman's own SDK resolves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from astra_auth.imports.model import DocumentError, Imported, Scheme
from astra_auth.imports.postman import read_postman
from tests.postman_tools import DOCUMENTS, agrees, item_names, resolve

V21 = str(DOCUMENTS / "collection-v2.1.json")
ENV = str(DOCUMENTS / "environment.json")
V20 = str(DOCUMENTS / "collection-v2.0.json")
ENV20 = str(DOCUMENTS / "environment-v2.0.json")
# Every secret the test collections and environments hold.
SECRETS = ["cs-Zq4sN8vB3kTw", "ap-Lm5xQ9rD2hGv", "Xc7Vb2Nm4Qw8", "rot-4f9c2b7e1d",
           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "dg-7Hq2wLm9Zx", "up-Rt6yU8iO0pAs",
           "lg-Pq8rT5vW2y", "eyJhbGciOiJub25lIn0.eyJjYWNoZWQiOnRydWV9.", "v20-Hs3kLq8wPz",
           "pk-Wd5nJ7cX1vBa", "bot-Ux5vW7yZ9aBc", "bs-Tg4hY6uJ8kLo", "br-Mn3bV5cX7zAs",
           "dp-Qa2wS4eD6rFt", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "st-Yh7uJ9kI1oLp"]
LOOPBACK_NOTE = ("astra-auth receives the authorization code on a loopback redirect "
                 "(http://127.0.0.1:PORT/…, RFC 8252 §7.3): the provider must allow it for "
                 "this client.")


def one(imported: Imported) -> Scheme:
    (scheme,) = imported.schemes
    return scheme


def secrets(scheme: Scheme) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {s.kind: (s.value, s.found_in) for s in scheme.secrets}


def refused(*args, **kwargs) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        read_postman(*args, **kwargs)
    return caught.value


def write(tmp_path: Path, name: str, data: object) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def collection(auth: object = None, items: list | None = None, variables: list | None = None,
               version: str = "v2.1.0") -> dict:
    data: dict = {"info": {"name": "t", "schema": "https://schema.getpostman.com/json/collection/"
                                                  f"{version}/collection.json"},
                  "item": items or []}
    if auth is not None:
        data["auth"] = auth
    if variables is not None:
        data["variable"] = variables
    return data


# --- v2.1: the collection's auth and what its items inherit -------------------------


def test_the_collection_oauth2_auth_with_variables_from_collection_and_environment():
    doc = read_postman(V21, ENV)
    assert doc.format == "Postman collection v2.1"
    # baseUrl = https://{{apiHost}}/v2; the environment's apiHost wins over the collection's.
    assert doc.url == "https://api.payments.example.com/v2"
    scheme = one(doc)
    assert scheme.name == ""
    assert scheme.auth_type == "oauth2"
    assert dict(scheme.settings) == {
        "grant_type": "client_credentials",
        # {{idp}} from the collection: the environment's row is disabled.
        "token_url": "https://idp.staging.example.com/oauth2/token",
        "client_id": "payments-scanner",
        "client_auth": "post",  # client_authentication: body
        "scope": "payments:read payments:write",
        "audience": "https://api.example.com",
        "extra_params": {"resource": "https://api.payments.example.com/v2"}}
    assert secrets(scheme) == {"client_secret": ("cs-Zq4sN8vB3kTw", (ENV,))}
    assert scheme.notes == (
        "The token request parameter 'x-trace' goes into a header or the URL in Postman; "
        "astra-auth sends extra parameters in the body only, so it is left out.",)
    assert scheme.description == ("OAuth 2.0 Client Credentials: token URL "
                                  "https://idp.staging.example.com/oauth2/token")


def test_a_token_postman_cached_in_the_collection_is_not_imported_but_flagged():
    doc = read_postman(V21, ENV)
    assert doc.holds_secrets
    # The collection holds the cached access token, the environment the client secret.
    assert doc.files_with_secrets == (V21, ENV)
    assert doc.notes == ("The collection holds an OAuth 2.0 accessToken from an earlier run of "
                         "Postman; it is not imported (astra-auth obtains its own), but anyone "
                         "who can read the file can use it until it expires.",)
    assert "eyJhbGciOiJub25lIn0" not in repr(doc)


def test_a_request_without_auth_inherits_the_collection_auth():
    scheme = one(read_postman(V21, ENV, "List payments"))
    assert scheme.settings["grant_type"] == "client_credentials"
    assert scheme.description.endswith(" (inherited from the collection)")


def test_a_folder_auth_is_inherited_by_its_requests():
    scheme = one(read_postman(V21, ENV, "Admin/Audit log"))
    assert (scheme.auth_type, dict(scheme.settings)) == ("basic", {"username": "auditor"})
    assert secrets(scheme) == {"password": ("ap-Lm5xQ9rD2hGv", (ENV,))}
    assert scheme.description == "Basic: a username and password (inherited from folder 'Admin')"


def test_no_auth_on_a_request_stops_inheritance_and_says_there_is_nothing_to_import():
    scheme = one(read_postman(V21, ENV, "Admin/Health"))
    assert scheme.auth_type is None
    assert scheme.unsupported == ("'Admin/Health' uses no auth (Postman's No Auth): there is "
                                  "nothing to import; name a folder or request that has an auth")


def test_an_api_key_in_the_query_built_partly_from_a_variable():
    doc = read_postman(V21, ENV, "Admin/Keys/Search")
    scheme = one(doc)
    assert (scheme.auth_type, dict(scheme.settings)) == ("api_key", {"name": "api_key",
                                                                     "location": "query"})
    # k-{{keySuffix}}: part written in the collection, part in the environment.
    assert secrets(scheme) == {"api_key": ("k-Xc7Vb2Nm4Qw8", (V21, ENV))}
    assert doc.files_with_secrets == (V21, ENV)


def test_a_bearer_token_written_in_the_collection():
    doc = read_postman(V21, ENV, "item-rotate")  # an item's id names it too
    scheme = one(doc)
    assert (scheme.auth_type, dict(scheme.settings)) == ("bearer", {})
    assert secrets(scheme) == {"bearer_token": ("rot-4f9c2b7e1d", (V21,))}
    assert doc.files_with_secrets == (V21,)


def test_aws_signature_settings_and_secrets_and_the_request_origin_as_url():
    doc = read_postman(V21, ENV, "Signed/AWS")
    scheme = one(doc)
    assert scheme.auth_type == "aws_sigv4"
    # {{region}}: the collection's disabled row is skipped for the enabled one.
    assert dict(scheme.settings) == {"access_key_id": "AKIAIOSFODNN7EXAMPLE",
                                     "region": "eu-central-1", "service": "execute-api"}
    # An empty session token is no secret.
    assert secrets(scheme) == {
        "secret_access_key": ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", (ENV,))}
    # The request does not use {{baseUrl}}: its own origin is the API's URL.
    assert doc.url == "https://abc123.execute-api.eu-central-1.amazonaws.com"


def test_digest_with_an_algorithm_astra_auth_does_not_answer_says_so():
    scheme = one(read_postman(V21, ENV, "Signed/Digest"))
    assert (scheme.auth_type, dict(scheme.settings)) == ("digest", {"username": "scanner"})
    assert secrets(scheme) == {"password": ("dg-7Hq2wLm9Zx", (V21,))}
    assert scheme.notes == ("Postman is set to the digest algorithm 'SHA-512-256'; astra-auth "
                            "answers the API's challenge with MD5 or SHA-256 (and their -sess "
                            "forms).",)


def test_an_auth_type_astra_auth_lacks_is_named_with_what_it_imports():
    scheme = one(read_postman(V21, ENV, "Signed/OAuth 1"))
    assert scheme.auth_type is None
    assert scheme.unsupported == (
        "item[2].item[2].request.auth: Postman's OAuth 1.0 auth is not supported; astra-auth "
        "imports Postman's OAuth 2.0, Basic, Bearer Token, API Key, AWS Signature and Digest "
        "auth.")
    assert scheme.secrets == ()


def test_password_credentials_become_the_password_grant_with_both_secrets():
    scheme = one(read_postman(V21, ENV, "Users/As a user"))
    assert dict(scheme.settings) == {
        "grant_type": "password", "token_url": "https://idp.staging.example.com/oauth2/token",
        "client_id": "payments-scanner", "client_auth": "basic", "username": "jane.doe"}
    assert secrets(scheme) == {"client_secret": ("cs-Zq4sN8vB3kTw", (ENV,)),
                               "password": ("up-Rt6yU8iO0pAs", (ENV,))}


def test_authorization_code_with_pkce_and_no_secret_is_a_public_client():
    scheme = one(read_postman(V21, ENV, "Users/In a browser"))
    assert dict(scheme.settings) == {
        "grant_type": "authorization_code",
        "token_url": "https://idp.staging.example.com/oauth2/token",
        "authorization_url": "https://idp.staging.example.com/oauth2/authorize",
        "client_id": "payments-web", "client_auth": "none", "scope": "openid payments:read"}
    assert scheme.secrets == ()
    assert scheme.notes == (LOOPBACK_NOTE,)


def test_the_implicit_grant_is_named_with_what_is_supported_instead():
    scheme = one(read_postman(V21, ENV, "Users/Implicit"))
    assert scheme.auth_type is None
    assert scheme.unsupported.startswith("the OAuth 2.0 implicit flow is not supported")
    assert "authorization code flow (with PKCE) instead" in scheme.unsupported


def test_an_undefined_variable_is_reported_and_its_field_left_to_ask():
    doc = read_postman(V21, ENV, "Users/Unresolved")
    scheme = one(doc)
    assert scheme.auth_type == "bearer"
    assert scheme.secrets == ()
    assert scheme.unresolved == ("tokenFromCi",)
    assert scheme.notes == ("token uses {{tokenFromCi}}, which neither the collection nor the "
                            "environment defines: it is asked for.",)
    assert not doc.holds_secrets


def test_without_the_environment_its_variables_are_unresolved():
    scheme = one(read_postman(V21))
    assert scheme.unresolved == ("clientSecret",)
    assert "client_secret" not in secrets(scheme)
    # The collection's own apiHost is used for baseUrl.
    assert read_postman(V21).url == "https://staging.payments.example.com/v2"


def test_an_item_name_holding_a_slash_is_found():
    # Slashes around a path are ignored where no name starts or ends with one.
    assert one(read_postman(V21, ENV, "/Admin/")).auth_type == "basic"
    scheme = one(read_postman(V21, ENV, "v1/legacy"))
    assert (scheme.auth_type, dict(scheme.settings)) == ("basic", {"username": "legacy"})
    # A v2.0-style object of parameters is read in a v2.1 collection too.
    assert secrets(scheme) == {"password": ("lg-Pq8rT5vW2y", (V21,))}


# --- v2.0 ---------------------------------------------------------------------------


def test_v20_collection_auth_with_object_parameters():
    doc = read_postman(V20, ENV20)
    assert doc.format == "Postman collection v2.0"
    assert doc.url == "https://inventory.example.com"  # the one origin of its requests
    scheme = one(doc)
    assert dict(scheme.settings) == {
        "grant_type": "authorization_code", "token_url": "https://auth.example.com/token",
        "authorization_url": "https://auth.example.com/authorize",
        # The environment's clientId row is disabled: the collection's value holds.
        "client_id": "inventory-web", "client_auth": "basic", "scope": "stock:read"}
    assert secrets(scheme) == {"client_secret": ("v20-Hs3kLq8wPz", (V20,))}


@pytest.mark.parametrize(("item", "auth_type", "settings", "found"), [
    ("Partners/Orders", "api_key", {"name": "X-Partner", "location": "header"},
     {"api_key": ("pk-Wd5nJ7cX1vBa", (V20,))}),
    ("Partners/Machine", "oauth2", {"grant_type": "client_credentials",
                                    "token_url": "https://auth.example.com/token",
                                    "client_id": "inventory-bot", "client_auth": "basic"},
     {"client_secret": ("bot-Ux5vW7yZ9aBc", (ENV20,))}),
    ("Partners/Basic", "basic", {"username": "acme"}, {"password": ("bs-Tg4hY6uJ8kLo", (V20,))}),
    ("Partners/Bearer", "bearer", {}, {"bearer_token": ("br-Mn3bV5cX7zAs", (V20,))}),
    ("Partners/Digest", "digest", {"username": "dig"}, {"password": ("dp-Qa2wS4eD6rFt", (V20,))}),
    ("Partners/AWS", "aws_sigv4", {"access_key_id": "AKIAI44QH8DHBEXAMPLE",
                                   "region": "us-east-1", "service": "s3"},
     {"secret_access_key": ("je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", (V20,)),
      "session_token": ("st-Yh7uJ9kI1oLp", (V20,))}),
    ("Partners/Hawk", None, {}, {}),
])
def test_v20_each_auth_type(item, auth_type, settings, found):
    scheme = one(read_postman(V20, ENV20, item))
    assert (scheme.auth_type, dict(scheme.settings), secrets(scheme)) == (auth_type, settings,
                                                                          found)


# --- what Postman's own SDK says ----------------------------------------------------------


@pytest.mark.parametrize(("path", "env", "fields"), [(V21, ENV, 40), (V21, None, 40),
                                                     (V20, ENV20, 25), (V20, None, 25)])
def test_every_item_agrees_with_postman_sdk(path, env, fields):
    compared = 0
    entries = item_names(resolve(Path(path), Path(env) if env else None))
    for item, entry in entries:
        compared += agrees(entry["auth"], one(read_postman(path, env, item)))
    assert len(entries) >= 10 and compared >= fields


# --- collections that cannot be used ------------------------------------------------------


def test_a_v1_collection_is_refused_with_how_to_export_v21(tmp_path):
    path = write(tmp_path, "v1.json", {"id": "x", "name": "old", "order": [], "requests": []})
    error = refused(path)
    assert str(error) == f"{path}: a Postman collection in the old v1 format"
    assert error.hints == ["Export it again as Collection v2.1 (in Postman: the collection's "
                           "… menu, Export, Collection v2.1)."]


def test_wrong_kinds_of_file_are_named(tmp_path):
    error = refused(str(DOCUMENTS / "openapi-3.1.json"))
    assert str(error) == (f"{DOCUMENTS / 'openapi-3.1.json'}: this is an OpenAPI document, not a "
                          "Postman collection")
    assert error.hints == ["Import it with --from-openapi."]
    assert str(refused(ENV)) == f"{ENV}: this is a Postman environment, not a collection"
    path = write(tmp_path, "other.json", {"name": "x"})
    assert str(refused(path)) == f"{path}: not a Postman collection (it has no `info`)"
    assert str(refused(V21, V20)) == f"{V20}: this is a Postman collection, not an environment"
    path = write(tmp_path, "v3.json", collection(version="v3.0.0"))
    assert str(refused(path)) == (f"{path}: not a Postman collection v2.1 or v2.0 (info.schema is "
                                  "'https://schema.getpostman.com/json/collection/v3.0.0/"
                                  "collection.json')")


def test_an_item_that_does_not_exist_lists_the_top_level():
    error = refused(V21, ENV, "Admin/Nope")
    assert str(error) == f"{V21}: no item 'Admin/Nope'"
    assert error.hints == ["Name a folder or request by its path, its names separated by '/' "
                           "(the collection's top level: 'List payments', 'Admin', 'Signed', "
                           "'Users', 'v1/legacy'), or by its id."]


def test_two_items_of_the_same_name_are_told_apart_by_id(tmp_path):
    request = {"request": {"method": "GET", "url": "https://api.example.com/pets"}}
    path = write(tmp_path, "twice.json", collection(items=[
        {"name": "pets", "item": [{"id": "get-pets", "name": "/pets", **request},
                                  {"id": "post-pets", "name": "/pets", **request}]}]))
    error = refused(path, None, "pets//pets")
    assert str(error) == f"{path}: 2 items are named 'pets//pets'"
    assert error.hints == ["Name one by its id: get-pets, post-pets."]
    assert one(read_postman(path, None, "post-pets")).name == "post-pets"


def test_an_auth_of_the_wrong_shape_says_its_json_path(tmp_path):
    path = write(tmp_path, "shape.json", collection(items=[
        {"name": "a", "request": {"url": "https://x.example", "auth": {"type": "basic",
                                                                       "basic": "user:pw"}}}]))
    assert str(refused(path, None, "a")) == (f"{path}: item[0].request.auth.basic: expected a "
                                             "list or an object, found text")
    path = write(tmp_path, "shape2.json", collection(auth=["basic"]))
    assert str(refused(path)) == f"{path}: auth: expected an object, found a list"


def test_variables_that_expand_without_end_are_refused(tmp_path):
    # Each level doubles: 2**40 characters if expanded.
    variables = [{"key": "v0", "value": "xxxxxxxx"}]
    variables += [{"key": f"v{i}", "value": f"{{{{v{i - 1}}}}}{{{{v{i - 1}}}}}"}
                  for i in range(1, 41)]
    path = write(tmp_path, "bomb.json", collection(
        auth={"type": "bearer", "bearer": [{"key": "token", "value": "{{v40}}"}]},
        variables=variables))
    assert str(refused(path)) == (f"{path}: auth.bearer.token: its variables expand to more "
                                  "than 64 KiB of text")


def test_variables_that_refer_to_each_other_stay_unresolved(tmp_path):
    path = write(tmp_path, "loop.json", collection(
        auth={"type": "basic", "basic": [{"key": "username", "value": "{{a}}"}]},
        variables=[{"key": "a", "value": "{{b}}"}, {"key": "b", "value": "{{a}}"}]))
    scheme = one(read_postman(path))
    assert "username" not in scheme.settings
    assert set(scheme.unresolved) <= {"a", "b"} and scheme.unresolved


def test_an_auth_of_type_inherit_is_taken_from_the_parent(tmp_path):
    path = write(tmp_path, "inherit.json", collection(
        auth={"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}"}]},
        items=[{"name": "f", "auth": {"type": "inherit"}, "item": [
            {"name": "r", "request": {"url": "https://api.example.com/r",
                                      "auth": {"type": "inherit"}}}]}]))
    scheme = one(read_postman(path, None, "f/r"))
    assert scheme.auth_type == "bearer"
    assert scheme.description == "Bearer token, issued elsewhere (inherited from the collection)"


def test_an_insecure_token_url_makes_the_auth_unusable(tmp_path):
    path = write(tmp_path, "plain.json", collection(auth={"type": "oauth2", "oauth2": [
        {"key": "grant_type", "value": "client_credentials"},
        {"key": "accessTokenUrl", "value": "http://idp.example.com/token"}]}))
    assert one(read_postman(path)).unsupported == (
        "auth.oauth2.accessTokenUrl: the token URL must use https: credentials would cross the "
        "network in clear text (plain http is accepted only for loopback hosts)")


# --- secrets stay out of everything shown ---------------------------------------------------


def test_no_secret_appears_in_any_repr_description_note_or_message():
    shown = []
    for path, env in ((V21, ENV), (V20, ENV20)):
        for item, _ in item_names(resolve(Path(path), Path(env))):
            doc = read_postman(path, env, item)
            scheme = one(doc)
            shown += [repr(doc), scheme.description, scheme.unsupported or "", *scheme.notes,
                      *doc.notes, json.dumps({k: v for k, v in scheme.settings.items()})]
    text = "\n".join(shown)
    for secret in SECRETS:
        assert secret[:8] not in text, secret
