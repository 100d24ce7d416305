"""The code blocks of the documentation, read from the Markdown files themselves.

A fenced block's info string is its language, then optionally an attribute
list (Python-Markdown's attr_list, which mkdocs.yml enables; GitHub reads the
first word only):

    ```sh                       run as written; must exit 0
    ```sh {data-exit="2"}       run; must exit 2
    ```sh {data-background="127.0.0.1:8080"}
                                started, and left running (the proxy) until
                                the page's last block has run; ready once
                                that address accepts connections
    ```sh {data-skip="why"}     not run here, for the reason given
    ```console                  `$ ` lines are run one by one; each one's
                                output (stdout and stderr together) must
                                match the lines below it, where `...`
                                stands for any text
    ```sh {data-pending="what the code lacks"}
                                run, and expected to fail until the code
                                does what the page says; once it passes,
                                the test fails until the marker is removed
    ```python                   run with python3
    ```js {data-file="script.js"}
                                written to that file in the page's working
                                folder for the blocks after it; not run
    ```text {data-golden="name"}
                                a transcript the tests produce from the real
                                program (tests/test_docs.py)

Each page's blocks run in order in one working folder (tests/docs_env/harness.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The languages whose blocks are commands or programs: each is run, or marked
# with data-skip and its reason.
RUNNABLE = frozenset({"sh", "bash", "shell", "console", "python", "zsh"})
KNOWN_ATTRS = frozenset({"data-exit", "data-skip", "data-background", "data-golden",
                         "data-file", "data-pending"})

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
_ATTR = re.compile(r'([\w-]+)(?:="([^"]*)")?')


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    attrs: dict[str, str] = field(hash=False)
    code: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def runnable(self) -> bool:
        return (self.lang in RUNNABLE and "data-skip" not in self.attrs
                and "data-file" not in self.attrs)


def doc_files() -> list[Path]:
    """Every Markdown file whose examples are held to running as written."""
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "benchmarks" / "README.md",
            *sorted((ROOT / "docs").rglob("*.md"))]


def parse_info(info: str) -> tuple[str, dict[str, str]]:
    lang, _, rest = info.strip().partition(" ")
    attrs: dict[str, str] = {}
    rest = rest.strip()
    if rest.startswith("{") and rest.endswith("}"):
        for name, value in _ATTR.findall(rest[1:-1]):
            attrs[name] = value
    elif rest:
        attrs["?"] = rest  # anything else is reported by the tests
    return lang, attrs


def blocks(path: Path) -> list[Block]:
    found = []
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        lang, attrs = parse_info(m["info"])
        body = []
        j = i + 1
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        while j < len(lines) and not closing.match(lines[j]):
            line = lines[j]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            j += 1
        found.append(Block(path, i + 1, lang, attrs, "\n".join(body) + "\n"))
        i = j + 1
    return found


def front_matter(path: Path) -> dict[str, str]:
    """The page's YAML front matter, as flat `key: value` pairs."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return {}
    head = text[4:text.find("\n---\n", 4)]
    return {k.strip(): v.strip() for k, _, v in
            (line.partition(":") for line in head.splitlines()) if k.strip()}


@dataclass
class Command:
    command: str
    expected: str


def console_commands(code: str) -> list[Command]:
    """A console block's commands (`$ ` lines, with `\\` continuations) and the
    output expected after each."""
    commands: list[Command] = []
    lines = code.rstrip("\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            cmd = [line[2:]]
            while cmd[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd.append(lines[i])
            commands.append(Command("\n".join(cmd), ""))
        elif commands:
            commands[-1].expected += line + "\n"
        i += 1
    return commands


def output_matches(expected: str, actual: str) -> bool:
    """`...` in the expected output stands for any text (none included);
    trailing spaces and blank lines at the end do not count."""
    def norm(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))

    pattern = ".*?".join(re.escape(part) for part in norm(expected).split("..."))
    return re.fullmatch(pattern, norm(actual), re.DOTALL) is not None
