// The embedded database (PGlite) in its own worker thread, started by embedded-postgres.ts.
//
// Plain JavaScript, not TypeScript, because a worker thread loads its file with Node's own loader
// (the tests' TypeScript transform never sees it); the build copies it beside the compiled code.
//
// workerData: { dir, conf, create, wasmModule }. With `create`, the worker creates the database
// (initdb), posts { wasmModule } (Postgres compiled, so the next worker need not compile it
// again) and exits: the memory initdb took (about 200 MB of WebAssembly heap, never given back
// while the heap lives) goes with the thread. Otherwise it opens the database, serves it over the
// Postgres wire protocol on a loopback port, posts { ready: "<host>:<port>" }, and stops on the
// message "close".
import { readFile } from 'node:fs/promises';
/* global WebAssembly, URL */
import { parentPort, workerData } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';

// PGlite is a 9 MB WebAssembly build of Postgres: V8's optimising tier compiles its hot
// functions a second time and keeps both (about 80 MB more resident, and seconds of start-up);
// the baseline compiler alone starts it in a fraction of the time and serves the proxy's writes
// as fast. Set before the first WebAssembly module is compiled.
setFlagsFromString('--liftoff-only');

const { PGlite } = await import('@electric-sql/pglite');
const { NodeFS } = await import('@electric-sql/pglite/nodefs');
const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');

/**
 * PGlite's own Node file system (Emscripten's NODEFS under the data folder), except that no file
 * or folder it writes gets a group or other permission bit. Emscripten chmods each file it
 * creates to the mode Postgres asked for, 0666 in PGlite's WASM build, whatever the process
 * umask: so its chmod (FS.doChmod, behind chmod, fchmod and every create) is masked with ~0077.
 * Should a PGlite upgrade rename that internal, the service says so and still restricts the whole
 * of DATA_DIR on every start.
 */
class PrivateNodeFS extends NodeFS {
  async init(...args) {
    const result = await super.init(...args);
    const preRun = result.emscriptenOpts.preRun ?? [];
    result.emscriptenOpts.preRun = [...preRun, (mod) => maskChmod(mod.FS)];
    return result;
  }
}

function maskChmod(fs) {
  const doChmod = fs.doChmod;
  if (typeof doChmod !== 'function') {
    parentPort.postMessage({
      warn: 'PGlite files cannot be kept private as they are created (FS.doChmod not found): DATA_DIR is restricted at each start only',
    });
    return;
  }
  fs.doChmod = (stream, node, mode, dontFollow) =>
    doChmod.call(fs, stream, node, mode & ~0o077, dontFollow);
}

const { dir, conf, create } = workerData;
const wasmModule =
  workerData.wasmModule ??
  (await WebAssembly.compile(
    await readFile(new URL('pglite.wasm', import.meta.resolve('@electric-sql/pglite'))),
  ));
const db = await PGlite.create({ fs: new PrivateNodeFS(dir), postgresqlconf: conf, wasmModule });
if (create) {
  await db.close();
  parentPort.postMessage({ wasmModule });
} else {
  // PGlite serves one transaction at a time, hence one connection.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  parentPort.once('message', async () => {
    await server.stop();
    await db.close();
    parentPort.close();
  });
  parentPort.postMessage({ ready: server.getServerConn() });
}
