"""`astra-auth configure`'s options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from astra_auth.core import validate
from astra_auth.core.cli_params import Argument, Option


@dataclass(frozen=True)
class ConfigureOptions:
    """`astra-auth configure`'s options, in the order its help lists them."""

    name: Annotated[str | None, Argument(
        help="Target to configure (created if new).", target_names=True)] = None
    auth_type: Annotated[str | None, Option(
        "--auth-type", metavar="TYPE", choices=validate.AUTH_TYPES,
        help="oauth2 (the default), basic, bearer, api_key, jwt, aws_sigv4, http_signature "
        "or digest.")] = None
    grant_type: Annotated[str | None, Option(
        "--grant-type", metavar="GRANT", choices=validate.GRANT_TYPES,
        help="client_credentials, password, device_code or authorization_code.")] = None
    token_url: Annotated[str | None, Option(
        "--token-url", metavar="URL", help="The Access Token URL (https).")] = None
    issuer: Annotated[str | None, Option(
        "--issuer", metavar="URL",
        help="Instead of --token-url: read it from the issuer's discovery document.")] = None
    client_id: Annotated[str | None, Option(
        "--client-id", metavar="ID", help="The client ID.")] = None
    client_secret_stdin: Annotated[bool, Option(
        "--client-secret-stdin", help="Read the client secret from stdin.")] = False
    client_secret: Annotated[str | None, Option(
        "--client-secret", metavar="SECRET",
        help="The client secret (visible to other users: prefer --client-secret-stdin or "
        "ASTRA_AUTH_CLIENT_SECRET).")] = field(default=None, repr=False)
    username: Annotated[str | None, Option(
        "--username", metavar="USER",
        help="Username (oauth2's password grant, basic, digest).")] = None
    password_stdin: Annotated[bool, Option(
        "--password-stdin", help="Read the password from stdin.")] = False
    password: Annotated[str | None, Option(
        "--password", metavar="PASSWORD",
        help="The password (visible to other users: prefer --password-stdin or "
        "ASTRA_AUTH_PASSWORD).")] = field(default=None, repr=False)
    scope: Annotated[str | None, Option("--scope", help="Scope to request.")] = None
    audience: Annotated[str | None, Option("--audience", help="Audience to request.")] = None
    client_auth: Annotated[str | None, Option(
        "--client-auth", metavar="METHOD", choices=validate.CLIENT_AUTH_METHODS,
        help="basic (HTTP Basic, default), post (form body), private_key_jwt, "
        "tls_client_auth or none (a public client).")] = None
    secrets: Annotated[str | None, Option(
        "--secrets", metavar="keyring|env", choices=validate.SECRET_MODES,
        help="keyring (default) or env: store nothing, read ASTRA_AUTH_<TARGET>_CLIENT_SECRET "
        "(or ASTRA_AUTH_CLIENT_SECRET), and likewise each other secret, at run time.")] = None
    url: Annotated[str | None, Option(
        "--url", metavar="URL", help="URL of the API under test.")] = None
    # What the API's own documents say: their values fill in every setting no
    # flag gives (commands/configure/from_document.py).
    from_openapi: Annotated[str | None, Option(
        "--from-openapi", metavar="FILE_OR_URL",
        help="Take the URL and the auth from an OpenAPI 3.x or Swagger 2.0 document (JSON "
        "or YAML); flags given win over it.")] = None
    scheme: Annotated[str | None, Option(
        "--scheme", metavar="SCHEME",
        help="--from-openapi: the security scheme to use when the document has several "
        "(its name, or NAME:FLOW for one OAuth 2.0 flow).")] = None
    from_postman: Annotated[Path | None, Option(
        "--from-postman", metavar="COLLECTION.json",
        help="Take the URL and the auth from a Postman collection (v2.1 or v2.0); flags "
        "given win over it; secrets in it go to the keyring.")] = None
    environment: Annotated[Path | None, Option(
        "--environment", metavar="ENV.json",
        help="--from-postman: a Postman environment for the collection's "
        "{{variables}}.")] = None
    item: Annotated[str | None, Option(
        "--item", metavar="PATH",
        help="--from-postman: the folder or request whose auth to use (names separated by "
        "'/', or its id); default: the collection's.")] = None
    test: Annotated[bool, Option(
        "--test", help="Run test-token after saving; exit with its code.")] = False
    no_input: Annotated[bool, Option(
        "--no-input", help="Never prompt; fail on a missing value.")] = False
    # basic uses --username and --password above; the other types' own flags:
    token_stdin: Annotated[bool, Option(
        "--token-stdin", help="bearer: read the token from stdin.")] = False
    key_name: Annotated[str | None, Option(
        "--key-name", metavar="NAME",
        help="api_key: the header, query parameter or cookie name.")] = None
    key_location: Annotated[str | None, Option(
        "--key-location", metavar="WHERE", choices=validate.KEY_LOCATIONS,
        help="api_key: header (default), query or cookie.")] = None
    api_key_stdin: Annotated[bool, Option(
        "--api-key-stdin", help="api_key: read the key from stdin.")] = False
    algorithm: Annotated[str | None, Option(
        "--algorithm", metavar="ALG",
        choices=validate.JWT_ALGORITHMS + validate.HTTP_SIGNATURE_ALGORITHMS,
        help="jwt: HS256, HS384, HS512, RS256, PS256 or ES256; http_signature: ed25519, "
        "ecdsa-p256-sha256, rsa-pss-sha512, rsa-v1_5-sha256 or hmac-sha256.")] = None
    signing_key_stdin: Annotated[bool, Option(
        "--signing-key-stdin",
        help="jwt, http_signature: read the HMAC secret or PEM private key from stdin.")] = False
    signing_key_file: Annotated[Path | None, Option(
        "--signing-key-file", metavar="PATH",
        help="jwt, http_signature: a PEM private key file, read once into the keyring.")] = None
    claims: Annotated[tuple[str, ...], Option(
        "--claim", metavar="NAME=VALUE",
        help="jwt: a claim NAME=VALUE (repeatable; replaces the stored claims).")] = ()
    lifetime: Annotated[int | None, Option(
        "--lifetime", metavar="SECONDS",
        help="jwt: seconds until exp; http_signature: seconds until the signature's expires "
        "(default 300).")] = None
    header_name: Annotated[str | None, Option(
        "--header-name", metavar="HEADER",
        help="jwt: the header (default Authorization).")] = None
    prefix: Annotated[str | None, Option(
        "--prefix", help='jwt: before the token (default Bearer; "" for none).')] = None
    # Client authentication with a key (private_key_jwt, tls_client_auth).
    private_key_file: Annotated[Path | None, Option(
        "--private-key-file", metavar="PATH",
        help="private_key_jwt, tls_client_auth: the client's PEM private key, read once into "
        "the keyring.")] = None
    private_key_stdin: Annotated[bool, Option(
        "--private-key-stdin", help="Read that PEM private key from stdin.")] = False
    certificate: Annotated[str | None, Option(
        "--certificate", metavar="PATH",
        help="The client's PEM certificate (a path kept in the config): tls_client_auth, or "
        "x5t#S256 for private_key_jwt.")] = None
    assertion_alg: Annotated[str | None, Option(
        "--assertion-alg", metavar="ALG", choices=validate.ASSERTION_ALGORITHMS,
        help="private_key_jwt: RS256, PS256 or ES256.")] = None
    assertion_audience: Annotated[str | None, Option(
        "--assertion-audience", metavar="URL",
        help="private_key_jwt: the assertion's aud (default: the token URL, or the provider's "
        "own rule).")] = None
    assertion_kid: Annotated[str | None, Option(
        "--assertion-kid", metavar="KID",
        help="private_key_jwt: the kid the provider registered the key under (default: the "
        "key's RFC 7638 thumbprint; \"\" goes back to it).")] = None
    params: Annotated[tuple[str, ...], Option(
        "--param", metavar="NAME=VALUE",
        help="An extra token parameter NAME=VALUE (repeatable; replaces the stored ones), "
        "e.g. resource=https://api.example.com.")] = ()
    certificate_bound: Annotated[bool | None, Option(
        "--certificate-bound/--no-certificate-bound",
        help="Tokens are bound to the client certificate (RFC 8705): present it to the API "
        "too (proxy, API check, ssl_context_for).")] = None
    # Every type: the target's own CA bundle and timeout.
    ca_bundle: Annotated[Path | None, Option(
        "--ca-bundle", metavar="PATH",
        help="Extra CA certificates (PEM) to trust for this target, saved for every "
        "command.")] = None
    timeout: Annotated[float | None, Option(
        "--timeout", metavar="SECONDS", min=0.001,
        help="Seconds per network exchange for this target, saved for every command "
        "(default 10).")] = None
    # device_code and authorization_code
    authorization_url: Annotated[str | None, Option(
        "--authorization-url", metavar="URL",
        help="authorization_code: the provider's authorization endpoint (default: from "
        "discovery).")] = None
    device_authorization_url: Annotated[str | None, Option(
        "--device-authorization-url", metavar="URL",
        help="device_code: the provider's device authorization endpoint (default: from "
        "discovery).")] = None
    # aws_sigv4 (AWS Signature Version 4)
    access_key_id: Annotated[str | None, Option(
        "--access-key-id", metavar="ID",
        help="aws_sigv4: the access key ID (AKIA…, or ASIA… with a session token).")] = None
    region: Annotated[str | None, Option(
        "--region", metavar="REGION", help="aws_sigv4: the region to sign for (eu-west-1).")
    ] = None
    service: Annotated[str | None, Option(
        "--service", metavar="SERVICE",
        help="aws_sigv4: the service to sign for (execute-api for API Gateway).")] = None
    secret_access_key_stdin: Annotated[bool, Option(
        "--secret-access-key-stdin",
        help="aws_sigv4: read the secret access key from stdin.")] = False
    session_token_stdin: Annotated[bool, Option(
        "--session-token-stdin",
        help="aws_sigv4: read the session token of temporary credentials from stdin (the "
        "line after the secret access key).")] = False
    # http_signature (RFC 9421); --algorithm, --signing-key-*, --lifetime above
    key_id: Annotated[str | None, Option(
        "--key-id", metavar="KEY_ID",
        help="http_signature: the key ID the API knows the key by (keyid).")] = None
    generate_key: Annotated[bool, Option(
        "--generate-key",
        help="http_signature: make a new key pair here (targets show gives the public key "
        "to register with the API).")] = False
    components: Annotated[tuple[str, ...], Option(
        "--component", metavar="COMPONENT",
        help="http_signature: a covered component (repeatable; replaces the stored ones; "
        "default @method @target-uri content-digest content-type).")] = ()
    label: Annotated[str | None, Option(
        "--label", metavar="LABEL", help="http_signature: the signature's label (default "
        "sig1).")] = None
    # oauth2: DPoP (RFC 9449)
    dpop: Annotated[bool | None, Option(
        "--dpop/--no-dpop",
        help="oauth2: bind tokens to a key made here with DPoP: every token and API request "
        "carries a proof.")] = None
    dpop_alg: Annotated[str | None, Option(
        "--dpop-alg", metavar="ALG", choices=validate.DPOP_ALGORITHMS,
        help="oauth2 with --dpop: the proof key's algorithm, ES256 (default), PS256, RS256 or "
        "EdDSA.")] = None
