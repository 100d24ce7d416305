"""Request signing: one module per scheme, each a pure function of the request.

`message` holds the neutral request and answer and the `Signer` protocol;
`sigv4` (AWS Signature Version 4), `http_signature` (RFC 9421 HTTP Message
Signatures), `digest` (RFC 7616 HTTP Digest) and `dpop` (RFC 9449 DPoP proofs)
each sign with a maintained library, imported only when that scheme is used.
"""
