import { sign, type SignOptions } from 'jsonwebtoken';
import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultExpiry, payloadOf, type Claims } from './mint-jwt';

export type AsymmetricAlg = 'RS256' | 'ES256';

/** A local OIDC issuer's JWKS endpoint with one RS256 and one ES256 key. */
export interface JwksServer {
  /** `http://127.0.0.1:<port>/.well-known/jwks.json` */
  jwksUri: string;
  /** Signs with the key for `alg`; its `kid` goes in the header so jwks-rsa can pick it. */
  sign(claims: Claims, alg: AsymmetricAlg, opts?: SignOptions): string;
  /** How many times the JWKS document was fetched (cache checks). */
  fetches(): number;
  close(): Promise<void>;
}

interface Pair {
  kid: string;
  privateKey: KeyObject;
  jwk: JsonWebKey;
}

function pair(alg: AsymmetricAlg): Pair {
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `test-${alg.toLowerCase()}`;
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

export async function startJwksServer(): Promise<JwksServer> {
  const keys: Record<AsymmetricAlg, Pair> = { RS256: pair('RS256'), ES256: pair('ES256') };
  const body = JSON.stringify({ keys: [keys.RS256.jwk, keys.ES256.jwk] });
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUri: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    sign: (claims, alg, opts = {}) =>
      sign(payloadOf(claims), keys[alg].privateKey, {
        algorithm: alg,
        keyid: keys[alg].kid,
        ...defaultExpiry(claims),
        ...opts,
      }),
    fetches: () => fetches,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
