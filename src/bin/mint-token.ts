import 'reflect-metadata';
import { sign, type SignOptions } from 'jsonwebtoken';
import { parseArgs } from 'node:util';
import { setClaim, type JwtClaims } from '../auth/claims';
import { resolveJwtSecret } from '../auth/dev-secret';
import { ConfigError, loadConfig } from '../config/app-config';

/**
 * Mints a dev-mode HS256 JWT with the secret the server uses (AUTH_JWT_SECRET, or the one in
 * DATA_DIR/dev-jwt.secret). Only the token goes to stdout, so `TOKEN=$(npm run -s token -- --sub
 * alice)` works; everything else goes to stderr.
 */
const USAGE = `Usage: npm run -s token -- --sub <user> [--org <org id>] [--org-role <role>] [--admin] [--expires-in 1h]

  --sub         user id (the JWT "sub"); required
  --org         organisation id, written to the AUTH_ORG_CLAIM claim
  --org-role    organisation role, written to AUTH_ORG_ROLE_CLAIM (AUTH_ORG_ADMIN_VALUE makes an org admin)
  --admin       sets AUTH_ADMIN_CLAIM to AUTH_ADMIN_VALUE (service administrator)
  --expires-in  lifetime: <n>s, <n>m, <n>h or <n>d (default 1h)`;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

class UsageError extends Error {}
/** A correct command in the wrong setting: the message is all the user needs. */
class RefusedError extends Error {}

function parseLifetime(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2]] : NaN;
  if (!(seconds > 0)) {
    throw new UsageError(`--expires-in "${text}" is not a lifetime like 30m, 1h or 7d`);
  }
  return seconds;
}

function mint(argv: string[], env: NodeJS.ProcessEnv): string {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      sub: { type: 'string' },
      org: { type: 'string' },
      'org-role': { type: 'string' },
      admin: { type: 'boolean', default: false },
      'expires-in': { type: 'string', default: '1h' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) throw new UsageError('');
  if (!values.sub) throw new UsageError('--sub is required');
  if (values['org-role'] && !values.org) {
    throw new UsageError('--org-role needs --org: a role means nothing without its organisation');
  }
  const expiresIn = parseLifetime(values['expires-in']);

  const config = loadConfig(env);
  if (config.auth.jwksUri) {
    throw new RefusedError(
      'AUTH_JWKS_URI is set: the server accepts only tokens from your identity provider, so a dev token would be refused. Unset AUTH_JWKS_URI to use dev tokens.',
    );
  }
  const { secret, source, path } = resolveJwtSecret(config);
  if (source === 'generated') process.stderr.write(`Generated a dev JWT secret in ${path}\n`);

  const { auth } = config;
  const claims: JwtClaims = { sub: values.sub };
  if (values.org) setClaim(claims, auth.orgClaim, values.org);
  if (values['org-role']) setClaim(claims, auth.orgRoleClaim, values['org-role']);
  // The server compares claims as text, so `true` and "true" both match AUTH_ADMIN_VALUE=true;
  // a boolean is what identity providers usually emit.
  if (values.admin)
    setClaim(claims, auth.adminClaim, auth.adminValue === 'true' ? true : auth.adminValue);

  const options: SignOptions = { algorithm: 'HS256', expiresIn };
  if (auth.issuer) options.issuer = auth.issuer;
  if (auth.audience) options.audience = auth.audience;
  return sign(claims, secret, options);
}

try {
  process.stdout.write(`${mint(process.argv.slice(2), process.env)}\n`);
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(err.message ? `${err.message}\n\n${USAGE}\n` : `${USAGE}\n`);
    process.exitCode = err.message ? 2 : 0;
  } else if (
    err instanceof TypeError &&
    String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')
  ) {
    process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else if (err instanceof ConfigError || err instanceof RefusedError) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
