// panva's oidc-provider for the client authentication tests, over HTTPS.
//
// Keys and certificates are made by the test (tests/test_client_auth.py) and
// handed over in ENTERPRISE_SETUP (JSON): the server's certificate and key (a
// trustme CA issued them), and each client's public JWKS.  Clients, each
// accepting only its own method:
//   pkjwt-rsa, pkjwt-ec   private_key_jwt with a registered JWKS (RSA, EC P-256)
//   mtls-self             self_signed_tls_client_auth with a registered certificate
//                         (x5c), tokens bound to it (RFC 8705 §3)
//
// mTLS: node's own https server asks every client for a certificate
// (requestCert) and accepts self-signed ones (rejectUnauthorized: false): the
// provider then compares it with the registered one; getCertificate reads it
// from the TLS socket, so no proxy header is involved.
//
// A second server ("strict") serves the same provider but requires a client
// certificate issued by the test CA, which the clients' self-signed ones are
// not: the TLS handshake itself refuses them.
//
// Prints the issuer URL on the first line, the strict issuer on the second.
import Provider from 'oidc-provider';
import { createServer } from 'node:https';

const setup = JSON.parse(process.env.ENTERPRISE_SETUP);

const tls = { cert: setup.server_cert, key: setup.server_key };
const server = createServer({ ...tls, requestCert: true, rejectUnauthorized: false });
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const strict = createServer({ ...tls, requestCert: true, rejectUnauthorized: true, ca: setup.ca_cert });
await new Promise((resolve) => strict.listen(0, '127.0.0.1', resolve));
const issuer = `https://127.0.0.1:${server.address().port}`;

const machine = {
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  scope: 'read:things',
};

const provider = new Provider(issuer, {
  clients: [
    { ...machine, client_id: 'pkjwt-rsa', token_endpoint_auth_method: 'private_key_jwt', jwks: setup.rsa_jwks },
    { ...machine, client_id: 'pkjwt-ec', token_endpoint_auth_method: 'private_key_jwt', jwks: setup.ec_jwks },
    {
      ...machine,
      client_id: 'mtls-self',
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
      jwks: setup.mtls_jwks,
    },
  ],
  clientAuthMethods: ['private_key_jwt', 'self_signed_tls_client_auth'],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    mTLS: {
      enabled: true,
      selfSignedTlsClientAuth: true,
      certificateBoundAccessTokens: true,
      getCertificate(ctx) {
        const peer = ctx.socket.getPeerX509Certificate?.();
        return peer || undefined;
      },
    },
  },
  scopes: ['read:things'],
});
provider.proxy = false;
server.on('request', provider.callback());
strict.on('request', provider.callback());
process.stdout.write(`${issuer}\nhttps://127.0.0.1:${strict.address().port}\n`);
