"""The summary shown before saving: every setting, each secret masked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from astra_auth.commands.configure.auth_types import AUTH_TYPES
from astra_auth.commands.configure.plan import Plan
from astra_auth.text.redact import MASK

if TYPE_CHECKING:
    from astra_auth.deps import Deps

SECRET_TEXT = {
    "new": f"{MASK} (new, to the OS keyring)",
    "stored": f"{MASK} (stored, unchanged)",
    "env": "read from the environment at run time",
}


def show_summary(plan: Plan, deps: Deps) -> None:
    from rich.table import Table
    from rich.text import Text

    target = plan.target
    assert target.auth_type is not None
    auth_type = AUTH_TYPES[target.auth_type]
    rows = [
        ("Target", target.name + (" (new)" if plan.is_new else "")),
        ("API URL", target.url or "—"),
        ("Authentication", auth_type.choice.label),
    ]
    rows += auth_type.summary(target, lambda kind: SECRET_TEXT[plan.secret_states[kind]])
    before = _previous_rows(plan)
    # A third column marks what changed; a new target's rows are all new, and
    # an unchanged target's none, so then there is no such column.
    marks = ["← changed" if before is not None and (before.get(label) != value
                                                    or value == SECRET_TEXT["new"]) else ""
             for label, value in rows]
    table = Table(title="Summary", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    marked = any(marks)
    if marked:
        table.add_column(style="yellow")
    for (label, value), mark in zip(rows, marks, strict=True):
        table.add_row(label, Text(value), *([mark] if marked else []))
    deps.io.out.print(table)


def _previous_rows(plan: Plan) -> dict[str, str] | None:
    """The summary rows of the target as it was, by label (None: a new target)."""
    old = plan.previous
    if plan.is_new or old is None:
        return None
    rows = {"Target": plan.target.name, "API URL": old.url or "—"}
    if old.auth_type is not None:
        auth_type = AUTH_TYPES[old.auth_type]
        rows["Authentication"] = auth_type.choice.label
        rows.update(auth_type.summary(old, lambda kind: SECRET_TEXT[
            "env" if old.secrets_mode == "env" else "stored"]))
    return rows
