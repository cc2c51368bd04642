// How to start each process under test and how to address it. Every target gets the same
// chat-completion request; only the credential, routing headers and model spelling differ,
// as each gateway's users would send them.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { request } from 'undici';
import { findBackingServers, startOpenBao, startPostgres } from './backing-servers.mjs';
import { litellmTarget } from './litellm.mjs';
import { ProcessError, freePort, start, stop, waitForHttp } from './processes.mjs';

const require = createRequire(import.meta.url);
export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const SERVERS = join(ROOT, 'bench/servers');

/** The provider key every proxy must inject; the double answers 401 to anything else. */
export const PROVIDER_KEY = 'sk-bench-0123456789abcdef';
const JWT_SECRET = 'byok-bench-jwt-secret-0123456789abcdef';
const PATH = '/v1/chat/completions';

export function chatBody(model, stream) {
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a terse assistant.' },
      { role: 'user', content: 'Say hello to the benchmark.' },
    ],
    max_tokens: 16,
    ...(stream ? { stream: true } : {}),
  });
}

const request_ = (headers, model) => ({
  path: PATH,
  headers: { 'content-type': 'application/json', ...headers },
  body: chatBody(model, false),
  streamBody: chatBody(model, true),
});

const node = process.execPath;

export async function startDouble(ctx) {
  const port = await freePort();
  const proc = start(
    'double',
    node,
    [
      join(SERVERS, 'double.mjs'),
      `--port=${port}`,
      `--key=${PROVIDER_KEY}`,
      `--chunks=${ctx.stream.chunks}`,
      `--chunk-delay-ms=${ctx.stream.chunkDelayMs}`,
    ],
    { env: process.env, cwd: ROOT, logFile: join(ctx.logDir, 'double.log') },
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(proc, `${origin}/healthz`, 10_000);
  return { proc, origin };
}

export const TARGETS = {
  /** The client talks to the double itself: the floor every other row is compared with. */
  direct: {
    label: 'direct',
    async start(ctx) {
      return {
        proc: undefined,
        origin: ctx.double.origin,
        ...request_({ authorization: `Bearer ${PROVIDER_KEY}` }, 'gpt-4o-mini'),
      };
    },
  },

  bare: {
    label: 'bare (undici pass-through)',
    async start(ctx) {
      const port = await freePort();
      const proc = start(
        'bare',
        node,
        [
          join(SERVERS, 'bare.mjs'),
          `--port=${port}`,
          `--upstream=${ctx.double.origin}`,
          `--key=${PROVIDER_KEY}`,
        ],
        { env: process.env, cwd: ROOT, logFile: join(ctx.logDir, 'bare.log') },
      );
      const origin = `http://127.0.0.1:${port}`;
      await waitForHttp(proc, `${origin}/healthz`, 10_000);
      return {
        proc,
        origin,
        ...request_({ authorization: 'Bearer caller-credential' }, 'gpt-4o-mini'),
      };
    },
  },

  portkey: {
    label: 'portkey (@portkey-ai/gateway)',
    async start(ctx) {
      const pkg = require.resolve('@portkey-ai/gateway/package.json');
      const main = join(pkg, '..', require(pkg).bin);
      const port = await freePort();
      const proc = start(
        'portkey',
        node,
        ['--import', join(SERVERS, 'portkey-preload.mjs'), main, `--port=${port}`, '--headless'],
        { env: process.env, cwd: ROOT, logFile: join(ctx.logDir, 'portkey.log') },
      );
      const origin = `http://127.0.0.1:${port}`;
      await waitForHttp(proc, `${origin}/`, 30_000);
      return {
        proc,
        origin,
        ...request_(
          {
            authorization: `Bearer ${PROVIDER_KEY}`,
            'x-portkey-provider': 'openai',
            'x-portkey-custom-host': `${ctx.double.origin}/v1`,
          },
          'gpt-4o-mini',
        ),
      };
    },
  },
};

TARGETS.litellm = litellmTarget(PROVIDER_KEY, request_);

/**
 * Per-user default limits so high that no request is ever refused, yet every request goes
 * through limit admission (the rpm counter) and every response's tokens and cost are counted
 * (tpm, tpd and budget counters): the `byok-limits` row. Without LIMIT_USER_* (the other rows)
 * the user is unlimited and both are skipped.
 */
export const BENCH_LIMITS_ENV = {
  LIMIT_USER_RPM: '100000000',
  LIMIT_USER_TPM: '100000000000',
  LIMIT_USER_TPD: '100000000000',
  LIMIT_USER_MONTHLY_BUDGET_USD: '100000000',
};

/** The OTLP sink a tracing row exports to (servers/otlp-sink.mjs), one per row. */
async function startOtlpSink(ctx, name) {
  const port = await freePort();
  const proc = start(name, node, [join(SERVERS, 'otlp-sink.mjs'), `--port=${port}`], {
    env: process.env,
    cwd: ROOT,
    logFile: join(ctx.logDir, `${name}.log`),
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(proc, `${origin}/healthz`, 10_000);
  return origin;
}

/**
 * byok-proxy at the given LOG_LEVEL: on its embedded defaults (PGlite + local store), or with
 * `servers` on PostgreSQL + OpenBao (KV v2, token auth) started for it. With `limits`, the
 * same embedded defaults plus BENCH_LIMITS_ENV. With `tracing`, exporting to a local OTLP sink:
 * `true` samples every request, a number that share of them (parentbased_traceidratio).
 */
export function byokTarget(logLevel, { servers = false, limits = false, tracing = false } = {}) {
  const found = servers ? findBackingServers() : {};
  const sampled = typeof tracing === 'number';
  const kind = `${servers ? 'servers-' : ''}${limits ? 'limits-' : ''}${tracing ? 'tracing-' : ''}${sampled ? 'sampled-' : ''}`;
  return {
    label: servers
      ? `byok-proxy (PostgreSQL + OpenBao, LOG_LEVEL=${logLevel})`
      : limits
        ? `byok-proxy (limits on, LOG_LEVEL=${logLevel})`
        : sampled
          ? `byok-proxy (tracing on, ${tracing * 100} % sampled, LOG_LEVEL=${logLevel})`
          : tracing
            ? `byok-proxy (tracing on, LOG_LEVEL=${logLevel})`
            : `byok-proxy (LOG_LEVEL=${logLevel})`,
    byok: true,
    skip: found.missing,
    async start(ctx) {
      const dataDir = join(ctx.dataDir, `${kind}${logLevel}`);
      const backing = {};
      if (servers) {
        const [db, bao] = await Promise.all([
          startPostgres(ctx, found.pgBin),
          startOpenBao(ctx, found.bao),
        ]);
        Object.assign(backing, {
          DATABASE_URL: db.url,
          SECRET_STORE: 'vault',
          VAULT_ADDR: bao.addr,
          VAULT_AUTH: 'token',
          VAULT_TOKEN: bao.token,
        });
      }
      const sink = tracing && (await startOtlpSink(ctx, `otlp-sink-${kind}${logLevel}`));
      // Taken last: PostgreSQL and OpenBao bind ports of their own while they start.
      const port = await freePort();
      const env = {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: logLevel,
        NODE_ENV: 'development',
        AUTH_JWT_SECRET: JWT_SECRET,
        OPENAI_BASE_URL: ctx.double.origin,
        ...backing,
        ...(limits ? BENCH_LIMITS_ENV : {}),
        ...(sink ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink } : {}),
        ...(sampled
          ? {
              OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
              OTEL_TRACES_SAMPLER_ARG: String(tracing),
            }
          : {}),
        ...ctx.byokEnv,
      };
      const name = `byok-proxy-${kind}${logLevel}`;
      const launch = async (run) => {
        const t0 = performance.now();
        const proc = start(`${name}${run}`, node, [...ctx.nodeArgs, join(ROOT, 'dist/main.js')], {
          env,
          cwd: ROOT,
          logFile: join(ctx.logDir, `${name}${run}.log`),
        });
        await waitForHttp(proc, `${origin}/readyz`, 180_000);
        return { proc, readySeconds: (performance.now() - t0) / 1000 };
      };
      const origin = `http://127.0.0.1:${port}`;
      const { proc, readySeconds } = await launch('');
      const token = jwt.sign({ sub: 'bench' }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '6h' });
      await storeKey(origin, token);
      const target = {
        proc,
        origin,
        readySeconds,
        /** Stops it and starts it again on the same DATA_DIR: seconds until /readyz is 200. */
        async restart() {
          await stop(target.proc, 30_000);
          const again = await launch('-restart');
          target.proc = again.proc;
          return again.readySeconds;
        },
        ...request_({ authorization: `Bearer ${token}` }, 'openai/gpt-4o-mini'),
        /** Spans the OTLP sink has received so far (tracing rows only). */
        exportedSpans:
          sink &&
          (async () => {
            const res = await request(`${sink}/stats`);
            return (await res.body.json()).spans;
          }),
      };
      return target;
    },
  };
}

/** Saves the user key (201 the first time, 200 when a reused DATA_DIR already has it). */
async function storeKey(origin, token) {
  const res = await request(`${origin}/api/user/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'openai', keyName: 'bench', apiKey: PROVIDER_KEY }),
  });
  const text = await res.body.text();
  if (res.statusCode !== 201 && res.statusCode !== 200)
    throw new ProcessError(`storing the user key answered ${res.statusCode}: ${text}`);
}
