"""`configure --from-openapi` and `--from-postman`: what the API's own documents say.

The document is read (`astra_auth.imports`), one of its ways to authenticate
chosen (the only one, `--scheme` or `--item`, or a pick-list at a terminal),
and what it says becomes option values, as if given as flags: the
walk-through then asks only what is still missing (the client ID, the
secrets), and in CI the flags and variables complete it.  A flag given wins
over the document.

- A scheme the document's reader could not map to an auth type carries its
  reason (`Scheme.unsupported`); it is listed as left out, never configured.
- A scheme's settings use the config's names; each becomes the option of the
  same name (`OPTION_NAMES`: the few whose flag is named otherwise).
- Secrets a Postman collection or environment holds are handed over as if
  given with the flags, so they go to the keyring; with `--secrets env` they
  are left to the variables.  Either way a warning says which file holds them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from astra_auth.commands.configure.options import ConfigureOptions, Given
from astra_auth.core import validate
from astra_auth.core.errors import UsageError
from astra_auth.imports.model import DocumentError, Imported, Scheme
from astra_auth.storage.config import Target
from astra_auth.text.safetext import clean

if TYPE_CHECKING:
    import httpx

    from astra_auth.deps import Deps
    from astra_auth.imports.document import Loaded

# The walk-through's question for a new target; Enter goes on as before.
QUESTION = ("Do you have the API's OpenAPI document or a Postman collection? "
            "(path, or Enter to type the settings)")
# A scheme's setting whose option is named otherwise than the config key.
OPTION_NAMES = {"name": "key_name", "location": "key_location", "extra_params": "params"}
# How many ways to authenticate a message lists before "…".
LISTED = 12


def check_import_flags(opts: ConfigureOptions) -> None:
    """The import flags fit together (usage errors otherwise)."""
    if opts.from_openapi is not None and opts.from_postman is not None:
        raise UsageError("--from-openapi and --from-postman cannot be used together: import "
                         "one document")
    if opts.scheme is not None and opts.from_openapi is None:
        raise UsageError("--scheme: only with --from-openapi (a Postman collection's auth is "
                         "chosen with --item)")
    for flag, value in (("--environment", opts.environment), ("--item", opts.item)):
        if value is not None and opts.from_postman is None:
            raise UsageError(f"{flag}: only with --from-postman")


def in_ci(opts: ConfigureOptions, targets: dict[str, Target], deps: Deps,
          given: Given) -> tuple[ConfigureOptions, Given]:
    """Without a terminal: the document the flags name, as option values and
    secrets given.  Nothing is asked: several ways to authenticate without
    `--scheme` (`--item`) are a usage error that names each."""
    if not _importing(opts) or opts.name is None:
        return opts, given
    imported = _read_named(opts, targets.get(opts.name), deps, interactive=False)
    return _settle(imported, opts, opts.name, targets, deps, given, interactive=False)


def at_terminal(opts: ConfigureOptions, name: str, targets: dict[str, Target], deps: Deps,
                given: Given) -> tuple[ConfigureOptions, Given]:
    """At a terminal, once the target is known: the document the flags name,
    or, for a target without auth and no flag of a type, the offer to read one."""
    existing = targets.get(name)
    if _importing(opts):
        imported = _read_named(opts, existing, deps, interactive=True)
        return _settle(imported, opts, name, targets, deps, given, interactive=True)
    if not _offered(opts, existing):
        return opts, given
    while True:
        answer = deps.prompter.text(QUESTION, default=None).strip()
        if not answer:
            return opts, given
        try:
            imported = _read_answer(answer, opts, existing, deps)
            # As if given with its flag: the steps know what was imported.
            read = (replace(opts, from_postman=Path(answer)) if _postman_format(imported)
                    else replace(opts, from_openapi=answer))
            return _settle(imported, read, name, targets, deps, given, interactive=True)
        except (DocumentError, UsageError) as exc:
            deps.io.warn(exc.message)
            for hint in exc.hints:
                deps.io.info(f"- {hint}")
            deps.io.info("Give another file or URL, or press Enter to type the settings.")


def _importing(opts: ConfigureOptions) -> bool:
    return opts.from_openapi is not None or opts.from_postman is not None


def _offered(opts: ConfigureOptions, existing: Target | None) -> bool:
    from astra_auth.commands.configure.options import type_flags_given

    return ((existing is None or existing.auth_type is None) and opts.auth_type is None
            and not type_flags_given(opts))


# ---------------------------------------------------------------------------
# Reading


def _client(opts: ConfigureOptions, existing: Target | None,
            deps: Deps) -> Callable[[], httpx.Client]:
    """Clients for a document fetched by URL, with the target's CA bundle and timeout."""
    from astra_auth.net.settings import DEFAULT_TIMEOUT, check_ca_bundle

    ca_bundle = opts.ca_bundle
    if ca_bundle is None and existing is not None and existing.ca_bundle:
        ca_bundle = Path(existing.ca_bundle).expanduser()
        check_ca_bundle(ca_bundle)
    timeout = opts.timeout or (existing.timeout if existing else None) or DEFAULT_TIMEOUT
    return lambda: deps.http_client(timeout, ca_bundle)


