import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A Kubernetes service account as the TokenReview API reports it. */
export interface ServiceAccount {
  namespace: string;
  name: string;
  uid: string;
}

export interface TokenReviewDouble {
  /** Base URL to give Vault/OpenBao as `kubernetes_host`. */
  url: string;
  /** A CA certificate to give as `kubernetes_ca_cert` (see UNUSED_CA_CERT). */
  caCert: string;
  /** Every TokenReview request body received, newest last. */
  reviews: Array<{ token: string; audiences?: string[]; authorization?: string }>;
  /** Makes the double answer `authenticated: false` for this JWT from now on (a deleted account). */
  revoke(jwt: string): void;
  close(): Promise<void>;
}

/**
 * OpenBao refuses `disable_local_ca_jwt=true` without a `kubernetes_ca_cert` (and without it
 * reads /var/run/secrets/kubernetes.io/serviceaccount/ca.crt). The double speaks plain HTTP,
 * so the CA is never used: this is a throwaway self-signed certificate whose private key was
 * discarded when it was made.
 */
const UNUSED_CA_CERT = `-----BEGIN CERTIFICATE-----
MIIBvjCCAWOgAwIBAgIUF+jZGxj9U6CoWjIpeadlzZUJE1swCgYIKoZIzj0EAwIw
MzExMC8GA1UEAwwoYnlvay10ZXN0IHRva2VucmV2aWV3IGRvdWJsZSAodW51c2Vk
IENBKTAgFw0yNjExMjkxNTQxNTRaGA8yMTI2MTEwNTE1NDE1NFowMzExMC8GA1UE
AwwoYnlvay10ZXN0IHRva2VucmV2aWV3IGRvdWJsZSAodW51c2VkIENBKTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABNI/HRn8HX7+V+73NizX+ABnq5msLlTIHUat
QCauBjfY7bsGRIV5Jp5wVPhuVQq2WROqAUgLVYE/3a2G2giPL2ijUzBRMB0GA1Ud
DgQWBBTsTZOQPQFtjqUU3PErNyvCpo26TzAfBgNVHSMEGDAWgBTsTZOQPQFtjqUU
3PErNyvCpo26TzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQCT
os5z88KBEPpDe3ZuB5h66Od0uE3ahT4ZWxMWr5QqpAIhAMB+dYmLzyX6YAkmfrkP
YDmnYn5VVSyXlrvPxPz5ojhu
-----END CERTIFICATE-----
`;

const REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
// Vault's kubernetes auth parses the JWT and accepts only asymmetric algorithms, but checks no
// signature unless given the cluster's public keys: one throwaway RSA key is enough.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const b64url = (v: object | Buffer) =>
  (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');

/**
 * A service-account JWT shaped like the legacy secret-based token Kubernetes mounts, with the
 * claims Vault reads (namespace, name, uid, sub), RS256-signed by a throwaway key.
 */
export function mintServiceAccountJwt(sa: ServiceAccount, extra: Record<string, unknown> = {}) {
  const header = { alg: 'RS256', typ: 'JWT', kid: 'byok-test' };
  const payload = {
    iss: 'kubernetes/serviceaccount',
    sub: `system:serviceaccount:${sa.namespace}:${sa.name}`,
    'kubernetes.io/serviceaccount/namespace': sa.namespace,
    'kubernetes.io/serviceaccount/secret.name': `${sa.name}-token-${randomUUID().slice(0, 5)}`,
    'kubernetes.io/serviceaccount/service-account.name': sa.name,
    'kubernetes.io/serviceaccount/service-account.uid': sa.uid,
    ...extra,
  };
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), privateKey))}`;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

function send(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * The one Kubernetes API Vault's kubernetes auth calls: TokenReview. Known JWTs are
 * authenticated as their service account; anything else is `authenticated: false`, as a
 * real API server answers for a deleted account or a forged token.
 */
export async function startTokenReviewDouble(
  accounts: Map<string, ServiceAccount>,
): Promise<TokenReviewDouble> {
  const reviews: TokenReviewDouble['reviews'] = [];
  const revoked = new Set<string>();
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== REVIEW_PATH) {
      send(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404 });
      return;
    }
    readJson(req)
      .then((body) => {
        const spec = (body as { spec?: { token?: string; audiences?: string[] } }).spec ?? {};
        const token = spec.token ?? '';
        reviews.push({
          token,
          audiences: spec.audiences,
          authorization: req.headers.authorization,
        });
        const sa = revoked.has(token) ? undefined : accounts.get(token);
        const status = sa
          ? {
              authenticated: true,
              user: {
                username: `system:serviceaccount:${sa.namespace}:${sa.name}`,
                uid: sa.uid,
                groups: [
                  'system:serviceaccounts',
                  `system:serviceaccounts:${sa.namespace}`,
                  'system:authenticated',
                ],
              },
              audiences: spec.audiences ?? [],
            }
          : { authenticated: false, error: 'token not recognised by the double' };
        send(res, 201, {
          kind: 'TokenReview',
          apiVersion: 'authentication.k8s.io/v1',
          metadata: { creationTimestamp: null },
          spec,
          status,
        });
      })
      .catch(() => send(res, 400, { kind: 'Status', status: 'Failure', code: 400 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    caCert: UNUSED_CA_CERT,
    reviews,
    revoke: (jwt) => void revoked.add(jwt),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
