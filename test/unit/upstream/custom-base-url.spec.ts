import type { LookupAddress } from 'node:dns';
import { AppError } from '../../../src/common/errors/app-error';
import { ConfigError } from '../../../src/config/app-config';
import { CustomBaseUrlPolicy, type Resolve } from '../../../src/upstream/custom-base-url';

const v4 = (address: string): LookupAddress => ({ address, family: 4 });

/** A resolver whose answers are scripted per call: the DNS-rebinding attacker's. */
function scripted(...answers: LookupAddress[][]): Resolve & { calls: number } {
  const r = Object.assign(
    (): Promise<LookupAddress[]> =>
      Promise.resolve(answers[Math.min(r.calls++, answers.length - 1)]),
    { calls: 0 },
  );
  return r;
}

const refusal = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).status).toBe(400);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

/** The connect-time lookup, as a promise of the address the socket would connect to. */
const connectTo = (policy: CustomBaseUrlPolicy, host: string) =>
  new Promise<string>((resolve, reject) =>
    policy.lookup(host, {}, (err, address) => (err ? reject(err) : resolve(address as string))),
  );

describe('CustomBaseUrlPolicy', () => {
  it('allows nothing by default', async () => {
    const policy = new CustomBaseUrlPolicy([]);
    expect(policy.enabled).toBe(false);
    expect(await refusal(policy.check('http://8.8.8.8'))).toContain(
      'CUSTOM_BASE_URL_ALLOWLIST is empty',
    );
  });

  it('refuses bad allowlist entries at start-up', () => {
    expect(() => new CustomBaseUrlPolicy(['10.0.0.0/33'])).toThrow(ConfigError);
    expect(() => new CustomBaseUrlPolicy(['http://x'])).toThrow(ConfigError);
  });

  it('allows a listed host that resolves to public addresses, and a listed CIDR', async () => {
    const policy = new CustomBaseUrlPolicy(
      ['*.models.example', '10.20.0.0/16'],
      scripted([v4('93.184.216.34')]),
    );
    expect(await policy.check('https://vllm.models.example/')).toBe('https://vllm.models.example');
    expect(await policy.check('http://10.20.3.4:8000')).toBe('http://10.20.3.4:8000');
    expect(await refusal(policy.check('https://models.example'))).toContain('not allowed');
    expect(await refusal(policy.check('http://10.21.0.1'))).toContain('private');
  });

  it('refuses a listed host that resolves to a private or link-local address no CIDR lists', async () => {
    const policy = new CustomBaseUrlPolicy(
      ['vllm.internal'],
      scripted([v4('93.184.216.34'), v4('169.254.169.254')]),
    );
    expect(await refusal(policy.check('http://vllm.internal'))).toContain('169.254.169.254');
  });

  it('checks the address it connects to: a name that resolves elsewhere the second time is refused', async () => {
    const resolver = scripted([v4('93.184.216.34')], [v4('127.0.0.1')]);
    const policy = new CustomBaseUrlPolicy(['vllm.models.example'], resolver);
    // At save, the name resolves to a public address and passes.
    await policy.check('http://vllm.models.example');
    // At use, the socket's own lookup sees the rebound answer and refuses to connect.
    await expect(connectTo(policy, 'vllm.models.example')).rejects.toMatchObject({
      code: 'BYOK_ADDRESS_REFUSED',
    });
    expect(resolver.calls).toBe(2);
  });

  it('hands the socket exactly the address it checked', async () => {
    const policy = new CustomBaseUrlPolicy(['10.0.0.0/8'], scripted([v4('10.1.2.3')]));
    expect(await connectTo(policy, 'gpu-box')).toBe('10.1.2.3');
  });

  it('refuses IP literals at use when they are not allowed (no lookup runs for them)', async () => {
    const policy = new CustomBaseUrlPolicy(['127.0.0.0/8']);
    await expect(policy.checkLiteral('http://127.0.0.1:8000/v1/x')).resolves.toBeUndefined();
    expect(await refusal(policy.checkLiteral('http://[::ffff:169.254.169.254]/v1/x'))).toContain(
      '169.254.169.254',
    );
  });
});
