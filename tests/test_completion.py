"""Shell completion, driven as a shell drives it, and the scripts the package ships."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import CLIENT_SECRET

ROOT = Path(__file__).resolve().parent.parent


PACKAGED = ROOT / "completions"


def _generate_module():
    spec = importlib.util.spec_from_file_location(
        "generate", ROOT / "tools" / "generate_completions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_committed_scripts_are_up_to_date():
    generate = _generate_module()
    scripts = generate.scripts()
    assert sorted(scripts) == ["_astra-auth", "astra-auth.bash", "astra-auth.fish",
                               "astra-auth.ps1"]
    for name, text in scripts.items():
        committed = (PACKAGED / name).read_text()
        assert committed == text, (
            f"{name} is out of date: run python tools/generate_completions.py")


@pytest.mark.parametrize(("shell", "name", "marker"), [
    ("bash", "astra-auth.bash", "_ASTRA_AUTH_COMPLETE=complete_bash"),
    ("zsh", "_astra-auth", "#compdef astra-auth"),
    ("fish", "astra-auth.fish", "_ASTRA_AUTH_COMPLETE=complete_fish"),
    ("powershell", "astra-auth.ps1", "complete_powershell"),
])
def test_completion_command_prints_the_packaged_script(proc, shell, name, marker):
    result = proc("completion", shell)
    assert result.out == (PACKAGED / name).read_text()
    assert marker in result.out
    assert result.err == ""


def test_completion_of_an_unknown_shell_is_a_usage_error(proc):
    result = proc("completion", "tcsh", expect=2)
    assert "SHELL: 'tcsh' is not one of: bash, zsh, fish, powershell" in result.err
    assert result.out == ""


def test_an_installed_wheel_serves_the_completion_scripts(tmp_path):
    """Built and installed as a user would get it, away from the source tree."""
    import zipfile

    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-q", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("astra_auth-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"astra_auth/completions/{n}" for n in
            ("astra-auth.bash", "_astra-auth", "astra-auth.fish", "astra-auth.ps1")} <= set(names)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    done = subprocess.run([sys.executable, "-m", "astra_auth", "completion", "zsh"],
                          cwd=tmp_path, env={"PYTHONPATH": str(target), "HOME": str(tmp_path)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (PACKAGED / "_astra-auth").read_text()


@pytest.fixture
def shell(proc):
    proc("targets", "add", "alpha")
    proc("targets", "add", "beta-api")

    def complete(kind: str, words: str, **extra: str) -> list[str]:
        env = dict(proc.env, _ASTRA_AUTH_COMPLETE=f"complete_{kind}", **extra)
        if kind == "bash":
            env.update(COMP_WORDS=words, COMP_CWORD=str(len(words.split(" ")) - 1))
        else:
            env["_TYPER_COMPLETE_ARGS"] = words
        out = subprocess.run([sys.executable, "-m", "astra_auth"], env=env,
                             capture_output=True, text=True, timeout=30, check=True).stdout
        return [line for line in out.splitlines() if line]

    return complete


def test_bash_completes_subcommands(shell):
    assert shell("bash", "astra-auth ") == ["configure", "test-token", "token", "login", "proxy",
                                            "exec", "completion", "doctor", "targets"]
    assert shell("bash", "astra-auth targets ") == ["list", "add", "show", "remove"]


@pytest.mark.parametrize("words", [
    "astra-auth targets show ",
    "astra-auth targets remove ",
    "astra-auth configure ",
    "astra-auth test-token ",
    "astra-auth token ",
    "astra-auth proxy ",
    "astra-auth exec ",
])
def test_bash_completes_target_names_for_every_command_taking_name(shell, words):
    assert shell("bash", words) == ["alpha", "beta-api"]
    assert shell("bash", words + "b") == ["beta-api"]


def test_target_names_come_from_the_config_named_on_the_command_line(shell, proc, tmp_path):
    other = tmp_path / "other.toml"
    proc("--config", str(other), "targets", "add", "gamma")
    assert shell("bash", f"astra-auth --config {other} targets show ") == ["gamma"]


@pytest.mark.parametrize(("option", "choices"), [
    ("--grant-type", ["client_credentials", "password", "device_code", "authorization_code"]),
    ("--client-auth", ["basic", "post", "private_key_jwt", "tls_client_auth", "none"]),
    ("--secrets", ["keyring", "env"]),
    ("--auth-type", ["oauth2", "basic", "bearer", "api_key", "jwt", "aws_sigv4",
                     "http_signature", "digest"]),
])
def test_bash_completes_fixed_choices(shell, option, choices):
    assert shell("bash", f"astra-auth configure alpha {option} ") == choices


def test_the_import_flags_are_completed_and_a_collection_is_a_file(shell):
    assert shell("bash", "astra-auth configure alpha --from-") == ["--from-openapi",
                                                                   "--from-postman"]
    assert shell("zsh", "astra-auth configure alpha --from-postman ") == ["_files"]
    assert shell("zsh", "astra-auth configure alpha --environment ") == ["_files"]


def test_the_assertion_flags_are_completed(shell):
    assert shell("bash", "astra-auth configure alpha --assertion-") == [
        "--assertion-alg", "--assertion-audience", "--assertion-kid"]


def test_bash_completes_token_formats(shell):
    assert shell("bash", "astra-auth token alpha --format ") == ["bare", "header", "json"]


def test_bash_completes_shell_names(shell):
    assert shell("bash", "astra-auth completion ") == ["bash", "zsh", "fish", "powershell"]


def test_zsh_and_fish_protocols(shell):
    zsh = "\n".join(shell("zsh", "astra-auth test-token b"))
    assert '"beta-api"' in zsh and "alpha" not in zsh
    fish = shell("fish", "astra-auth targets show a", _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert fish == ["alpha"]


def test_broken_config_completes_nothing_instead_of_failing(shell, proc):
    proc.config_path.write_text("[broken")
    assert shell("bash", "astra-auth targets show ") == []


def test_a_config_nested_thousands_deep_completes_nothing(shell, proc):
    # tomllib recurses into nested arrays: a Tab press must not print a traceback.
    proc.config_path.write_text("version = 1\n[targets.a]\nurl = " + "[" * 5000 + "]" * 5000)
    assert shell("bash", "astra-auth targets show ") == []


def test_show_completion_still_works(proc):
    result = proc("--show-completion", "bash",
                  env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert "_ASTRA_AUTH_COMPLETE=complete_bash" in result.out


# ---------------------------------------------------------------------------
# The import boundary: light commands load nothing heavy they do not need.

HEAVY = ("httpx", "httpcore", "keyring", "secretstorage", "jeepney", "truststore",
         "pydantic", "cryptography", "pygments", "markdown_it", "h11", "anyio",
         # the proxy's HTTP library and event loop (astra-auth proxy only)
         "aiohttp", "uvloop")
RUNNER = """
import atexit, json, os, sys
atexit.register(lambda: open(os.environ["MODULES_OUT"], "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["astra-auth", *json.loads(os.environ["ARGV"])]
from astra_auth.cli.app import main
sys.exit(main())
"""


def _modules(proc, tmp_path, args, extra_env=None):
    import json

    out = tmp_path / "modules.json"
    env = dict(proc.env, MODULES_OUT=str(out), ARGV=json.dumps(args), **(extra_env or {}))
    subprocess.run([sys.executable, "-c", RUNNER], env=env, capture_output=True, timeout=30)
    return set(json.loads(out.read_text()))


def _many(proc, count):
    import tomli_w

    targets = {f"t{i}": {"url": f"https://a{i}.example.com", "auth_type": "oauth2", "oauth2": {
        "grant_type": "client_credentials", "token_url": "https://idp.example.com/token",
        "client_id": f"c{i}", "client_auth": "basic", "secrets": "keyring"}}
        for i in range(count)}
    proc.config_path.parent.mkdir(parents=True, exist_ok=True)
    proc.config_path.write_text(tomli_w.dumps({"version": 1, "targets": targets}))


@pytest.mark.parametrize(("args", "env"), [
    (["--version"], None),
    (["--help"], None),
    (["targets", "list"], "1"),
    (["targets", "list"], "1000"),
    (["targets", "list", "--json"], "1000"),
    ([], "completion"),
    (["completion", "bash"], None),
])
def test_light_commands_import_nothing_heavy(proc, tmp_path, args, env):
    extra = None
    if env in ("1", "1000"):
        _many(proc, int(env))
    if env == "completion":
        _many(proc, 3)
        extra = {"_ASTRA_AUTH_COMPLETE": "complete_bash",
                 "COMP_WORDS": "astra-auth targets show ", "COMP_CWORD": "3"}
    modules = _modules(proc, tmp_path, args, extra)
    assert "astra_auth.cli.app" in modules  # the runner really ran the tool
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []
    # Nor the grant code, nor rich's console where nothing is rendered.
    assert not any(m.startswith("astra_auth.oauth") for m in modules)
    if args and args[0] in ("targets", "completion"):
        assert "rich.console" not in modules
    assert not modules & SCANNER_ONLY
    # A command's code is imported only when it runs; its options when it runs
    # or is completed; --help lists the commands without importing either.
    commands = {m for m in modules if m.startswith("astra_auth.commands.")}
    if args[:2] == ["targets", "list"]:
        assert commands == {"astra_auth.commands.targets", "astra_auth.commands.options",
                            "astra_auth.commands.options.targets"}
    elif env == "completion":  # of `targets show NAME`
        assert commands == {"astra_auth.commands.options", "astra_auth.commands.options.targets"}
    else:
        assert commands == set()


@pytest.mark.parametrize(("args", "env"), [
    (["test-token", "--help"], None),
    (["configure", "--help"], None),
    (["login", "--help"], None),
    ([], {"_ASTRA_AUTH_COMPLETE": "complete_bash", "COMP_WORDS": "astra-auth test-token ",
          "COMP_CWORD": "2"}),
    ([], {"_ASTRA_AUTH_COMPLETE": "complete_bash",
          "COMP_WORDS": "astra-auth configure a --grant-type ", "COMP_CWORD": "4"}),
])
def test_a_commands_help_and_completion_import_its_options_not_its_code(proc, tmp_path, args,
                                                                         env):
    _many(proc, 3)
    modules = _modules(proc, tmp_path, args, env)
    assert "astra_auth.cli.app" in modules  # the runner really ran the tool
    name = (args or env["COMP_WORDS"].split())[0 if args else 1].replace("-", "_")
    commands = {m for m in modules if m.startswith("astra_auth.commands.")}
    assert commands == {"astra_auth.commands.options", f"astra_auth.commands.options.{name}"}
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []
    assert not any(m.startswith(("astra_auth.oauth", "astra_auth.credentials")) for m in modules)


# Imported only by the command or the scanner that uses them.
SCANNER_ONLY = {"astra_auth.commands.exec", "astra_auth.schemathesis", "schemathesis"}


@pytest.mark.parametrize("args", [
    ["test-token", "t", "--json"],
    ["token", "t"],
    ["targets", "show", "t"],
    ["configure", "t", "--scope", "read", "--no-input"],
])
def test_no_other_command_imports_exec_or_the_schemathesis_provider(proc, tmp_path, idp, args):
    proc("configure", "t", "--grant-type", "client_credentials", "--token-url", idp.token_url,
         "--client-id", "scanner-app", "--secrets", "env")
    modules = _modules(proc, tmp_path, args, {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert "astra_auth.cli.app" in modules
    assert modules & SCANNER_ONLY == set()


def test_the_scanner_boundary_check_would_see_exec(proc, tmp_path, idp):
    proc("configure", "t", "--grant-type", "client_credentials", "--token-url", idp.token_url,
         "--client-id", "scanner-app", "--secrets", "env")
    modules = _modules(proc, tmp_path, ["exec", "t", "--", "true"],
                       {"ASTRA_AUTH_CLIENT_SECRET": CLIENT_SECRET})
    assert modules & SCANNER_ONLY == {"astra_auth.commands.exec"}


def test_the_boundary_check_would_see_a_heavy_import(proc, tmp_path, idp):
    # test-token needs httpx: the same check must find it there.
    proc("configure", "t", "--grant-type", "client_credentials", "--token-url", idp.token_url,
         "--client-id", "scanner-app", "--secrets", "env")
    modules = _modules(proc, tmp_path, ["test-token", "t", "--json"],
                       {"ASTRA_AUTH_CLIENT_SECRET": "x"})
    assert "httpx" in modules
    # ... and the commands that talk to the network load nothing of the proxy.
    assert "aiohttp" not in modules
    assert not any(m.startswith("astra_auth.proxy") for m in modules)


def test_token_loads_nothing_of_the_proxy(proc, tmp_path, idp):
    proc("configure", "t", "--grant-type", "client_credentials", "--token-url", idp.token_url,
         "--client-id", "scanner-app", "--secrets", "env")
    modules = _modules(proc, tmp_path, ["token", "t"], {"ASTRA_AUTH_CLIENT_SECRET": "x"})
    assert "astra_auth.credentials.interface" in modules  # it ran as far as the credential source
    assert "aiohttp" not in modules
    assert not any(m.startswith("astra_auth.proxy") for m in modules)
