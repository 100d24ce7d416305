"""The one credential interface (`interface`) and one module per auth type.

`token`, `exec`, `auth_for`, `proxy` and `test-token` ask `open_source(...)` for a
`CredentialSource`; caching and renewal live behind it, never in a consumer."""
