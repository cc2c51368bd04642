import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startCluster, type Cluster } from '../helpers/cluster';
import { findHelm } from '../helpers/helm';
import { allows, type Peer, type Policy } from '../helpers/network-policy';

/**
 * The chart on a Kubernetes API server (test/helpers/cluster.ts: etcd, kube-apiserver,
 * controller-manager, scheduler, kwok on loopback). What this proves: the API server accepts
 * every rendered object (strict field validation, the ServiceMonitor against its CRD);
 * `helm install --wait` with the migration hook, `helm upgrade` and `helm test` complete; the
 * HPA scales to its minimum and the PDB lets a node drain through the eviction API; each
 * example's NetworkPolicy, as stored by the API server, admits that example's dependencies.
 * What only a real kubelet would show (README, "Deployment"): image pull, probes, mounted
 * Secrets and projected tokens, the process itself; the image test runs the image.
 */

const ROOT = join(__dirname, '..', '..');
const CHART = join(ROOT, 'helm', 'byok-proxy');
const EXAMPLES = join(CHART, 'examples');
const FIXTURES = join(__dirname, 'fixtures');
const helm = findHelm();

/** DATABASE_URL in every variant's Secret: PostgreSQL in the `databases` namespace. */
const DATABASE_URL = 'postgres://byok:not-a-real-password@postgres.databases.svc:5432/byok';

interface Variant {
  name: string;
  namespace: string;
  args: string[];
  values: Record<string, unknown>;
}

const exampleValues = (file: string) =>
  parse(readFileSync(join(EXAMPLES, file), 'utf8')) as Record<string, unknown>;

// Each Vault example with every optional part (full.yaml), in the namespace its own URLs name
// (vault-approle's Redis is in `byok`), and the local store.
const VARIANTS: Variant[] = [
  ...readdirSync(EXAMPLES)
    .filter((f) => f.startsWith('vault-'))
    .map((f) => ({
      name: f.replace(/\.yaml$/, ''),
      namespace: f === 'vault-approle.yaml' ? 'byok' : `byok-${f.replace(/^vault-|\.yaml$/g, '')}`,
      args: ['-f', join(EXAMPLES, f), '-f', join(EXAMPLES, 'full.yaml')],
      values: exampleValues(f),
    })),
  {
    name: 'local-store',
    namespace: 'byok-local',
    args: [
      ...['-f', join(EXAMPLES, 'full.yaml'), '--set', 'secretStore=local'],
      ...['--set', 'local.existingSecret=byok-proxy-master-key'],
    ],
    values: { secretStore: 'local' },
  },
];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, input });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** Where a URL's host is, as a NetworkPolicy sees it: `<svc>.<namespace>.svc` or the internet. */
function peerOf(url: string, labels: Record<string, Record<string, string>>): Peer {
  const { hostname, port, protocol } = new URL(url);
  const defaultPort = { 'https:': 443, 'http:': 80, 'redis:': 6379, 'postgres:': 5432 };
  const to = Number(port || defaultPort[protocol as keyof typeof defaultPort]);
  const svc = /^([^.]+)\.([^.]+)\.svc(\.|$)/.exec(hostname);
  if (!svc) return { ip: '203.0.113.10', port: to };
  // The chart's examples name Bitnami-style Services: byok-redis-master selects name=redis pods.
  const podLabels: Record<string, string> = svc[1].includes('redis')
    ? { 'app.kubernetes.io/name': 'redis' }
    : {};
  return { namespaceLabels: labels[svc[2]] ?? {}, podLabels, port: to };
}

