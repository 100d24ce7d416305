"""astra-auth inside other programs: an `httpx.Auth` and a Schemathesis auth provider."""
