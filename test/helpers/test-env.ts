export interface TestServers {
  pgUrl: string;
  vaultAddr: string;
  vaultToken: string;
}

/** The servers test/helpers/global-setup.ts started, read from the environment it published. */
export function requireTestServers(): TestServers {
  const pgUrl = process.env.TEST_PG_URL;
  const vaultAddr = process.env.TEST_VAULT_ADDR;
  const vaultToken = process.env.TEST_VAULT_TOKEN;
  if (!pgUrl || !vaultAddr || !vaultToken) {
    const why =
      process.env.TEST_NO_SERVERS === '1'
        ? 'TEST_NO_SERVERS=1 was set, so no servers were started'
        : 'jest global setup (test/helpers/global-setup.ts) did not run';
    throw new Error(
      `This test needs the throwaway PostgreSQL and OpenBao servers, but ${why}. ` +
        'Run it through `npm test` or `npm run test:jest` without TEST_NO_SERVERS.',
    );
  }
  return { pgUrl, vaultAddr, vaultToken };
}
