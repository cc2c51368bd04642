import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

/**
 * A Kubernetes control plane on loopback for test/deploy/cluster.spec.ts: etcd, kube-apiserver
 * (static token, RBAC), kube-controller-manager, kube-scheduler and kwok, which simulates nodes
 * and pods (no kubelet: no image is pulled, no probe runs, no volume is mounted; kwok marks pods
 * Ready and completes Job pods and the chart's `helm test` pod). The binaries come from
 * scripts/cluster/build.sh's cache; `npm test` builds them before jest.
 */

const ROOT = join(__dirname, '..', '..');

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
}

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

export interface Cluster {
  dir: string;
  kubeconfig: string;
  bin: string;
  /** kubectl against this cluster; throws with its output when it fails unless `allowFail`. */
  kubectl(args: string[], opts?: { input?: string; allowFail?: boolean }): Run;
  /** `kubectl get -o json`. */
  getJson<T>(args: string[]): T;
  stop(): Promise<void>;
}

function controlPlaneDir(): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'cluster', 'build.sh')], {
    encoding: 'utf8',
    env: { ...process.env, BYOK_CLUSTER_NO_BUILD: '1' },
  });
  if (r.status !== 0)
    throw new Error(`the control plane is not built: run scripts/cluster/build.sh\n${r.stderr}`);
  return r.stdout.trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(path: string, lines = 25): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startCluster(): Promise<Cluster> {
  const cache = controlPlaneDir();
  const bin = join(cache, 'bin');
  const dir = mkdtempSync(join(tmpdir(), 'byok-cluster-'));
  const procs: Proc[] = [];

  const start = (name: string, args: string[]): Proc => {
    const log = join(dir, `${name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(join(bin, name), args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const proc = { name, child, log, exited };
    procs.push(proc);
    return proc;
  };
  const alive = () => {
    for (const p of procs)
      if (p.child.exitCode !== null || p.child.signalCode !== null)
        throw new Error(
          `${p.name} exited (${p.child.exitCode ?? p.child.signalCode}):\n${tail(p.log)}`,
        );
  };
  const stop = async () => {
    for (const p of [...procs].reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      const killer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
      await p.exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [etcdPort, peerPort, apiPort, cmPort, schedPort, kwokPort] = await Promise.all(
      Array.from({ length: 6 }, () => freePort()),
    );
    const etcd = `http://127.0.0.1:${etcdPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    start('etcd', [
      ...['--data-dir', join(dir, 'etcd'), '--unsafe-no-fsync'],
      ...['--listen-client-urls', etcd, '--advertise-client-urls', etcd],
      ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
      ...['--initial-cluster', `default=${peer}`],
    ]);

    // Service-account token signing key, and the token the tests (and the components) use.
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(join(dir, 'sa.pub'), publicKey);
    writeFileSync(join(dir, 'sa.key'), privateKey, { mode: 0o600 });
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,system:masters\n`, {
      mode: 0o600,
    });
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        // The API server's self-signed serving certificate, on loopback only.
        `- cluster: { server: 'https://127.0.0.1:${apiPort}', insecure-skip-tls-verify: true }`,
        '  name: local',
        'users:',
        `- name: admin`,
        `  user: { token: '${token}' }`,
        'contexts:',
        '- context: { cluster: local, user: admin }',
        '  name: local',
        'current-context: local',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );

    start('kube-apiserver', [
      ...['--etcd-servers', etcd, '--bind-address', '127.0.0.1', '--secure-port', `${apiPort}`],
      ...['--advertise-address', '127.0.0.1', '--endpoint-reconciler-type', 'none'],
      ...['--cert-dir', join(dir, 'pki'), '--token-auth-file', join(dir, 'tokens.csv')],
      ...['--authorization-mode', 'RBAC', '--service-cluster-ip-range', '10.96.0.0/16'],
      ...['--service-account-issuer', 'https://kubernetes.default.svc.cluster.local'],
      ...['--service-account-key-file', join(dir, 'sa.pub')],
      ...['--service-account-signing-key-file', join(dir, 'sa.key')],
    ]);

    const kubectl = (args: string[], opts: { input?: string; allowFail?: boolean } = {}): Run => {
      const r = spawnSync(join(bin, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], {
        encoding: 'utf8',
        input: opts.input,
        maxBuffer: 64 * 1024 * 1024,
      });
      const run = { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
      if (run.status !== 0 && !opts.allowFail)
        throw new Error(`kubectl ${args.join(' ')} exited ${run.status}:\n${r.stderr}${r.stdout}`);
      return run;
    };

    const deadline = Date.now() + 180_000;
    while (kubectl(['get', '--raw', '/readyz'], { allowFail: true }).status !== 0) {
      alive();
      if (Date.now() > deadline)
        throw new Error(`kube-apiserver never ready:\n${tail(join(dir, 'kube-apiserver.log'))}`);
      await sleep(500);
    }

    const common = ['--kubeconfig', kubeconfig, '--bind-address', '127.0.0.1'];
    start('kube-controller-manager', [
      ...common,
      ...['--secure-port', `${cmPort}`, '--leader-elect=false'],
      ...['--authentication-kubeconfig', kubeconfig, '--authorization-kubeconfig', kubeconfig],
      ...['--service-account-private-key-file', join(dir, 'sa.key')],
      '--use-service-account-credentials=false',
    ]);
    start('kube-scheduler', [
      ...common,
      ...['--secure-port', `${schedPort}`, '--leader-elect=false'],
      ...['--authentication-kubeconfig', kubeconfig, '--authorization-kubeconfig', kubeconfig],
    ]);

    // kwok's own stages (node-initialize, pod-ready, pod-complete, pod-delete) and ours.
    const stages = join(cache, 'stages');
    const config = [
      ...readdirSync(stages)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => readFileSync(join(stages, f), 'utf8')),
      readFileSync(join(ROOT, 'test', 'deploy', 'fixtures', 'kwok-helm-test-stage.yaml'), 'utf8'),
    ].join('\n---\n');
    writeFileSync(join(dir, 'kwok.yaml'), config);
    start('kwok', [
      ...['--kubeconfig', kubeconfig, '--config', join(dir, 'kwok.yaml')],
      ...['--manage-all-nodes=false', '--manage-nodes-with-label-selector', 'type=kwok'],
      ...['--server-address', `127.0.0.1:${kwokPort}`, '--node-lease-duration-seconds', '40'],
    ]);

    // The default ServiceAccount exists once the controller-manager's controllers run.
    while (kubectl(['get', 'serviceaccount', 'default'], { allowFail: true }).status !== 0) {
      alive();
      if (Date.now() > deadline)
        throw new Error(
          `kube-controller-manager never created the default ServiceAccount:\n${tail(join(dir, 'kube-controller-manager.log'))}`,
        );
      await sleep(500);
    }

    return {
      dir,
      kubeconfig,
      bin,
      kubectl,
      getJson: <T>(args: string[]) =>
        JSON.parse(kubectl(['get', ...args, '-o', 'json']).stdout) as T,
      stop,
    };
  } catch (e) {
    const logs = procs.map((p) => `--- ${p.name}\n${tail(p.log, 10)}`).join('\n');
    await stop();
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
}
