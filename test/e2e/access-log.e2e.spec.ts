import { ApiClient } from '../helpers/http';
import { testJwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';

interface AccessLine {
  msg: string;
  path: string;
  status: number;
}

/** LOG_SAMPLE_SUCCESS: high-traffic operators keep errors and drop most successful proxied lines. */
describe('access log sampling', () => {
  let stack: Stack | undefined;
  let alice: ApiClient;

  const accessLines = (): AccessLine[] =>
    stack!.app.logs.map((l) => JSON.parse(l) as AccessLine).filter((l) => l.msg === 'request');

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  const start = async (sample: string) => {
    stack = await startStack({ env: { LOG_SAMPLE_SUCCESS: sample } });
    alice = new ApiClient(stack.url, testJwt('alice'));
    const saved = await alice.post('/api/user/api-keys', {
      provider: 'mistral',
      keyName: 'k',
      apiKey: 'mistral-sampling-key-0001',
    });
    expect(saved.status).toBe(201);
  };
  const chat = () =>
    alice.post('/v1/chat/completions', { model: 'mistral/mistral-small', messages: [] });

  it('LOG_SAMPLE_SUCCESS=0 drops successful proxied lines and keeps errors and /api lines', async () => {
    await start('0');
    for (let i = 0; i < 3; i++) expect((await chat()).status).toBe(200);
    stack!.double.nextResponse((_req, res) => {
      res.writeHead(500).end('upstream broke');
    });
    expect((await chat()).status).toBe(500);
    expect((await alice.as('not-a-token').get('/v1/models')).status).toBe(401);
    const proxied = accessLines().filter((l) => l.path.startsWith('/v1/'));
    expect(proxied.map((l) => l.status).sort()).toEqual([401, 500]);
    expect(accessLines().find((l) => l.path === '/api/user/api-keys')).toMatchObject({
      status: 201,
    });
  });

  it('keeps every line by default', async () => {
    await start('1');
    for (let i = 0; i < 3; i++) expect((await chat()).status).toBe(200);
    expect(accessLines().filter((l) => l.path === '/v1/chat/completions')).toHaveLength(3);
  });
});
