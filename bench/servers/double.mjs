// The upstream double for benchmarks: one node:http server on 127.0.0.1 in its own process,
// speaking just enough OpenAI for /v1/chat/completions. Every reply is precomputed, so the
// double costs the same for every target. A request must carry `authorization: Bearer <KEY>`
// (401 otherwise): that proves each proxy injected the stored key and dropped the caller's.
//
//   node bench/servers/double.mjs --port 0 --key sk-bench-… --chunks 10 --chunk-delay-ms 5
//
// A WebSocket upgrade (realtime) with the key is an echo session: every message comes back as is.
// Body with `"stream":true` → SSE: the first chunk goes out with the headers, then one chunk
// every --chunk-delay-ms, then `data: [DONE]`. Prints `{"port":N}` on stdout once listening.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    key: { type: 'string', default: 'sk-bench-0123456789abcdef' },
    chunks: { type: 'string', default: '10' },
    'chunk-delay-ms': { type: 'string', default: '5' },
  },
});
const chunks = Number(opts.chunks);
const delayMs = Number(opts['chunk-delay-ms']);
const expectedAuth = `Bearer ${opts.key}`;
const CREATED = 1_700_000_000;

const completion = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: CREATED,
    model: 'gpt-4o-mini',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello from the benchmark double.' },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 },
  }),
);
const jsonHeaders = { 'content-type': 'application/json', 'content-length': completion.length };

// Each SSE chunk's id carries the wall-clock time it was written, in µs
// (`chatcmpl-bench-t<µs>`), so a client can tell how long the chunk took to reach it.
const STAMP = '@STAMP@';
const wallUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

const sseChunk = (i) => {
  const last = i === chunks - 1;
  const chunk = {
    id: `chatcmpl-bench-t${STAMP}`,
    object: 'chat.completion.chunk',
    created: CREATED,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { content: `word${i} ` }, finish_reason: last ? 'stop' : null }],
  };
  if (last) chunk.usage = { prompt_tokens: 9, completion_tokens: chunks, total_tokens: 9 + chunks };
  const [head, tail] = `data: ${JSON.stringify(chunk)}\n\n${last ? 'data: [DONE]\n\n' : ''}`.split(
    STAMP,
  );
  return { head: Buffer.from(head), tail: Buffer.from(tail) };
};
const sseChunks = Array.from({ length: chunks }, (_, i) => sseChunk(i));
const stamped = ({ head, tail }) => Buffer.concat([head, Buffer.from(String(wallUs())), tail]);
const unauthorized = Buffer.from(
  JSON.stringify({
    error: {
      message: 'Incorrect API key provided',
      type: 'invalid_request_error',
      code: 'invalid_api_key',
    },
  }),
);
const models = Buffer.from(
  JSON.stringify({
    object: 'list',
    data: [{ id: 'gpt-4o-mini', object: 'model', created: CREATED, owned_by: 'bench' }],
  }),
);

function stream(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    res.write(stamped(sseChunks[i]));
    i += 1;
    if (i < chunks) setTimeout(next, delayMs);
    else res.end();
  };
  next();
}

const STREAM = Buffer.from('"stream":true');

const server = createServer({ keepAliveTimeout: 120_000, noDelay: true }, (req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('ok');
    }
    if (req.headers.authorization !== expectedAuth) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return res.end(unauthorized);
    }
    if (req.method === 'GET' && req.url.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(models);
    }
    const body = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (body.indexOf(STREAM) >= 0) return stream(res);
    res.writeHead(200, jsonHeaders);
    res.end(completion);
  });
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  if (req.headers.authorization !== expectedAuth)
    return socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
  wss.handleUpgrade(req, socket, head, (ws) =>
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
  );
});
server.headersTimeout = 0;
server.requestTimeout = 0;
server.listen(Number(opts.port), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
