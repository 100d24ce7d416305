"""The documentation tells the truth: its examples run as written, its
walk-through transcript is the program's own, and it covers every failure
category and exit code.

The examples run inside a private network and mount namespace
(tests/docs_env/): the hosts they name (idp.example.com, api.example.com, and
the signed types' aws-api, signed-api, digest-api and dpop-api.example.com)
resolve there to a local server with a real OAuth 2.0 provider and API, over
TLS from a throw-away CA, with real Schemathesis and Newman.  How each block
is run is said by its fence (tests/docs_env/blocks.py).

To regenerate the documented walk-through transcripts after a deliberate
change to the walk-through:

    ASTRA_AUTH_UPDATE_GOLDEN=1 bash tests/run.sh tests/test_docs.py -k walkthrough
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from astra_auth.core.errors import ExitCode
from astra_auth.core.failure import Category
from tests.conftest import IN_CI, strip_ansi
from tests.docs_env import site
from tests.docs_env.blocks import (
    KNOWN_ATTRS,
    ROOT,
    RUNNABLE,
    Block,
    blocks,
    console_commands,
    doc_files,
    front_matter,
    output_matches,
)
from tests.fakes import CLIENT_SECRET, PASSWORD

DOCS = ROOT / "docs"
# Inside the examples' network the example hosts have this address, on
# loopback there; it is not a private one, so no warning about a provider
# that only its own network can reach appears in the examples, as it would
# not for a real provider.  Nothing is ever sent to it outside.
ADDRESS = "93.184.215.14"
UPDATE = os.environ.get("ASTRA_AUTH_UPDATE_GOLDEN") == "1"


def all_blocks() -> list[Block]:
    return [b for path in doc_files() if path.exists() for b in blocks(path)]


# ---------------------------------------------------------------------------
# What the pages must hold


def test_readme_is_at_most_10_kb():
    size = len((ROOT / "README.md").read_bytes())
    assert size <= 10 * 1024, f"README.md is {size} bytes"


def test_readme_keeps_the_two_commands_a_newcomer_runs():
    readme = (ROOT / "README.md").read_text()
    assert "python3 -m pip install . && astra-auth configure" in readme
    assert "bash tests/run.sh" in readme and "CONTRIBUTING.md" in readme
    # .ci/run runs the README's test command, nothing else.
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("exec bash tests/run.sh")


def test_every_command_block_is_run_or_says_why_not():
    problems = []
    for block in all_blocks():
        if not block.lang:
            problems.append(f"{block.where}: a code block without a language")
        unknown = set(block.attrs) - KNOWN_ATTRS
        if unknown:
            problems.append(f"{block.where}: unknown fence attributes {sorted(unknown)}")
        if "data-skip" in block.attrs:
            if block.lang not in RUNNABLE:
                problems.append(f"{block.where}: data-skip on a {block.lang} block")
            elif len(block.attrs["data-skip"].split()) < 3:
                problems.append(f"{block.where}: data-skip needs a reason a reader understands")
        if "data-pending" in block.attrs and len(block.attrs["data-pending"].split()) < 3:
            problems.append(f"{block.where}: data-pending needs to say what the code lacks")
        if block.lang == "console" and "data-skip" not in block.attrs \
                and not console_commands(block.code):
            problems.append(f"{block.where}: a console block without `$ ` commands")
    assert problems == []


def test_the_examples_collected_include_the_skipped_scanners():
    """The collector sees the blocks that are not run, with their reasons."""
    skipped = [b.attrs["data-skip"] for b in all_blocks() if "data-skip" in b.attrs]
    assert any("ZAP" in reason for reason in skipped)
    assert any("Burp" in reason for reason in skipped)


def _anchors(path: Path) -> set[str]:
    return set(re.findall(r"\{#([\w-]+)\}", path.read_text()))


def test_troubleshooting_has_a_section_for_every_category():
    missing = {c.value for c in Category} - _anchors(DOCS / "troubleshooting.md")
    assert missing == set(), f"no section for {sorted(missing)} in docs/troubleshooting.md"


def test_exit_codes_page_lists_every_exit_code():
    text = (DOCS / "exit-codes.md").read_text()
    rows = set(re.findall(r"^\| (\d+) \|", text, re.MULTILINE))
    assert rows == {str(int(code)) for code in ExitCode}


def test_every_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    missing = {p for p in pages if p not in nav}
    assert missing == set()


def test_benchmark_figures_left_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert "req/s" not in readme and "ratio, medians" not in readme
    bench = (ROOT / "benchmarks" / "README.md").read_text()
    assert "req/s" in bench and "ratio, medians" in bench


# ---------------------------------------------------------------------------
# The examples, run as written


def _namespace_problem() -> str | None:
    for tool in ("unshare", "ip", "dbus-run-session", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (tests/run.sh installs it)"
    probe = subprocess.run(_unshare() + ["true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot make a private network: {probe.stderr.strip()}"
    return None


def _unshare() -> list[str]:
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return ["unshare", *user, "--net", "--mount"]


def _need_namespace() -> None:
    problem = _namespace_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"CI must run the documentation's examples, but {problem}")
        pytest.skip(problem)


def _hosts_file(folder: Path) -> Path:
    hosts = folder / "hosts"
    hosts.write_text("127.0.0.1 localhost\n::1 localhost\n"
                     f"{ADDRESS} {' '.join(site.HOSTS)}\n")
    return hosts


def _in_namespace(folder: Path, *argv: str) -> list[str]:
    return [*_unshare(), "bash", str(ROOT / "tests" / "docs_env" / "netns.sh"),
            str(_hosts_file(folder)), ADDRESS, *argv]


@dataclass
class Harness:
    child: subprocess.Popen[str]

    def ask(self, **request: object) -> dict:
        assert self.child.stdin is not None
        self.child.stdin.write(json.dumps(request) + "\n")
        self.child.stdin.flush()
        return self.read()

    def read(self) -> dict:
        assert self.child.stdout is not None
        for line in self.child.stdout:
            if line.startswith("@@ "):
                return json.loads(line[3:])
        raise AssertionError(f"the examples' harness stopped (exit {self.child.wait()})")


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> Iterator[Harness]:  # type: ignore[no-untyped-def]
    _need_namespace()
    folder = tmp_path_factory.mktemp("docs-examples")
    folder.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(
        _in_namespace(folder, sys.executable, "-m", "tests.docs_env.harness", str(folder),
                      ADDRESS),
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    h = Harness(child)
    first = h.read()
    assert first.get("ready"), first
    yield h
    child.stdin.close()  # type: ignore[union-attr]
    child.wait(timeout=30)


def _pages_with_examples() -> list[Path]:
    return [p for p in doc_files() if p.exists() and any(b.runnable for b in blocks(p))]


def test_pages_with_examples_are_found():
    """The collector finds the pages, so an empty parametrisation cannot pass."""
    found = {str(p.relative_to(ROOT)) for p in _pages_with_examples()}
    assert {"README.md", "docs/proxy.md", "docs/scanners/schemathesis.md"} <= found


def _run_block(harness: Harness, block: Block, leaks) -> list[str]:  # type: ignore[no-untyped-def]
    """Runs one block; what went wrong, if anything."""
    expected = int(block.attrs.get("data-exit", "0"))
    problems = []
    if block.lang == "console":
        for command in console_commands(block.code):
            result = harness.ask(op="console", command=command.command)
            leaks.record(f"output of {block.where}", result["out"])
            if result["rc"] != expected:
                problems.append(_show(block, result) + f"\n(expected exit {expected})")
            elif not output_matches(command.expected, strip_ansi(result["out"])):
                problems.append(f"{block.where}: `{command.command}` printed\n"
                                f"{result['out']}\nwhere the page shows\n{command.expected}")
        return problems
    result = harness.ask(op="run", lang=block.lang, code=block.code,
                         background=block.attrs.get("data-background"))
    leaks.record(f"stdout of {block.where}", result["out"])
    leaks.record(f"stderr of {block.where}", result["err"])
    if result["rc"] != expected:
        problems.append(_show(block, result) + f"\n(expected exit {expected})")
    return problems


def _show(block: Block, result: dict) -> str:
    return (f"{block.where}: exit {result.get('rc')}\n--- stdout\n{result.get('out')}"
            f"--- stderr\n{result.get('err')}")


@pytest.mark.parametrize("page", _pages_with_examples(),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_run_as_written(page: Path, harness: Harness, leaks) -> None:  # type: ignore[no-untyped-def]
    leaks.watch(CLIENT_SECRET, PASSWORD, site.API_KEY, site.AWS_SECRET_ACCESS_KEY,
                site.AWS_SESSION_TOKEN, site.DPOP_CLIENT_SECRET)
    fresh = front_matter(page).get("examples") == "fresh"
    setup = harness.ask(op="page", fresh=fresh)
    assert setup["rc"] == 0, f"the page's setup failed: {setup}"
    failures = []
    for block in blocks(page):
        if "data-file" in block.attrs and "data-skip" not in block.attrs:
            harness.ask(op="file", name=block.attrs["data-file"], code=block.code)
            continue
        if not block.runnable:
            continue
        problems = _run_block(harness, block, leaks)
        if "data-pending" in block.attrs:
            # Documented ahead of the code: it must fail until the code does
            # what the page says, then lose its marker.
            if not problems:
                failures.append(f"{block.where} passes now: remove its data-pending")
        else:
            failures += problems
    ended = harness.ask(op="end")
    for result in ended["background"]:
        leaks.record("a background example's stdout", result["out"])
        leaks.record("a background example's stderr", result["err"])
        if result["rc"] != 0:
            failures.append(f"a background example of {page.name} ended with exit "
                            f"{result['rc']}:\n{result['out']}{result['err']}")
    assert not failures, "\n\n".join(failures)


# ---------------------------------------------------------------------------
# The walk-through transcripts come from the real program


def _transcript(raw: str, home: str) -> str:
    text = strip_ansi(raw).replace("\r\n", "\n").replace("\r", "")
    text = text.replace(home, "~")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n") + "\n"


def _golden_block(name: str) -> Block:
    for block in blocks(DOCS / "walkthrough.md"):
        if block.attrs.get("data-golden") == name:
            return block
    raise AssertionError(f"docs/walkthrough.md has no block with data-golden=\"{name}\"")


def _replace_block(block: Block, text: str) -> None:
    lines = block.path.read_text().split("\n")
    end = block.line
    while not lines[end].startswith("```"):
        end += 1
    lines[block.line:end] = text.rstrip("\n").split("\n")
    block.path.write_text("\n".join(lines))


class Terminal:
    """The walk-through at a real pseudo-terminal of 80 columns, as a person types it."""

    def __init__(self, folder: Path, home: Path, *args: str) -> None:
        import pexpect

        self.log: list[str] = []
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("ASTRA_AUTH_") and k not in ("CI", "COLUMNS", "LINES")}
        env.update(HOME=str(home), TERM="xterm", NO_COLOR="1", PYTHONPATH=str(ROOT))
        env.pop("XDG_CONFIG_HOME", None)
        argv = _in_namespace(folder, *args, sys.executable)
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8",
                                   dimensions=(24, 80), timeout=30, cwd=str(ROOT))

        class _Log:
            def write(s, data: str) -> None:  # noqa: N805
                self.log.append(data)

            def flush(s) -> None:  # noqa: N805
                pass

        self.child.logfile_read = _Log()

    def answer(self, prompt: str, text: str, hidden: bool = False) -> None:
        self.child.expect_exact(prompt)
        if hidden:
            assert self.child.waitnoecho(timeout=10), "echo was never switched off"
        self.child.sendline(text)

    def finish(self) -> tuple[int, str]:
        import pexpect

        self.child.expect(pexpect.EOF)
        self.child.close()
        return self.child.exitstatus, "".join(self.log)


NEW_TARGET = [
    ("Target name", "payments-api", False),
    ("Postman collection?", "", False),  # no document: the settings are typed
    ("API URL", "https://api.example.com", False),
    ("Choose", "1", False),  # OAuth 2.0
    ("Choose", "1", False),  # Client Credentials
    ("Choose", "1", False),  # I have the Access Token URL
    ("Access Token URL", "https://idp.example.com/oauth/token", False),
    ("Client ID", site.CLIENT_ID, False),
    ("Choose", "", False),  # basic, the default
    ("Client secret", CLIENT_SECRET, True),
    ("Scope", "read:things", False),
    ("Audience", "", False),
    ("Extra token parameters", "", False),
    ("Save these settings?", "", False),
    ("Run test-token now", "n", False),
]
EDIT_TARGET = [
    ("Choose", "5", False),  # Client ID
    ("Client ID", "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", False),
    ("Choose", "", False),  # Done
    ("Save these settings?", "", False),
    ("Run test-token now", "n", False),
]


def _check_golden(name: str, transcript: str) -> None:
    block = _golden_block(name)
    if UPDATE:
        _replace_block(block, transcript)
        return
    assert block.code == transcript, (
        f"{block.where}: the documented transcript is not what the walk-through prints "
        "now; if the change is meant, regenerate it with ASTRA_AUTH_UPDATE_GOLDEN=1 "
        f"(tests/test_docs.py).\nThe walk-through printed:\n{transcript}")


# Both runs in one private session, so that the second finds the secret the
# first stored in its keyring; the marker line separates their transcripts.
MARKER = "=== next ==="


def test_walkthrough_transcripts_are_the_programs_own(tmp_path, leaks):
    _need_namespace()
    tmp_path.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    leaks.watch(CLIENT_SECRET)
    term = Terminal(tmp_path, home, "sh", "-c",
                    f'"$0" -m astra_auth configure && echo "{MARKER}" && '
                    '"$0" -m astra_auth configure payments-api')
    for prompt, text, hidden in NEW_TARGET:
        term.answer(prompt, text, hidden)
    term.child.expect_exact(MARKER)
    for prompt, text, hidden in EDIT_TARGET:
        term.answer(prompt, text, hidden)
    code, raw = term.finish()
    leaks.record("the walk-through's terminal", raw)
    assert code == 0, raw
    first, _, second = _transcript(raw, str(home)).partition(MARKER + "\n")
    _check_golden("new-target", "$ astra-auth configure\n" + first)
    _check_golden("edit-target", "$ astra-auth configure payments-api\n" + second)


# ---------------------------------------------------------------------------
# The collector itself


def test_fences_are_read_with_their_attributes(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Text\n\n"
        "```sh\necho run\n```\n\n"
        "1. A step:\n\n"
        "    ```sh {data-skip=\"needs a browser here\"}\n    open it\n    ```\n\n"
        "````markdown\n```sh\nnot a block of its own\n```\n````\n\n"
        "```console {data-exit=\"2\"}\n$ one \\\n  --flag\nout...\n$ two\n```\n")
    found = blocks(page)
    assert [(b.lang, b.attrs, b.code) for b in found] == [
        ("sh", {}, "echo run\n"),
        ("sh", {"data-skip": "needs a browser here"}, "open it\n"),
        ("markdown", {}, "```sh\nnot a block of its own\n```\n"),
        ("console", {"data-exit": "2"}, "$ one \\\n  --flag\nout...\n$ two\n"),
    ]
    assert [b.runnable for b in found] == [True, False, False, True]
    assert [(c.command, c.expected) for c in console_commands(found[3].code)] == [
        ("one \\\n  --flag", "out...\n"), ("two", "")]


def test_console_output_matches_only_with_ellipsis_for_the_gaps():
    assert output_matches("a ...\nz\n", "a b c\nz\n")
    assert output_matches("...✓ ok...", "╭ ✓ ok ─╮\n│ more │\n")
    assert not output_matches("a\nz\n", "a\nb\nz\n")
    assert not output_matches("401\n", "200\n")
