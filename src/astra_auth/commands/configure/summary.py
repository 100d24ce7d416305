"""The summary shown before saving: every setting, each secret masked."""

from __future__ import annotations

from astra_auth.commands.configure.auth_types import AUTH_TYPES
from astra_auth.commands.configure.plan import Plan
from astra_auth.deps import Deps
from astra_auth.oauth.redact import MASK

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
    table = Table(title="Summary", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, Text(value))
    deps.io.out.print(table)
