"""astra-auth: tell an API security scanner how to authenticate to an OAuth 2.0 API."""

__version__ = "0.1.0"
