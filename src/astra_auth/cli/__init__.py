"""The command line: the typer app, its lazily built commands, and shell completion."""
