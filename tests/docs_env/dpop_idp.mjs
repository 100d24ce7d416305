// panva's oidc-provider (tests/oidc's copy) issuing DPoP-bound access tokens
// as https://dpop-idp.example.com, for the documentation's DPoP example
// (docs/auth/dpop.md).  The same settings as tests/oidc/dpop.mjs, but with the
// example host as issuer: it listens on loopback over plain HTTP, and the
// examples' site (site.py) forwards that host's requests here with
// X-Forwarded-Proto and X-Forwarded-Host, so that the URLs it builds (and
// checks each proof's htu against) are the example host's.
//
// The client is CLIENT_ID with CLIENT_SECRET (from the environment;
// client_secret_basic); tokens are JWTs for the API
// https://dpop-api.example.com.  Prints its own URL on the first line of
// stdout, then serves until killed.
import Provider from '../oidc/node_modules/oidc-provider/lib/index.js';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

const API = 'https://dpop-api.example.com';
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const provider = new Provider('https://dpop-idp.example.com', {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
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
      defaultResource: () => API,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'read:things',
        audience: API,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
      }),
    },
  },
  enabledJWA: { dPoPSigningAlgValues: ['ES256', 'PS256', 'RS256', 'EdDSA'] },
  scopes: ['read:things'],
});
provider.proxy = true;
server.on('request', provider.callback());
process.stdout.write(`http://127.0.0.1:${server.address().port}\n`);
