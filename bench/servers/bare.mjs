// `bare`: the practical floor for a Node proxy. A node:http server that forwards every request
// to the upstream with undici (keep-alive pool), swaps the caller's credential for a fixed key
// and streams the answer back chunk by chunk. No framework, no auth, no routing, no logging.
//
//   node bench/servers/bare.mjs --port 0 --upstream http://127.0.0.1:N --key sk-bench-…
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    upstream: { type: 'string' },
    key: { type: 'string', default: 'sk-bench-0123456789abcdef' },
  },
});
const pool = new Pool(opts.upstream, { connections: 128, keepAliveTimeout: 60_000 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'authorization']);

const server = createServer({ keepAliveTimeout: 120_000 }, async (req, res) => {
  const headers = { authorization: `Bearer ${opts.key}`, 'accept-encoding': 'identity' };
  for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
  try {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const up = await pool.request({
      path: req.url,
      method: req.method,
      headers,
      body: hasBody ? req : undefined,
    });
    const out = {};
    for (const [k, v] of Object.entries(up.headers)) if (!HOP.has(k)) out[k] = v;
    res.writeHead(up.statusCode, out);
    for await (const chunk of up.body) res.write(chunk);
    res.end();
  } catch (e) {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ error: { message: String(e.message), type: 'bare', code: 'upstream' } }),
    );
  }
});
server.listen(Number(opts.port), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