describe('helm chart on a Kubernetes API server (kwok nodes)', () => {
  let cluster: Cluster;
  let env: NodeJS.ProcessEnv;
  const helmRun = (args: string[]) => run(helm, args, env);

  beforeAll(async () => {
    cluster = await startCluster();
    env = { KUBECONFIG: cluster.kubeconfig, HELM_CACHE_HOME: join(cluster.dir, 'helm-cache') };
    const { kubectl } = cluster;
    // Three simulated nodes, and the namespaces the examples' dependencies live in.
    for (const n of [1, 2, 3])
      kubectl(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name: `kwok-node-${n}`,
            labels: { type: 'kwok', 'kubernetes.io/hostname': `kwok-node-${n}` },
            annotations: { 'kwok.x-k8s.io/node': 'fake' },
          },
          // What a kubelet would report; the chart requests ephemeral storage.
          status: {
            allocatable: { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' },
            capacity: { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' },
          },
        }),
      });
    const namespaces = [...new Set(VARIANTS.map((v) => v.namespace))];
    for (const ns of [...namespaces, 'byok-drain', 'databases', 'vault', 'openbao', 'monitoring'])
      kubectl(['create', 'namespace', ns]);
    kubectl(['apply', '--validate=strict', '-f', join(FIXTURES, 'servicemonitor-crd.yaml')]);
    kubectl(['wait', '--for=condition=Established', 'crd/servicemonitors.monitoring.coreos.com']);
    // The Secrets (and the CA ConfigMap) each example names, as an operator creates them.
    for (const ns of [...namespaces, 'byok-drain']) {
      const secret = (name: string, data: Record<string, string>) =>
        kubectl(
          ['-n', ns, 'create', 'secret', 'generic', name].concat(
            Object.entries(data).map(([k, v]) => `--from-literal=${k}=${v}`),
          ),
        );
      secret('byok-proxy-database', { DATABASE_URL });
      secret('byok-proxy-auth', { AUTH_JWT_SECRET: 'x'.repeat(48) });
      secret('byok-proxy-vault-token', { VAULT_TOKEN: 'not-a-token' });
      secret('byok-proxy-approle', { VAULT_ROLE_ID: 'role', VAULT_SECRET_ID: 'secret' });
      secret('byok-proxy-provider-keys', { MYCORP_API_KEY: 'not-a-key' });
      secret('byok-proxy-master-key', { LOCAL_MASTER_KEY: Buffer.alloc(32).toString('base64') });
      kubectl(['-n', ns, 'create', 'configmap', 'vault-ca', '--from-literal=ca.crt=not-a-ca']);
    }
    // Every node Ready (kwok's node-initialize stage).
    kubectl(['wait', '--for=condition=Ready', 'node', '--all', '--timeout=120s']);
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('accepts every rendered object (server-side dry run, strict field validation)', () => {
    for (const variant of VARIANTS) {
      const rendered = helmRun([
        ...['template', 'byok-proxy', CHART, '-n', variant.namespace, ...variant.args],
      ]);
      expect({ variant: variant.name, status: rendered.status }).toEqual({
        variant: variant.name,
        status: 0,
      });
      const applied = cluster.kubectl(
        ['apply', '-n', variant.namespace, '--dry-run=server', '--validate=strict', '-f', '-'],
        { input: rendered.out },
      );
      const kinds = applied.stdout.split('\n').filter((l) => l.includes('(server dry run)'));
      expect(kinds.join('\n')).toContain('servicemonitor.monitoring.coreos.com/byok-proxy');
      expect(kinds.join('\n')).toContain('networkpolicy.networking.k8s.io/byok-proxy');
      expect(kinds.join('\n')).toContain('job.batch/byok-proxy-migrate');
    }
    // And refuses what a real cluster refuses: the check is not a rubber stamp.
    const bad = cluster.kubectl(
      ['apply', '-n', 'byok', '--dry-run=server', '--validate=strict', '-f', '-'],
      {
        input: JSON.stringify({
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'ServiceMonitor',
          metadata: { name: 'typo' },
          spec: { selector: {}, endpoints: [{ port: 'metrics', intervall: '30s' }] },
        }),
        allowFail: true,
      },
    );
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('unknown field "spec.endpoints[0].intervall"');
  });

  it.each(VARIANTS.map((v) => [v.name, v] as const))(
    'installs %s with helm install --wait (migration hook included) and lets its dependencies through the NetworkPolicy',
    (_name, variant) => {
      const started = Date.now();
      const install = helmRun([
        ...['install', 'byok-proxy', CHART, '-n', variant.namespace, ...variant.args],
        ...['--wait', '--wait-for-jobs', '--timeout', '180s'],
      ]);
      expect({ status: install.status, out: install.out }).toEqual({
        status: 0,
        out: expect.stringContaining('STATUS: deployed') as unknown,
      });
      process.stderr.write(`cluster: helm install ${variant.name}: ${Date.now() - started} ms\n`);
      const ns = variant.namespace;
      // The hook ran: helm waited for the migration Job to succeed, then deleted it.
      const hooks = helmRun(['get', 'hooks', 'byok-proxy', '-n', ns]);
      expect(hooks.out).toContain('kind: Job');
      const deployment = cluster.getJson<{ status: { readyReplicas?: number } }>([
        ...['-n', ns, 'deployment', 'byok-proxy'],
      ]);
      expect(deployment.status.readyReplicas).toBeGreaterThanOrEqual(1);

      // The NetworkPolicy as the API server stores it, against this example's dependencies.
      const policy = cluster.getJson<Policy>(['-n', ns, 'networkpolicy', 'byok-proxy']);
      const nsLabels = Object.fromEntries(
        cluster
          .getJson<{ items: { metadata: { name: string; labels: Record<string, string> } }[] }>([
            'namespaces',
          ])
          .items.map((n) => [n.metadata.name, n.metadata.labels]),
      );
      const own = { namespaceLabels: nsLabels[ns] };
      const ports = { http: 8080, metrics: 9464 };
      const values = variant.values as {
        vault?: { addr?: string };
        config?: { redisUrl?: string };
      };
      const egress: [string, Peer][] = [
        ['DNS', { namespaceLabels: nsLabels['kube-system'], port: 53, protocol: 'UDP' }],
        ['PostgreSQL', peerOf(DATABASE_URL, nsLabels)],
        ['a provider on 443', { ip: '104.18.6.192', port: 443 }],
      ];
      if (values.vault?.addr) egress.push(['Vault', peerOf(values.vault.addr, nsLabels)]);
      if (values.config?.redisUrl) egress.push(['Redis', peerOf(values.config.redisUrl, nsLabels)]);
      for (const [what, peer] of egress)
        expect({ what, allowed: allows(policy, 'egress', peer, ports) }).toEqual({
          what,
          allowed: true,
        });
      const testPod = {
        ...own,
        podLabels: {
          'app.kubernetes.io/name': 'byok-proxy',
          'app.kubernetes.io/instance': 'byok-proxy',
          'app.kubernetes.io/component': 'test',
        },
      };
      const ingress: [string, Peer, boolean][] = [
        [
          'the ServiceMonitor scrape',
          { namespaceLabels: nsLabels.monitoring, port: 'metrics' },
          true,
        ],
        [
          'the ingress controller',
          { namespaceLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' }, port: 'http' },
          true,
        ],
        ['helm test', { ...testPod, port: 'http' }, true],
        // And what stays shut, so the checks above can fail.
        ['another namespace on http', { namespaceLabels: nsLabels.databases, port: 'http' }, false],
        [
          'the ingress controller on metrics',
          { namespaceLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' }, port: 'metrics' },
          false,
        ],
      ];
      for (const [what, peer, expected] of ingress)
        expect({ what, allowed: allows(policy, 'ingress', peer, ports) }).toEqual({
          what,
          allowed: expected,
        });
      expect(allows(policy, 'egress', { ip: '10.1.2.3', port: 5432 }, ports)).toBe(false);
    },
    240_000,
  );

  it('runs helm test (kwok completes the test pod) and helm upgrade rolls the pods', () => {
    const ns = VARIANTS[0].namespace;
    const tested = helmRun(['test', 'byok-proxy', '-n', ns, '--timeout', '120s']);
    expect(tested.out).toMatch(/TEST SUITE:\s+byok-proxy-test-readyz[\s\S]*Phase:\s+Succeeded/);
    expect(tested.status).toBe(0);

    const before = cluster.getJson<{
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    }>(['-n', ns, 'deployment', 'byok-proxy']);
    const upgrade = helmRun([
      ...['upgrade', 'byok-proxy', CHART, '-n', ns, ...VARIANTS[0].args],
      ...['--set', 'config.logLevel=debug', '--wait', '--wait-for-jobs', '--timeout', '180s'],
    ]);
    expect({ status: upgrade.status, out: upgrade.out }).toEqual({
      status: 0,
      out: expect.stringContaining('REVISION: 2') as unknown,
    });
    const after = cluster.getJson<{
      spec: { template: { metadata: { annotations: Record<string, string> } } };
      status: { updatedReplicas?: number; readyReplicas?: number };
    }>(['-n', ns, 'deployment', 'byok-proxy']);
    // The changed ConfigMap rolled the pods (checksum/config), and the new ones are Ready.
    expect(after.spec.template.metadata.annotations['checksum/config']).not.toBe(
      before.spec.template.metadata.annotations['checksum/config'],
    );
    expect(after.status.updatedReplicas).toBe(after.status.readyReplicas);
    const config = cluster.getJson<{ data: Record<string, string> }>([
      '-n',
      ns,
      'configmap',
      'byok-proxy',
    ]);
    expect(config.data.LOG_LEVEL).toBe('debug');
  }, 300_000);

  it('drains a node through the eviction API with the default values (HPA minimum, PDB)', async () => {
    const ns = 'byok-drain';
    const install = helmRun([
      ...['install', 'byok-proxy', CHART, '-n', ns, '--set', 'vault.caCert.configMap=vault-ca'],
      ...['--wait', '--wait-for-jobs', '--timeout', '180s'],
    ]);
    expect(install.status).toBe(0);
    interface Pods {
      items: {
        metadata: { name: string };
        spec: { nodeName?: string };
        status: { phase: string };
      }[];
    }
    const selector = 'app.kubernetes.io/component=server';
    const serverPods = () => cluster.getJson<Pods>(['-n', ns, 'pods', '-l', selector]).items;
    const statusOf = <T>(kind: string) =>
      cluster.getJson<{ status: T }>(['-n', ns, kind, 'byok-proxy']).status;
    // The HPA raises the Deployment to minReplicas (2) without metrics; the PDB then allows one.
    const deadline = Date.now() + 120_000;
    let ready = 0;
    let allowed = 0;
    while (Date.now() < deadline) {
      ready = statusOf<{ readyReplicas?: number }>('deployment').readyReplicas ?? 0;
      allowed = statusOf<{ disruptionsAllowed?: number }>('pdb').disruptionsAllowed ?? 0;
      if (ready === 2 && allowed === 1) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect({ ready, allowed }).toEqual({ ready: 2, allowed: 1 });

    const node = serverPods().find((p) => p.spec.nodeName)!.spec.nodeName!;
    // kubectl drain: cordon, then an Eviction per pod, retried while the PDB answers 429.
    const drain = cluster.kubectl(
      ['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s'],
      { allowFail: true },
    );
    expect({ status: drain.status, out: drain.stdout + drain.stderr }).toEqual({
      status: 0,
      out: expect.stringMatching(/evicting pod byok-drain\/byok-proxy-[\s\S]*drained/) as unknown,
    });
    const left = serverPods().filter(
      (p) => p.spec.nodeName === node && p.status.phase === 'Running',
    );
    expect(left).toEqual([]);
    cluster.kubectl(['-n', ns, 'rollout', 'status', 'deployment/byok-proxy', '--timeout=120s']);
    const moved = serverPods().filter((p) => p.status.phase === 'Running');
    expect(moved).toHaveLength(2);
    for (const p of moved) expect(p.spec.nodeName).not.toBe(node);
  }, 300_000);
});
