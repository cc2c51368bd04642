// Preloaded into @portkey-ai/gateway (`node --import`) for the benchmark. Two shims, both
// outside the measured work of a non-streaming request:
//
// 1. Its start script listens on every interface with no option to change it: any listen()
//    without a host binds to 127.0.0.1, so the benchmark never opens a port beyond loopback.
// 2. Its SSE path fails on Node 20 with the @hono/node-server it installs (1.19): it wraps the
//    upstream fetch() Response with `new Response(stream, upstreamResponse)`, which that
//    node-server's Response keeps sharing the upstream's *immutable* Headers, and appending
//    x-portkey-* headers then throws `TypeError: immutable` ("Something went wrong", 500).
//    For event streams only, fetch() here returns the same response with mutable headers.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first] = args;
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] !== 'string') args.splice(1, args[1] === undefined ? 1 : 0, '127.0.0.1');
  } else if (first && typeof first === 'object' && !first.host && !first.path && !first.fd) {
    args[0] = { ...first, host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};

const UndiciResponse = globalThis.Response;
const fetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const res = await fetch(...args);
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return res;
  return new UndiciResponse(res.body, {
    status: res.status,
    statusText: res.statusText,
    headers: new Headers(res.headers),
  });
};
