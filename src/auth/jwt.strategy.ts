import { Inject, Injectable, Logger } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import type { Algorithm } from 'jsonwebtoken';
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import {
  Strategy,
  type SecretOrKeyProvider,
  type StrategyOptionsWithoutRequest,
} from 'passport-jwt';
import { AppError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Caller } from './caller';
import { callerFromClaims, type JwtClaims } from './claims';
import { readCredential, type RequestHeaders } from './credential';
import { resolveJwtSecret } from './dev-secret';
import { headerAlg, jwtFailure, JwksUnavailableError, JwtRejectedError } from './jwt-errors';

/** What a verified JWT yields: the caller, and when the token stops being valid (epoch ms). */
export interface VerifiedJwt {
  caller: Caller;
  expiresAt: number;
}

/** Asymmetric only: an HS256 token in JWKS mode would let anyone holding a public key sign. */
export const OIDC_ALGORITHMS: Algorithm[] = ['RS256', 'ES256'];
export const DEV_ALGORITHMS: Algorithm[] = ['HS256'];

type StrategyRequest = Parameters<Strategy['authenticate']>[0];

/**
 * JWT verification through passport-jwt. `verify(raw)` drives the strategy the way passport's
 * middleware does (a per-call object inheriting from the strategy, with its own success / fail /
 * error), so the guard can verify a credential it has already read and routed, without
 * passport's request plumbing. Registered as 'jwt' too, so `AuthGuard('jwt')` also works.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    super(strategyOptions(config, new Logger('JwtStrategy')));
  }

  validate(payload: JwtClaims): VerifiedJwt {
    // jsonwebtoken checks `exp` only when present; a token without one would be valid forever.
    if (typeof payload.exp !== 'number') {
      throw new AppError(
        'unauthorized',
        'JWT has no expiry ("exp" claim): tokens that never expire are not accepted',
      );
    }
    return {
      caller: callerFromClaims(payload, this.config.auth),
      expiresAt: payload.exp * 1000,
    };
  }

  /**
   * Verifies a raw JWT; rejects with AppError 401 saying what is wrong, also when the signing key
   * is not cached and the identity provider cannot be reached (keys already fetched keep working
   * for their cache age, 10 minutes, without it).
   */
  verify(raw: string): Promise<VerifiedJwt> {
    return new Promise<VerifiedJwt>((resolve, reject) => {
      const attempt = Object.create(this) as JwtStrategy;
      attempt.success = (user: unknown) => resolve(user as VerifiedJwt);
      attempt.fail = (challenge: unknown) => reject(jwtFailure(challenge));
      attempt.error = (err: unknown) => reject(jwtFailure(err));
      const request = { headers: { authorization: `Bearer ${raw}` } };
      // passport-jwt reads only what jwtFromRequest reads: the headers of this stand-in request.
      attempt.authenticate(request as unknown as StrategyRequest, {});
    });
  }
}

function strategyOptions(config: AppConfig, logger: Logger): StrategyOptionsWithoutRequest {
  const { auth } = config;
  const common = {
    jwtFromRequest: (req: { headers?: RequestHeaders }): string | null => {
      try {
        return readCredential(req.headers ?? {}) ?? null;
      } catch {
        return null;
      }
    },
    issuer: auth.issuer,
    audience: auth.audience,
  };
  if (auth.jwksUri) {
    const jwks = passportJwtSecret({
      jwksUri: auth.jwksUri,
      cache: true,
      cacheMaxEntries: 20,
      cacheMaxAge: 10 * 60 * 1000,
      // Unknown `kid`s force a refetch; the limit stops a client from making us hammer the IdP.
      rateLimit: true,
      jwksRequestsPerMinute: 10,
      timeout: 10_000,
      handleSigningKeyError: (err, cb) => {
        if (!err) return cb(null);
        if (err.name === 'SigningKeyNotFoundError' || err.name === 'JwksRateLimitError') {
          return cb(
            new JwtRejectedError(`JWT signing key not found in the issuer's JWKS (${err.message})`),
          );
        }
        logger.warn(`JWKS fetch from AUTH_JWKS_URI failed: ${err.message}`);
        return cb(
          new JwksUnavailableError(
            'Cannot verify the JWT: the identity provider could not be reached for its signing keys (AUTH_JWKS_URI could not be fetched); try again shortly',
          ),
        );
      },
    });
    return {
      ...common,
      algorithms: OIDC_ALGORITHMS,
      secretOrKeyProvider: acceptOnly(OIDC_ALGORITHMS, parsedKeys(jwks as SecretOrKeyProvider)),
    };
  }

  const { secret, source, path } = resolveJwtSecret(config);
  if (source !== 'env') {
    // One line: a multi-line banner ends up as one JSON string full of \n in a log collector.
    logger.warn(
      `DEV MODE AUTH: AUTH_JWKS_URI and AUTH_JWT_SECRET are unset; JWTs are HS256-signed with a ${source === 'generated' ? 'newly generated' : 'generated'} secret in ${path}. Mint a token with: npm run token -- --sub alice [--org acme] [--org-role admin] [--admin]. This is for development only; production needs AUTH_JWKS_URI (or an explicit AUTH_JWT_SECRET).`,
    );
  }
  // A prebuilt KeyObject spares jsonwebtoken a failed createPublicKey() (and its thrown
  // exception) on every verification; jsonwebtoken accepts KeyObjects, the types do not say so.
  const key = createSecretKey(Buffer.from(secret, 'utf8')) as unknown as Buffer;
  return {
    ...common,
    algorithms: DEV_ALGORITHMS,
    secretOrKeyProvider: acceptOnly(DEV_ALGORITHMS, (_req, _raw, done) => done(null, key)),
  };
}

/** Refuses a token whose header names another algorithm before any key is looked up. */
function acceptOnly(algorithms: Algorithm[], next: SecretOrKeyProvider): SecretOrKeyProvider {
  const expected = algorithms.join(' or ');
  return (req, raw: string, done) => {
    const alg = headerAlg(raw);
    if (alg === undefined) {
      return done(
        new JwtRejectedError(
          'JWT malformed: expected three base64url parts, header.payload.signature',
        ),
      );
    }
    if (!(algorithms as string[]).includes(alg)) {
      return done(
        new JwtRejectedError(
          `JWT algorithm ${alg} is not accepted: tokens must be signed with ${expected}`,
        ),
      );
    }
    next(req, raw, done);
  };
}

/**
 * jwks-rsa hands out PEM strings, which jsonwebtoken would parse again on every verification
 * (measured: about two thirds of an RS256 verify). Keys rotate rarely, so parse each PEM once.
 */
function parsedKeys(next: SecretOrKeyProvider): SecretOrKeyProvider {
  const parsed = new Map<string, KeyObject>();
  return (req, raw: string, done) =>
    next(req, raw, (err: unknown, pem?: string | Buffer) => {
      if (err || typeof pem !== 'string') return done(err, pem);
      let key = parsed.get(pem);
      if (!key) {
        if (parsed.size >= 32) parsed.clear();
        key = createPublicKey(pem);
        parsed.set(pem, key);
      }
      // jsonwebtoken accepts KeyObjects; passport-jwt's types only say string | Buffer.
      done(null, key as unknown as Buffer);
    });
}
