import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { stdoutDestination } from '../../../src/common/logging';
import type { AppConfig } from '../../../src/config/app-config';

/** What one log line through stdoutDestination looks like, on a stream that is or is not a TTY. */
async function written(config: Partial<AppConfig>, tty: boolean): Promise<string> {
  const out = Object.assign(new PassThrough(), { isTTY: tty });
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const logger = pino({ level: 'info' }, stdoutDestination(config as AppConfig, out));
  logger.info({ context: 'Main' }, 'byok-proxy listening');
  for (let i = 0; i < 50 && !text.includes('\n'); i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return text;
}

// eslint-disable-next-line no-control-regex
const COLOUR = /\u001b\[\d+m/g;
const pretty = (line: string, colours: boolean) => {
  expect(line.includes('\u001b[')).toBe(colours);
  expect(line.replace(COLOUR, '')).toMatch(
    /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[Main\] byok-proxy listening\n$/,
  );
};
const json = (line: string) =>
  expect(JSON.parse(line)).toMatchObject({
    level: 30,
    context: 'Main',
    msg: 'byok-proxy listening',
  });

describe('log output (LOG_PRETTY)', () => {
  it('is one coloured line with the context in brackets at a terminal outside production', async () => {
    pretty(await written({ production: false }, true), true);
  });

  it('is JSON when stdout is not a terminal, or in production', async () => {
    json(await written({ production: false }, false));
    json(await written({ production: true }, true));
  });

  it('follows LOG_PRETTY when it is set, whatever stdout is', async () => {
    pretty(await written({ production: true, logPretty: true }, false), false);
    json(await written({ production: false, logPretty: false }, true));
  });
});
