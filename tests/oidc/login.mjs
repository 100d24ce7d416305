// Starts panva's oidc-provider on 127.0.0.1 (a random port) for the login tests
// (tests/test_login.py): the device flow and the authorization code flow with PKCE, its
// development interaction pages (a login form that takes any user, a consent
// page), refresh tokens for every login, and token revocation.
// Refresh-token rotation is on for the clients whose ID ends in "-rotate".
// Prints the issuer URL on the first line of stdout, then serves until killed.
import Provider from 'oidc-provider';
import { createServer } from 'node:http';

const secret = process.env.OIDC_CLIENT_SECRET;
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
const device = (id) => ({
  client_id: id,
  client_secret: secret,
  grant_types: [DEVICE, 'refresh_token'],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
});
// A public client (no secret, RFC 6749 §2.1), as device-flow clients usually are.
const publicDevice = (id) => ({
  client_id: id,
  grant_types: [DEVICE, 'refresh_token'],
  redirect_uris: [],
  response_types: [],
  token_endpoint_auth_method: 'none',
});
const web = (id) => ({
  client_id: id,
  client_secret: secret,
  application_type: 'native', // RFC 8252 §7.3: any loopback port
  grant_types: ['authorization_code', 'refresh_token'],
  redirect_uris: ['http://127.0.0.1/callback'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
});

const provider = new Provider(issuer, {
  clients: [
    device('login-device'),
    device('login-device-rotate'),
    publicDevice('login-public-rotate'),
    web('login-web-rotate'),
  ],
  features: {
    deviceFlow: { enabled: true },
    devInteractions: { enabled: true },
    revocation: { enabled: true },
  },
  // Every login gets a refresh token (without asking for offline_access).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: (ctx) => ctx.oidc.client.clientId.endsWith('-rotate'),
  scopes: ['openid', 'read:things'],
  pkce: { required: () => true },
});
provider.proxy = false;
server.on('request', provider.callback());
process.stdout.write(`${issuer}\n`);