def _seconds(opts: ConfigureOptions) -> float:
    """The whole download of a document: `--timeout`, as one exchange, or 30 s."""
    from astra_auth.imports.document import FETCH_TIME

    return opts.timeout or FETCH_TIME


def _read_named(opts: ConfigureOptions, existing: Target | None, deps: Deps, *,
                interactive: bool) -> Imported:
    """The document `--from-openapi` or `--from-postman` names."""
    if opts.from_openapi is not None:
        from astra_auth.imports.openapi import read_openapi

        return read_openapi(opts.from_openapi, _client(opts, existing, deps),
                            seconds=_seconds(opts))
    from astra_auth.imports.document import Loaded, parse, read_file

    assert opts.from_postman is not None
    source = str(opts.from_postman)
    loaded = Loaded(parse(read_file(source), source, ".json"), source)
    return _postman(loaded, opts, deps, interactive=interactive)


def _read_answer(source: str, opts: ConfigureOptions, existing: Target | None,
                 deps: Deps) -> Imported:
    """The document typed at the walk-through's question: an OpenAPI document
    or a Postman collection (or environment, said to be one), by what it holds."""
    from astra_auth.imports import openapi
    from astra_auth.imports.document import load

    loaded = load(source, _client(opts, existing, deps), seconds=_seconds(opts))
    data = loaded.data
    if isinstance(data, dict) and "openapi" not in data and "swagger" not in data:
        if any(key in data for key in ("info", "item", "values", "requests")):
            return _postman(loaded, opts, deps, interactive=True)
        raise DocumentError(f"{loaded.name}: neither an OpenAPI document (it has no `openapi` "
                            "or `swagger` field) nor a Postman collection (no `info` and "
                            "`item`)")
    return openapi.from_document(loaded)


def _postman(loaded: Loaded, opts: ConfigureOptions, deps: Deps, *,
             interactive: bool) -> Imported:
    """The collection's auth (or `--item`'s), with `--environment`.  At a
    terminal an environment is offered when the auth uses variables that the
    collection does not define."""
    from astra_auth.imports.document import Loaded, parse, read_file

    def environment(path: str | None) -> Loaded | None:
        if path is None:
            return None
        return Loaded(parse(read_file(path), path, ".json"), path)

    env = environment(str(opts.environment) if opts.environment is not None else None)
    imported = _postman_auths(loaded, env, opts.item)
    unresolved = list(dict.fromkeys(n for s in imported.schemes for n in s.unresolved))
    if not (interactive and env is None and unresolved):
        return imported
    names = ", ".join("{{" + _shown(n, 60) + "}}" for n in unresolved[:3])
    while True:
        answer = deps.prompter.text(
            f"Postman environment file that defines {names} (Enter to type the values "
            "instead)", default=None).strip()
        if not answer:
            return imported
        try:
            return _postman_auths(loaded, environment(answer), opts.item)
        except DocumentError as exc:
            deps.io.warn(f"{exc.message}. Try again.")


