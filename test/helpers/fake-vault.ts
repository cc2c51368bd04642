import type { VaultClient } from '../../src/secret-store/vault-auth';

/** What node-vault rejects with when Vault answers non-2xx. */
export function apiError(statusCode: number, errors: string[] = []): Error {
  return Object.assign(new Error(errors[0] ?? `Status ${statusCode}`), {
    response: { statusCode, body: { errors } },
  });
}

/** An in-memory Vault for unit tests: each method is a jest mock the test scripts. */
export class FakeVault implements VaultClient {
  read = jest.fn<Promise<unknown>, [string]>();
  write = jest.fn<Promise<unknown>, [string, unknown]>();
  delete = jest.fn<Promise<unknown>, [string]>();
  health = jest.fn<Promise<unknown>, []>();
  tokenLookupSelf = jest.fn<Promise<unknown>, []>();
  tokenRenewSelf = jest.fn<Promise<unknown>, []>();
  approleLogin = jest.fn<Promise<unknown>, [{ mount_point: string; role_id: string }]>();
  kubernetesLogin = jest.fn<
    Promise<unknown>,
    [{ mount_point: string; role: string; jwt: string }]
  >();

  constructor(public token = '') {}
}
