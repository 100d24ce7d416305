"""HTTP transport for every exchange: clients with timeouts, trust stores and
proxies, loopback pinning, and host look-ups."""
