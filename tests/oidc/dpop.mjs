// panva's oidc-provider issuing DPoP-bound access tokens (RFC 9449), for
// tests/test_signing_dpop.py.
//
// features.dPoP with requireNonce: every token request must carry a proof with
// the provider's current nonce; the first one without it gets 400
// use_dpop_nonce and a DPoP-Nonce header.  The client `dpop-scanner` (client
// credentials, client_secret_post) must use DPoP (dpop_bound_access_tokens).
// Access tokens are JWTs for the resource `urn:astra-auth:dpop-api` (resource
// indicators), so that the test API can read their cnf.jkt after checking
// their signature against the provider's JWKS.
//
// Prints the issuer URL on the first line of stdout, then serves until killed.
import Provider from 'oidc-provider';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

export const RESOURCE = 'urn:astra-auth:dpop-api';
const secret = process.env.OIDC_CLIENT_SECRET;
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'dpop-scanner',
      client_secret: secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'read:things',
      dpop_bound_access_tokens: true,
    },
  ],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'read:things',
        audience: RESOURCE,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
      }),
    },
  },
  enabledJWA: { dPoPSigningAlgValues: ['ES256', 'PS256', 'RS256', 'EdDSA'] },
  scopes: ['read:things'],
});
provider.proxy = false;
server.on('request', provider.callback());
process.stdout.write(`${issuer}\n`);
