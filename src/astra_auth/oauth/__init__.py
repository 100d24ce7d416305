"""The OAuth 2.0 token request: one implementation for `test-token`, `token` and scanners."""
