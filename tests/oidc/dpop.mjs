// panva's oidc-provider issuing DPoP-bound access tokens (RFC 9449), for
// tests/test_signing_dpop.py and, named by an example host, for the
// documentation's DPoP example (tests/docs_env/harness.py).
//
// features.dPoP with requireNonce: every token request must carry a proof with
// the provider's current nonce; the first one without it gets 400
// use_dpop_nonce and a DPoP-Nonce header.  One client (client credentials)
// must use DPoP (dpop_bound_access_tokens).  Access tokens are JWTs for one
// resource (resource indicators), so that the test API can read their cnf.jkt
// after checking their signature against the provider's JWKS.
//
// The environment: OIDC_CLIENT_SECRET (the client's secret); optionally
// DPOP_CLIENT_ID (`dpop-scanner`), DPOP_CLIENT_AUTH (`client_secret_post`),
// DPOP_RESOURCE (`urn:astra-auth:dpop-api`) and DPOP_ISSUER: an issuer other
// than the address it listens at, for a site that forwards the issuer's host
// here with X-Forwarded-Proto and X-Forwarded-Host (the URLs it builds, and
// checks each proof's htu against, are then the issuer's).
//
// Prints the URL it listens at on the first line of stdout, then serves until
// killed.
import Provider from 'oidc-provider';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

const RESOURCE = process.env.DPOP_RESOURCE || 'urn:astra-auth:dpop-api';
const secret = process.env.OIDC_CLIENT_SECRET;
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const listening = `http://127.0.0.1:${server.address().port}`;
const issuer = process.env.DPOP_ISSUER || listening;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.DPOP_CLIENT_ID || 'dpop-scanner',
      client_secret: secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: process.env.DPOP_CLIENT_AUTH || 'client_secret_post',
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
provider.proxy = issuer !== listening;
server.on('request', provider.callback());
process.stdout.write(`${listening}\n`);
