"""The release's version: the one place it is written (pyproject.toml's
`[tool.hatch.version]` reads it from here).

A module of its own at the bottom, so that the config file's reader and the
HTTP client's User-Agent can name it without importing the package root,
which re-exports the integrations."""

__version__ = "0.1.0"
