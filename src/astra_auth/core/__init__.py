"""The base layer: errors and exit codes, failure categories, pure validation.

Imports nothing else of astra_auth; every other layer may import it."""
