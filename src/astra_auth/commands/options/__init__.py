"""What each command accepts on the command line: one module per command, each
holding that command's options dataclass with every field's flag and help
(astra_auth.core.cli_params).

Apart from the commands themselves so that `--help` and shell completion,
which read only these, never import a command's code and what it needs.
"""
