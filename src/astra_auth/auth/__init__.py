"""One module per auth type, each with `open(target, deps, settings)` returning a
`CredentialSource` (see `astra_auth.credential`)."""