def _postman_auths(collection: Loaded, environment: Loaded | None,
                   item: str | None) -> Imported:
    """The collection's auth; when astra-auth cannot use it and no item is
    named, also the auth of each folder and request that sets one (each auth
    once), to choose from as from an OpenAPI document's schemes; each of
    those with its own reading (its URL, notes and files), in `_WithItems.items`."""
    from astra_auth.imports.postman import from_collection, items_with_auth

    imported = from_collection(collection, environment, item)
    if item is not None or why_not(imported.schemes[0]) is None:
        return imported
    schemes = [imported.schemes[0]]
    per_item: dict[str, Imported] = {}
    labels: dict[str, str] = {}
    seen: set[str] = set()
    for name, shown in items_with_auth(collection):
        own = from_collection(collection, environment, name)
        scheme = own.schemes[0]
        key = repr((scheme.auth_type, sorted((k, str(v)) for k, v in scheme.settings.items()),
                    scheme.unsupported))
        if key not in seen:
            seen.add(key)
            schemes.append(scheme)
            per_item[name] = own
            labels[name] = shown
    return _WithItems(source=imported.source, format=imported.format, url=imported.url,
                      schemes=tuple(schemes), notes=imported.notes,
                      files_with_secrets=imported.files_with_secrets, items=per_item,
                      labels=labels)


@dataclass(frozen=True)
class _WithItems(Imported):
    """A collection read for a choice among its items' auths: `items` holds
    each item's own reading, `labels` where it is, by the name `--item` takes."""

    items: Mapping[str, Imported] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


def _of(imported: Imported, scheme: Scheme) -> Imported:
    """The reading that goes with `scheme`: its item's own, for an item's auth."""
    if isinstance(imported, _WithItems):
        return imported.items.get(scheme.name, imported)
    return imported


# ---------------------------------------------------------------------------
# Choosing a way to authenticate, and what it becomes


def _settle(imported: Imported, opts: ConfigureOptions, name: str,
            targets: dict[str, Target], deps: Deps, given: Given, *,
            interactive: bool) -> tuple[ConfigureOptions, Given]:
    scheme = _choose(imported, opts, deps, interactive)
    label = _label(imported, scheme)
    imported = _of(imported, scheme)
    merged = _merge(opts, _document_options(imported, scheme))
    _report(imported, label, scheme, deps, interactive)
    return merged, _file_secrets(imported, scheme, merged, name, targets.get(name), deps,
                                 given, interactive)


def why_not(scheme: Scheme) -> str | None:
    """Why `scheme` cannot be configured (None: it can), as the document's
    reader found it."""
    return scheme.unsupported


def _supported_labels() -> str:
    from astra_auth.commands.configure.auth_types import AUTH_TYPES

    labels = [validate.AUTH_LABELS.get(key, key) for key in AUTH_TYPES]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _postman_format(imported: Imported) -> bool:
    return imported.format.startswith("Postman")


def _flag(imported: Imported) -> str:
    """The flag that names one way to authenticate of this document."""
    return "--item" if _postman_format(imported) else "--scheme"


def _label(imported: Imported, scheme: Scheme) -> str:
    """A way to authenticate as lists name it: a scheme's id, or where in a
    collection its auth is."""
    if isinstance(imported, _WithItems) and scheme.name in imported.labels:
        return imported.labels[scheme.name]
    if _postman_format(imported):
        return f"item {_shown(scheme.name)!r}" if scheme.name else "the collection"
    return _shown(scheme.id)


def _fits(scheme: Scheme, opts: ConfigureOptions) -> bool:
    """`--auth-type` and `--grant-type` narrow the choice (a scheme without a
    grant, OpenID Connect's or mutual TLS's, takes the flag's)."""
    if opts.auth_type is not None and scheme.auth_type not in (None, opts.auth_type):
        return False
    grant = scheme.settings.get("grant_type")
    return opts.grant_type is None or grant is None or grant == opts.grant_type


