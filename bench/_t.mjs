import { Client } from 'undici';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
const d = spawn(process.execPath, ['bench/servers/double.mjs', '--port=18911', '--chunks=' + process.argv[2], '--chunk-delay-ms=' + process.argv[3]], { stdio: 'inherit' });
await sleep(500);
const c = new Client('http://127.0.0.1:18911');
const headers = { authorization: 'Bearer sk-bench-0123456789abcdef', 'content-type': 'application/json' };
for (const stream of [false, true]) {
  const xs = [], hs = [];
  for (let i = 0; i < 300; i++) {
    const t0 = process.hrtime.bigint();
    const res = await c.request({ path: '/v1/chat/completions', method: 'POST', headers, body: JSON.stringify({ model: 'x', stream }) });
    const th = process.hrtime.bigint();
    let first;
    for await (const ch of res.body) first ??= process.hrtime.bigint();
    if (i > 50) { xs.push(Number(first - t0) / 1000); hs.push(Number(th - t0) / 1000); }
  }
  xs.sort((a, b) => a - b); hs.sort((a, b) => a - b);
  console.log(stream, 'headers p50', hs[hs.length >> 1], 'first chunk p50', xs[xs.length >> 1]);
}
await c.close(); d.kill();
