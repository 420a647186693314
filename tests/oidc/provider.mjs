// A real OpenID provider for the single sign-on tests (npm package oidc-provider, pinned in package.json).
//
//   node provider.mjs <port> <config.json>
//
// config.json: {"client": {"id", "secret", "redirect_uri", "post_logout_redirect_uri"}, "audience": "...",
//               "users": {"<login>": {"email", "given_name", "family_name", "groups": [...], "disabled": false}}}
// The users are read again at every lookup, so a test disables one by rewriting the file: the provider then
// refuses that account's next refresh-token grant. The login page is the package's development page (any
// password): the tests are about what the app does with the provider's answers, not about passwords.
// Authorization code with PKCE (required), refresh tokens, JWT access tokens for the API audience (resource
// indicators), JWKS, RP-initiated logout. Prints "listening <issuer>" once it serves.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, configPath] = process.argv.slice(2);
const config = () => JSON.parse(readFileSync(configPath, 'utf8'));
const issuer = `http://127.0.0.1:${port}`;
const { client, audience } = config();

const provider = new Provider(issuer, {
  clients: [{
    client_id: client.id,
    client_secret: client.secret,
    redirect_uris: [client.redirect_uri],
    post_logout_redirect_uris: [client.post_logout_redirect_uri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  pkce: { required: () => true },
  // Claims travel in the signed ID token (the app reads them there; the access token is the API's).
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name', 'groups'] },
  async findAccount(ctx, id) {
    const user = config().users[id];
    if (!user || user.disabled) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: user.email, email_verified: true, given_name: user.given_name,
                 family_name: user.family_name, groups: user.groups };
      },
    };
  },
  // A first-party app: no consent page; every sign-in gets the standard scopes and the API's.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return provider.Grant.find(grantId);
    const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    grant.addResourceScope(audience, 'api');
    await grant.save();
    return grant;
  },
  issueRefreshToken: async (ctx, refreshClient) => refreshClient.grantTypeAllowed('refresh_token'),
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'api', audience, accessTokenFormat: 'jwt', accessTokenTTL: 300 }),
    },
  },
  ttl: { AccessToken: 300, IdToken: 300, RefreshToken: 3600, Session: 3600, Grant: 3600, Interaction: 600 },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

provider.listen(Number(port), '127.0.0.1', () => console.log(`listening ${issuer}`));
