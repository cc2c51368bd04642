// A local OpenTelemetry collector stand-in for the tracing rows: accepts OTLP/HTTP exports at
// POST /v1/traces, protobuf (walking each message down to its spans) or JSON (parsed), counts the
// spans and answers 200. GET /healthz answers 200; GET /stats the span count.
//
//   node bench/servers/otlp-sink.mjs --port 0
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
let spans = 0;

/** The length-delimited fields numbered `no` of a protobuf message (others skipped). */
function* fields(buf, no) {
  let pos = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = buf[pos++];
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const length = varint();
      if (tag >>> 3 === no) yield buf.subarray(pos, pos + length);
      pos += length;
    } else throw new Error(`wire type ${wire}`);
  }
}

/** ExportTraceServiceRequest: resource_spans (1) → scope_spans (2) → spans (2). */
function countProtobuf(body) {
  let n = 0;
  for (const rs of fields(body, 1))
    for (const ss of fields(rs, 2)) for (const _ of fields(ss, 2)) n++;
  return n;
}

function countJson(body) {
  let n = 0;
  for (const rs of JSON.parse(body.toString('utf8')).resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
  return n;
}

const server = createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/v1/traces') {
      const body = Buffer.concat(parts);
      const protobuf = req.headers['content-type'] === 'application/x-protobuf';
      spans += protobuf ? countProtobuf(body) : countJson(body);
      if (protobuf) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } else if (req.url === '/healthz') res.writeHead(200).end('ok');
    else if (req.url === '/stats') res.writeHead(200).end(JSON.stringify({ spans }));
    else res.writeHead(404).end();
  });
});
server.listen(Number(opts.port), '127.0.0.1');