def _choose(imported: Imported, opts: ConfigureOptions, deps: Deps,
            interactive: bool) -> Scheme:
    source = imported.source
    schemes = list(imported.schemes)
    if not schemes:
        raise UsageError(f"{source} describes no way to authenticate (it has no security "
                         "scheme)", hints=["Configure the auth with --auth-type and its flags "
                                           "instead."])
    if opts.scheme is not None:
        named = [s for s in schemes if s.matches(opts.scheme)]
        if not named:
            raise UsageError(f"--scheme {_shown(opts.scheme)}: {source} has no security scheme "
                             "of that name", hints=[_listed(imported, schemes)])
        schemes = named
    fitting = [s for s in schemes if _fits(s, opts)]
    usable = [s for s in fitting if why_not(s) is None]
    if not usable:
        raise _none_usable(imported, schemes, fitting, opts)
    left_out = [s for s in schemes if why_not(s) is not None]
    if len(usable) > 1 and not interactive:
        from astra_auth.text.shellcmd import quote

        flag = _flag(imported)
        raise UsageError(
            f"{source} describes {len(usable)} ways to authenticate: choose one with {flag} "
            "(not running interactively, so nothing is asked)",
            hints=[f"{flag} {quote(_shown(s.id, 200))}: {_described(imported, s)}"
                   for s in usable[:LISTED]]
            + ([_left_out(imported, left_out)] if left_out else []))
    if left_out:
        deps.io.info(_left_out(imported, left_out))
    if len(usable) == 1:
        return usable[0]
    from astra_auth.ui.prompter import Choice

    index = deps.prompter.select(
        f"{source} describes {len(usable)} ways to authenticate; which one should the "
        "scanner use?",
        [Choice(_label(imported, s), _shown(s.description, 160)) for s in usable], default=0)
    return usable[index]


def _described(imported: Imported, scheme: Scheme) -> str:
    """What a way to authenticate is, and where it is when its name does not say."""
    label = _label(imported, scheme)
    where = f" ({label})" if label != _shown(scheme.id) else ""
    return _shown(scheme.description, 160) + where


def _left_out(imported: Imported, schemes: list[Scheme]) -> str:
    return ("Left out, as astra-auth cannot use them: " + "; ".join(
        f"{_label(imported, s)} ({_shown(s.description)})" for s in schemes[:LISTED])
        + ("; …" if len(schemes) > LISTED else "") + ".")


def _none_usable(imported: Imported, schemes: list[Scheme], fitting: list[Scheme],
                 opts: ConfigureOptions) -> UsageError:
    source = imported.source
    usable = [s for s in schemes if why_not(s) is None]
    if usable:  # the flags ruled them out
        given = " and ".join(f"{flag} {value}" for flag, value in (
            ("--auth-type", opts.auth_type), ("--grant-type", opts.grant_type)) if value)
        return UsageError(f"{given}: {source} describes no such way to authenticate",
                          hints=[_listed(imported, usable)])
    if len(fitting) == 1:
        return UsageError(f"{source}: {why_not(fitting[0])}")
    return UsageError(
        f"{source}: none of its {len(fitting)} ways to authenticate is one astra-auth "
        f"supports (it supports {_supported_labels()})",
        hints=[f"{_label(imported, s)}: {why_not(s)}" for s in fitting[:LISTED]])


def _listed(imported: Imported, schemes: list[Scheme]) -> str:
    shown = [f"{_label(imported, s)} ({_shown(s.description)})" for s in schemes[:LISTED]]
    return ("It describes: " + "; ".join(shown) + ("; …" if len(schemes) > LISTED else "")
            + ".")


def _document_options(imported: Imported, scheme: Scheme) -> ConfigureOptions:
    """What the document says, as options, checked as the flags are."""
    from astra_auth.commands.configure.options import TYPE_FLAGS, check_flags

    names = {f.name for f in fields(ConfigureOptions)}
    values: dict[str, Any] = {"auth_type": scheme.auth_type, "url": imported.url}
    for key, value in scheme.settings.items():
        attr = OPTION_NAMES.get(key, key)
        if attr not in names:
            raise UsageError(f"{imported.source}: {_shown(scheme.description)}: its setting "
                             f"{key} is not one this version of astra-auth configures")
        values[attr] = (tuple(f"{k}={v}" for k, v in value.items())
                        if isinstance(value, Mapping) else value)
    if scheme.auth_type == "oauth2":
        # The document names every scope the API requires, or none: nothing to ask.
        values.setdefault("scope", "")
        if _postman_format(imported):
            # A collection that works sends the audience it needs, or none.
            values.setdefault("audience", "")
        if scheme.issuer is not None and "token_url" not in values:
            values["issuer"] = scheme.issuer
    try:
        return check_flags(ConfigureOptions(**values))
    except UsageError as exc:
        # "--client-id: …" names a flag nobody gave: name the document's setting.
        flag, _, reason = exc.message.partition(": ")
        attr = TYPE_FLAGS.get(flag, flag.lstrip("-").replace("-", "_"))
        setting = {v: k for k, v in OPTION_NAMES.items()}.get(attr, attr)
        raise DocumentError(f"{imported.source}: {_shown(scheme.description)}: its {setting} "
                            f"cannot be used: {reason or exc.message}") from None


