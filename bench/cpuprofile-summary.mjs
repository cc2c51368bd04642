#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): where the process spent its CPU time,
// by function (self and inclusive) and by package. Prints Markdown.
//
//   node bench/cpuprofile-summary.mjs <file.cpuprofile> [--top 25] [--from µs --to µs]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Which package a frame belongs to: an npm package, our own dist/ file, node core, or V8. */
export function packageOf(url, functionName) {
  if (SPECIAL.has(functionName)) return functionName;
  if (!url) return '(native / V8 builtins)';
  if (url.startsWith('node:')) return 'node core';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = path.indexOf('/dist/');
  if (dist >= 0)
    return `byok-proxy ${path
      .slice(dist + 1)
      .split('/')
      .slice(0, 2)
      .join('/')}`;
  return path;
}

const shortUrl = (url) => {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length);
  const dist = path.indexOf('/dist/');
  return dist >= 0 ? path.slice(dist + 1) : path;
};

/**
 * `window` ({ fromUs, toUs }, CLOCK_MONOTONIC microseconds, the clock of process.hrtime and of
 * V8's profile timestamps) keeps only the samples taken while the load ran, not the boot.
 */
export function summarise(profile, window) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n) => {
    const { functionName, url, lineNumber } = n.callFrame;
    return `${functionName || '(anonymous)'}  ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
  };

  const self = new Map();
  const inclusive = new Map();
  const selfPkg = new Map();
  const inclusivePkg = new Map();
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  let total = 0;
  let idle = 0;
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i];
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const dt = (timeDeltas[i + 1] ?? timeDeltas[i]) / 1000; // ms spent in this sample
    const leaf = byId.get(samples[i]);
    if (leaf.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    total += dt;
    add(self, keyOf(leaf), dt);
    add(selfPkg, packageOf(leaf.callFrame.url, leaf.callFrame.functionName), dt);
    const keys = new Set();
    const pkgs = new Set();
    for (let n = leaf; n; n = byId.get(parent.get(n.id))) {
      if (n.callFrame.functionName === '(root)') break;
      keys.add(keyOf(n));
      pkgs.add(packageOf(n.callFrame.url, n.callFrame.functionName));
    }
    for (const k of keys) add(inclusive, k, dt);
    for (const p of pkgs) add(inclusivePkg, p, dt);
  }
  const own = new Map([...inclusive].filter(([k]) => /\s dist\//.test(k)));
  return { total, idle, self, inclusive, selfPkg, inclusivePkg, own };
}

export function toMarkdown(s, top = 25) {
  const pct = (v) => `${((v / s.total) * 100).toFixed(1)} %`;
  const rows = (m, n) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `| ${pct(v)} | ${v.toFixed(0)} ms | \`${k.replace(/\|/g, '\\|')}\` |`);
  const table = (title, m, n) => [
    `${title}`,
    '',
    '| share | time | frame |',
    '| --- | --- | --- |',
    ...rows(m, n),
    '',
  ];
  return [
    `Busy CPU time ${s.total.toFixed(0)} ms (idle ${s.idle.toFixed(0)} ms not counted).`,
    '',
    ...table('Self time by package:', s.selfPkg, 15),
    ...table(
      'Inclusive time by package (a package counts once per sample when any of its frames is on the stack):',
      s.inclusivePkg,
      15,
    ),
    ...table(`Top ${top} functions by self time:`, s.self, top),
    ...table(`Top ${top} functions by inclusive time:`, s.inclusive, top),
    ...table(`byok-proxy's own functions (dist/) by inclusive time:`, s.own, top),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '25' },
      from: { type: 'string' },
      to: { type: 'string' },
    },
  });
  if (!positionals[0]) {
    process.stderr.write('usage: node bench/cpuprofile-summary.mjs <file.cpuprofile> [--top 25]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8'));
  const window =
    values.from && values.to ? { fromUs: Number(values.from), toUs: Number(values.to) } : undefined;
  process.stdout.write(`${toMarkdown(summarise(profile, window), Number(values.top))}\n`);
}
