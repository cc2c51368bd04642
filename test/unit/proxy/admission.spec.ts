import type { Caller } from '../../../src/auth/caller';
import type { AppConfig } from '../../../src/config/app-config';
import type { Estimate, LimitsService } from '../../../src/limits/limits.service';
import { Admission } from '../../../src/proxy/admission';
import type { Exchange } from '../../../src/proxy/exchange';
import type { ProxyTarget } from '../../../src/proxy/proxy-target';
import { PriceTable } from '../../../src/usage/prices';

const RESERVE = 1000;

/** The estimate admission hands to the caller's limits for one request. */
async function estimateOf(operation: ProxyTarget['operation'], body: object): Promise<Estimate> {
  let seen: Estimate | undefined;
  const limits = {
    countsTokens: () => Promise.resolve(true),
    admitUser: (_sub: string, e?: Estimate) => {
      seen = e;
      return Promise.resolve(undefined);
    },
  } as unknown as LimitsService;
  const admission = new Admission(
    { reserveOutputTokens: RESERVE } as AppConfig,
    limits,
    new PriceTable([]),
  );
  const bytes = Buffer.from(JSON.stringify(body));
  const target = { provider: { id: 'p' }, body: bytes, json: true, operation } as ProxyTarget;
  const ex = { reservations: [] } as unknown as Exchange;
  await admission.admitCaller(ex, { sub: 'u' } as Caller, target);
  return seen!;
}

describe('Admission estimates', () => {
  const prompt = (body: object) => Math.ceil(JSON.stringify(body).length / 4);

  it.each([
    ['OpenAI max_tokens', 'chat', { max_tokens: 7 }, 7],
    [
      'Bedrock Converse inferenceConfig.maxTokens',
      'chat',
      { inferenceConfig: { maxTokens: 9 } },
      9,
    ],
    [
      'Gemini generationConfig.maxOutputTokens',
      'generate_content',
      { generationConfig: { maxOutputTokens: 11 } },
      11,
    ],
    ['a generate_content call without a cap', 'generate_content', { contents: [] }, RESERVE],
    ['a chat without a cap', 'chat', { messages: [] }, RESERVE],
    ['an embedding', 'embeddings', { input: 'x' }, 0],
  ] as const)('reserves the prompt plus %s', async (_, operation, body, output) => {
    expect((await estimateOf(operation, body)).tokens).toBe(prompt(body) + output);
  });
});
