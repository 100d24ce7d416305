"""Text safety: control characters neutralised, shell-quoted commands, secrets
redacted from text and from library logs."""
