// A local OpenTelemetry collector stand-in for the tracing rows: accepts OTLP/HTTP JSON exports
// at POST /v1/traces, reads and parses each body (as a collector would), counts the spans and
// answers 200. GET /healthz answers 200; GET /stats the span count.
//
//   node bench/servers/otlp-sink.mjs --port 0
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
let spans = 0;

const server = createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/v1/traces') {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? []) spans += ss.spans?.length ?? 0;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } else if (req.url === '/healthz') res.writeHead(200).end('ok');
    else if (req.url === '/stats') res.writeHead(200).end(JSON.stringify({ spans }));
    else res.writeHead(404).end();
  });
});
server.listen(Number(opts.port), '127.0.0.1');