def _merge(opts: ConfigureOptions, document: ConfigureOptions) -> ConfigureOptions:
    """The flags given, completed by the document: each field keeps the flag's
    value unless the flag was left out."""
    defaults = {f.name: (f.default if f.default is not MISSING else None)
                for f in fields(ConfigureOptions)}

    def given(options: ConfigureOptions, name: str) -> bool:
        return bool(getattr(options, name) != defaults[name])

    taken = {name: getattr(document, name) for name in defaults
             if not given(opts, name) and given(document, name)}
    if given(opts, "token_url") or given(opts, "issuer"):
        # The flag's token URL or issuer wins over the document's either.
        taken.pop("token_url", None)
        taken.pop("issuer", None)
    return replace(opts, **taken)


def _report(imported: Imported, label: str, scheme: Scheme, deps: Deps,
            interactive: bool) -> None:
    """What was read and what it gave; what was left out or assumed, and why."""
    if _postman_format(imported):
        what = "the collection's auth" if label == "the collection" else f"the auth of {label}"
    else:
        what = f"the security scheme {label}"
    deps.io.info(f"From {imported.source} ({imported.format}), {what}: "
                 f"{_shown(scheme.description, 300)}.")
    if imported.url:
        deps.io.info(f"API URL: {imported.url}")
    for note in (*imported.notes, *scheme.notes):
        deps.io.info(f"- {note}")
    if scheme.unresolved and not interactive:
        deps.io.info("- Give --environment with a Postman environment that defines "
                     + ", ".join("{{" + _shown(n, 60) + "}}" for n in scheme.unresolved[:3])
                     + ", or the flags for the values that use them.")


def _file_secrets(imported: Imported, scheme: Scheme, opts: ConfigureOptions, name: str,
                  existing: Target | None, deps: Deps, given: Given,
                  interactive: bool) -> Given:
    """The secrets the files hold, handed over as if given with the flags (a
    flag's, and in CI a variable's, win); and the warning that the files hold them."""
    from astra_auth.commands.configure.answers import SECRETS
    from astra_auth.storage.secretstore import env_source

    if not imported.files_with_secrets:
        return given
    env_mode = opts.secrets == "env" or (
        opts.secrets is None and existing is not None
        and existing.auth_type == opts.auth_type and existing.secrets_mode == "env")

    def what(kind: str) -> str:
        spec = SECRETS.get(kind)
        return spec.what if spec is not None else kind.replace("_", " ")

    values = dict(given.values)
    taken = []
    for secret in scheme.secrets:
        if env_mode or secret.kind in values or (
                not interactive and env_source(name, secret.kind, deps.environ)):
            continue
        try:
            values[secret.kind] = validate.secret_value(secret.value, what(secret.kind))
        except ValueError as exc:
            raise DocumentError(f"{', '.join(secret.found_in)}: the {what(secret.kind)} it "
                                f"holds cannot be used: {exc}") from None
        taken.append(what(secret.kind))
    for file in imported.files_with_secrets:
        kinds = list(dict.fromkeys(what(s.kind) for s in scheme.secrets if file in s.found_in))
        held = ", ".join(kinds) if kinds else "a token from an earlier run of Postman"
        kept = " (none is stored here: secrets = env)" if env_mode and kinds else ""
        deps.io.warn(f"{file} holds secrets ({held}){kept}: anyone who can read the file can "
                     "use them; keep it out of version control and away from others")
    if taken:
        deps.io.info(f"The {' and '.join(taken)} from the file "
                     f"{'goes' if len(taken) == 1 else 'go'} to the OS keyring when the "
                     "settings are saved, never to the config file.")
    return Given(values=values)


def _shown(text: str, limit: int = 80) -> str:
    """Text from a document inside one line of ours."""
    return clean(text if len(text) <= limit else text[:limit] + "…", one_line=True)


__all__ = ["QUESTION", "at_terminal", "check_import_flags", "in_ci",
           "why_not"]
