/** The slice of the byok-proxy API this page uses (see /docs for all of it). */

export interface Provider {
  id: string;
  name: string;
  /** The credential kind: bearer, x-api-key, api-key, azure, sigv4, gcp-service-account. */
  auth: string;
  /** Non-secret parameters its keys carry (region, resource, baseUrl, …). */
  params: string[];
  envKey: string;
  envFallback: boolean;
  envFallbackAvailable: boolean;
}

export interface Key {
  id: string;
  provider: string;
  keyName: string;
  isActive: boolean;
  priority: number;
  keyHint: string;
  status: 'active' | 'inactive' | 'invalid';
  createdAt: string;
  lastUsedAt: string | null;
  lastVerifiedAt: string | null;
  version: number;
  params: Record<string, string> | null;
  /** The key's own limits: a key over one is skipped. */
  limits?: { tokensPerDay?: number | null } | null;
}

/** A key as admins list them: whose it is, too. */
export interface AdminKey extends Key {
  ownerType: 'user' | 'org';
  /** The user's JWT sub, or the organisation id. */
  ownerId: string;
}

export interface AccessToken {
  id: string;
  name: string;
  expiresAt: string | null;
  providers: string[] | null;
  createdAt: string;
  lastUsedAt?: string | null;
}

/** A token as admins and organisation admins list them: whose it is, too. */
export interface AdminToken extends AccessToken {
  ownerSub: string;
  orgId: string | null;
}

export interface CreatedToken extends AccessToken {
  token: string;
}

export interface VerifyResult {
  valid: boolean;
  upstreamStatus: number;
  lastVerifiedAt: string;
}

/** One row of GET /api/user/usage?groupBy=key: `group` is a key id, or `env:<provider>`. */
export interface UsageRow {
  group: string;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  /** Null when some requests had no price: then pricedCost and unpricedRequests say the rest. */
  cost: number | null;
  pricedCost: number;
  unpricedRequests: number;
  currency: string;
}

export interface UsageReport {
  data: UsageRow[];
  from: string;
  to: string;
}

export interface Answer<T> {
  status: number;
  body: T;
}

/** An API failure, worded for people: the problem's `detail` when the server sent one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'byok.token';

/** The token lives in this tab's sessionStorage only: never localStorage, never a cookie. */
export const session = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

export const isAccessToken = (token: string): boolean => token.startsWith('byok_');

interface Problem {
  detail?: unknown;
  title?: unknown;
  code?: unknown;
}

export async function api<T>(
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(`Cannot reach byok-proxy: ${(e as Error).message}`, 0);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const p = (json ?? {}) as Problem;
    const words =
      typeof p.detail === 'string' ? p.detail : typeof p.title === 'string' ? p.title : '';
    throw new ApiError(
      words || `byok-proxy answered HTTP ${res.status} ${res.statusText}`.trim(),
      res.status,
      typeof p.code === 'string' ? p.code : undefined,
    );
  }
  return { status: res.status, body: json as T };
}

/** The `sub` of a JWT, for display only: the server is what verifies it. */
export function jwtSubject(token: string): string | undefined {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part)) as { sub?: unknown };
    return typeof claims.sub === 'string' ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}
