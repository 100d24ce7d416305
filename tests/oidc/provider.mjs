// Starts panva's oidc-provider on 127.0.0.1 (a random port) for the tests.
// Client credentials are enabled; discovery metadata is served by the library.
// Prints the issuer URL on the first line of stdout, then serves until killed.
import Provider from 'oidc-provider';
import { createServer } from 'node:http';

const secret = process.env.OIDC_CLIENT_SECRET;
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'oidc-scanner',
      client_secret: secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'read:things',
    },
    {
      client_id: 'oidc-basic',
      client_secret: secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'read:things',
    },
  ],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
  },
  scopes: ['read:things'],
});
provider.proxy = false;
server.on('request', provider.callback());
process.stdout.write(`${issuer}\n`);
