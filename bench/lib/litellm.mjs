// The LiteLLM proxy row: PyPI `litellm[proxy]` (pinned) plus `opentelemetry-sdk` (its container
// image ships it; without it every request retries a failing import), installed once into a
// virtualenv outside the repository, configured as LiteLLM's production guide says: one model
// routed to the double with `api_base`, no database, spend and error logs off, a master key,
// LITELLM_LOG=ERROR, LITELLM_MODE=PRODUCTION, and offline (the local model cost map, no
// tokenizer download). One worker (`--num_workers 1`), as the report says.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, start, waitForHttp } from './processes.mjs';

export const LITELLM_VERSION = '1.108.7';
const MASTER_KEY = 'sk-litellm-bench-master-key';
const VENV = join(
  process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
  'byok-proxy',
  'bench',
  `litellm-${LITELLM_VERSION}`,
);
const BIN = join(VENV, 'bin', 'litellm');

/** The litellm executable, installing it first when missing; or why this row cannot run. */
export function ensureLitellm(log) {
  if (existsSync(BIN)) return { bin: BIN };
  log(`installing litellm[proxy]==${LITELLM_VERSION} into ${VENV} (once)`);
  mkdirSync(join(VENV, '..'), { recursive: true });
  const steps = [
    ['python3', ['-m', 'venv', VENV]],
    [
      join(VENV, 'bin', 'pip'),
      ['install', '-q', `litellm[proxy]==${LITELLM_VERSION}`, 'opentelemetry-sdk'],
    ],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0)
      return {
        missing: `installing litellm failed: ${(r.stderr || String(r.error)).trim().split('\n').at(-1)}`,
      };
  }
  return existsSync(BIN) ? { bin: BIN } : { missing: `no ${BIN} after installing` };
}

export function litellmTarget(providerKey, request_) {
  return {
    label: `litellm proxy ${LITELLM_VERSION} (1 worker)`,
    async start(ctx) {
      const found = ensureLitellm(ctx.log);
      if (found.missing) throw new Error(found.missing);
      const port = await freePort();
      const config = join(ctx.work, 'litellm.yaml');
      writeFileSync(
        config,
        [
          'model_list:',
          '  - model_name: gpt-4o-mini',
          '    litellm_params:',
          '      model: openai/gpt-4o-mini',
          `      api_base: ${ctx.double.origin}/v1`,
          `      api_key: ${providerKey}`,
          'litellm_settings:',
          '  disable_hf_tokenizer_download: true',
          '  telemetry: false',
          'general_settings:',
          `  master_key: ${MASTER_KEY}`,
          '  disable_spend_logs: true',
          '  disable_error_logs: true',
          '',
        ].join('\n'),
      );
      const env = {
        ...process.env,
        LITELLM_LOG: 'ERROR',
        LITELLM_MODE: 'PRODUCTION',
        LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      };
      delete env.DATABASE_URL; // no database (an empty one is refused)
      const proc = start(
        'litellm',
        found.bin,
        ['--config', config, '--host', '127.0.0.1', '--port', String(port), '--num_workers', '1'],
        { env, cwd: ctx.work, logFile: join(ctx.logDir, 'litellm.log') },
      );
      const origin = `http://127.0.0.1:${port}`;
      await waitForHttp(proc, `${origin}/health/liveliness`, 300_000);
      return {
        proc,
        origin,
        ...request_({ authorization: `Bearer ${MASTER_KEY}` }, 'gpt-4o-mini'),
      };
    },
  };
}
