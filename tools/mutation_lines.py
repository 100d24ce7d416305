"""Write a patch that "adds" the lines of chosen functions, for
`mutmut run --use-patch-file`: mutants are then made in those lines only.

Usage: python tools/mutation_lines.py FILE NAME [NAME ...] > lines.patch

NAME is a function, a class (all its methods), Class.method, or a dotted path to
a function or class defined inside another (Class.method.Inner.method); `top`
is the module's own statements (its constants, not its imports); `all` is the
whole file.  Used by tools/mutation.sh.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def spans(tree: ast.Module, names: set[str]) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = prefix + node.name
                if name in names:
                    found.append((node.lineno, node.end_lineno or node.lineno))
                else:
                    walk(node.body, name + ".")

    walk(tree.body, "")
    return found


def main(path: str, names: list[str]) -> str:
    lines = Path(path).read_text().splitlines()
    if names == ["all"]:
        chosen = [(1, len(lines))]
    else:
        tree = ast.parse("\n".join(lines))
        chosen = spans(tree, set(names))
        if "top" in names:  # the module's own statements: its constants
            chosen += [(node.lineno, node.end_lineno or node.lineno) for node in tree.body
                       if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef
                                         | ast.ClassDef | ast.Import | ast.ImportFrom)]
        missing = set(names) - {"top"} - {n for n in names if spans(tree, {n})}
        if missing:
            raise SystemExit(f"{path}: no function or class named {', '.join(sorted(missing))}")
    out = [f"--- a/{path}", f"+++ b/{path}"]
    for first, last in sorted(chosen):
        out.append(f"@@ -{first - 1},0 +{first},{last - first + 1} @@")
        out += ["+" + line for line in lines[first - 1:last]]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    sys.stdout.write(main(sys.argv[1], sys.argv[2:]))
