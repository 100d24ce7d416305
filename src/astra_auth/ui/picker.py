"""Picking a target at a terminal: a number from the list, or a typed name.

Shared by `configure` and `test-token`: the list is numbered, the
answer may be a number or a name, and there is no default, so a reflexive
Enter never starts editing (or testing) a target nobody chose.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from astra_auth.storage.config import Target

if TYPE_CHECKING:
    from astra_auth.deps import Deps


def pick_target(deps: Deps, targets: dict[str, Target], message: str,
                new_name: Callable[[str], str] | None = None) -> str:
    """A target's name: an existing one by number or name, or, with
    `new_name` (which checks a name and raises ValueError), a new one."""
    import difflib

    names = sorted(targets)
    width = len(str(len(names)))
    deps.io.info(message + ":")
    for number, name in enumerate(names, start=1):
        url = targets[name].url
        deps.io.info(f"  {number:>{width}}) {name}" + (f"  {url}" if url else ""))
    question = ("Target: a number, an existing name, or a new name" if new_name
                else "Target: a number or a name")
    while True:
        answer = deps.prompter.text(question).strip()
        if not answer:
            deps.io.warn("Type a number from the list or a target name. Try again.")
            continue
        if answer.isdigit():
            if 1 <= int(answer) <= len(names):
                return names[int(answer) - 1]
            deps.io.warn(f"There is no number {answer} in the list (1 to {len(names)}). "
                         "Try again.")
            continue
        if answer in targets:
            return answer
        if new_name is not None:
            try:
                return new_name(answer)
            except ValueError as exc:
                deps.io.warn(f"{exc}. Try again.")
                continue
        close = difflib.get_close_matches(answer, names, n=1, cutoff=0.6)
        deps.io.warn(f"No target named {answer!r}"
                     + (f"; did you mean {close[0]!r}?" if close else ".") + " Try again.")
