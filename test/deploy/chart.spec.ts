import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { findHelm } from '../helpers/helm';

/**
 * The Helm chart rendered with `helm template` (scripts/install-test-deps.sh builds Helm;
 * scripts/check-deploy.sh runs lint and Kubernetes schema validation): values.schema.json
 * rejects bad values, and each Vault auth mode renders what a cluster needs.
 */

const ROOT = join(__dirname, '..', '..');
const CHART = join(ROOT, 'helm', 'byok-proxy');
const EXAMPLES = join(CHART, 'examples');
const KUBE_VERSION = '1.37.0';

const helm = findHelm();

type Manifest = {
  kind: string;
  apiVersion: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  securityContext: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  startupProbe?: Record<string, { path?: string; port?: string }>;
  livenessProbe?: Record<string, { path?: string; port?: string }>;
  readinessProbe?: Record<string, { path?: string; port?: string }>;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes: {
    name: string;
    emptyDir?: unknown;
    configMap?: { name: string };
    projected?: { sources: { serviceAccountToken?: { path: string; audience?: string } }[] };
  }[];
}

function template(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(
    helm,
    [
      'template',
      'byok-proxy',
      CHART,
      '--namespace',
      'byok',
      '--kube-version',
      KUBE_VERSION,
      ...args,
    ],
    { encoding: 'utf8' },
  );
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function render(args: string[] = []): Manifest[] {
  const r = template(args);
  if (r.status !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

const one = (ms: Manifest[], kind: string, nameSuffix = ''): Manifest => {
  const found = ms.filter((m) => m.kind === kind && m.metadata.name.endsWith(nameSuffix));
  expect(found.map((m) => `${m.kind}/${m.metadata.name}`)).toHaveLength(1);
  return found[0];
};
const podSpec = (m: Manifest): PodSpec => (m.spec as { template: { spec: PodSpec } }).template.spec;
const envOf = (c: Container): Map<string, EnvVar> => new Map((c.env ?? []).map((e) => [e.name, e]));

const SECRET_ENV =
  /^(DATABASE_URL|AUTH_JWT_SECRET|LOCAL_MASTER_KEY|VAULT_TOKEN|VAULT_ROLE_ID|VAULT_SECRET_ID|REDIS_PASSWORD)$|_API_KEY$/;

const MODES = [
  { name: 'defaults (kubernetes auth)', args: [], auth: 'kubernetes' },
  ...readdirSync(EXAMPLES)
    .filter((f) => f.startsWith('vault-'))
    .map((f) => ({
      name: f,
      args: ['-f', join(EXAMPLES, f)],
      auth: /^vault-(\w+)\.yaml$/.exec(f)![1],
    })),
  {
    name: 'local store',
    args: ['--set', 'secretStore=local', '--set', 'local.existingSecret=byok-master-key'],
    auth: 'none',
  },
];

describe('helm chart: values.schema.json', () => {
  it.each([
    [
      ['--set', 'vault.auth=ldap'],
      "at '/vault/auth': value must be one of 'token', 'approle', 'kubernetes'",
    ],
    [
      ['--set', 'vault.auth=approle'],
      "at '/vault/approle/existingSecret': minLength: got 0, want 1",
    ],
    [['--set', 'secretStore=file'], "at '/secretStore': value must be one of 'vault', 'local'"],
    [['--set', 'replicaCount=two'], "at '/replicaCount': got string, want integer"],
    [
      ['--set', 'securityContext.runAsNonRoot=false'],
      "at '/securityContext/runAsNonRoot': value must be true",
    ],
    [['--set', 'config.extraEnv.VAULT_TOKEN=hvs.oops'], "at '/config/extraEnv/VAULT_TOKEN'"],
    [
      ['--set', 'databaseUrl=postgres://u:p@db/x'],
      "additional properties 'databaseUrl' not allowed",
    ],
  ])('rejects %j with a message naming the value', (args, message) => {
    const r = template(args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('refuses a terminationGracePeriodSeconds shorter than the drain', () => {
    const r = template(['--set', 'terminationGracePeriodSeconds=20']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('terminationGracePeriodSeconds=20 is too short');
  });

  it('refuses a metrics port that is the http port', () => {
    const r = template(['--set', 'metrics.port=8080']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('metrics.port=8080 must differ from containerPort');
  });
});

describe('helm chart: guards against values that break a cluster', () => {
  it.each([
    [
      'an HPA whose minimum exceeds its maximum',
      ['--set', 'autoscaling.minReplicas=7', '--set', 'autoscaling.maxReplicas=6'],
      'autoscaling.minReplicas=7 is larger than autoscaling.maxReplicas=6',
    ],
    [
      'a PDB keeping every replica (replicaCount)',
      [
        ...['--set', 'autoscaling.enabled=false', '--set', 'replicaCount=1'],
        ...['--set', 'podDisruptionBudget.minAvailable=1'],
      ],
      'podDisruptionBudget.minAvailable=1 leaves no pod to evict with replicaCount=1',
    ],
    [
      'a PDB keeping every replica (HPA minimum)',
      ['--set', 'podDisruptionBudget.minAvailable=2'],
      'podDisruptionBudget.minAvailable=2 leaves no pod to evict with autoscaling.minReplicas=2',
    ],
    [
      'a PDB keeping 100%',
      ['--set', 'podDisruptionBudget.minAvailable=100%'],
      'podDisruptionBudget.minAvailable=100% leaves no pod to evict',
    ],
    [
      'a PDB with maxUnavailable 0',
      ['--set', 'podDisruptionBudget.maxUnavailable=0'],
      'podDisruptionBudget.maxUnavailable=0 never allows a disruption',
    ],
    [
      'a provider key in config.extraEnv',
      ['--set', 'config.extraEnv.CEREBRAS_API_KEY=sk-live-0123'],
      'config.extraEnv.CEREBRAS_API_KEY looks like a secret',
    ],
    [
      'a password in config.extraEnv',
      ['--set', 'config.extraEnv.REDIS_PASSWORD=hunter2'],
      'config.extraEnv.REDIS_PASSWORD looks like a secret',
    ],
    [
      'a token in config.extraEnv',
      ['--set', 'config.extraEnv.GITHUB_TOKEN=ghp_x'],
      'config.extraEnv.GITHUB_TOKEN looks like a secret',
    ],
    [
      'a password in the Redis URL',
      ['--set', 'config.redisUrl=redis://:hunter2@redis:6379'],
      'config.redisUrl holds credentials in its URL',
    ],
    [
      'credentials in a URL in config.extraEnv',
      ['--set', 'config.extraEnv.CEREBRAS_BASE_URL=https://user:pass@llm.example.com'],
      'config.extraEnv.CEREBRAS_BASE_URL holds credentials in its URL',
    ],
    [
      'root in the pod security context',
      ['--set', 'podSecurityContext.runAsUser=0'],
      'podSecurityContext.runAsUser=0 runs the proxy as root',
    ],
    [
      'runAsNonRoot false in the pod security context',
      ['--set', 'podSecurityContext.runAsNonRoot=false'],
      'podSecurityContext.runAsNonRoot=false lets the proxy run as root',
    ],
    [
      'a writable root filesystem',
      ['--set', 'securityContext.readOnlyRootFilesystem=false'],
      'securityContext.readOnlyRootFilesystem must stay true',
    ],
    [
      'root in the container security context (schema)',
      ['--set', 'securityContext.runAsUser=0'],
      "at '/securityContext/runAsUser': minimum: got 0, want 1",
    ],
    [
      'both a ConfigMap and a Secret for the Vault CA',
      ['--set', 'vault.caCert.configMap=vault-ca', '--set', 'vault.caCert.secret=vault-ca'],
      'vault.caCert: set configMap or secret, not both',
    ],
  ])('refuses %s', (_what, args, message) => {
    const r = template(args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it.each([
    ['non-secret names that mention a token or a secret', 'config.extraEnv.TOKEN_MAX_TTL_DAYS=30'],
    ['a URL without credentials', 'config.extraEnv.CEREBRAS_BASE_URL=https://llm.example.com/@v1'],
    ['a PDB that leaves one pod to evict', 'podDisruptionBudget.minAvailable=50%'],
  ])('accepts %s', (_what, value) => {
    expect(template(['--set', value]).status).toBe(0);
  });
});

describe.each(MODES)('helm chart: $name', ({ args, auth }) => {
  const ms = render(args);
  const deployment = one(ms, 'Deployment');
  const pod = podSpec(deployment);
  const [container] = pod.containers;
  const configMap = one(ms, 'ConfigMap', 'byok-proxy');
  const job = one(ms, 'Job', '-migrate');
  const jobPod = podSpec(job);
  const shutdownMs = Number(configMap.data!.SHUTDOWN_TIMEOUT_MS);

  it('renders no Secret and no secret value: credentials are secretKeyRefs to existing Secrets', () => {
    expect(ms.map((m) => m.kind)).not.toContain('Secret');
    for (const key of Object.keys(configMap.data!)) expect(key).not.toMatch(SECRET_ENV);
    for (const c of [container, jobPod.containers[0]]) {
      for (const e of c.env ?? []) {
        if (SECRET_ENV.test(e.name)) {
          expect(e.value).toBeUndefined();
          expect(e.valueFrom?.secretKeyRef?.name).toMatch(/\S/);
        }
      }
    }
  });

  it('probes /healthz (startup, liveness) and /readyz (readiness) on the http port', () => {
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9464, protocol: 'TCP' },
    ]);
    expect(container.startupProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
  });

  it('runs non-root, read-only, without capabilities; /tmp and DATA_DIR are emptyDirs', () => {
    for (const p of [pod, jobPod]) {
      expect(p.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(p.containers[0].securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      const mounts = new Map(p.containers[0].volumeMounts!.map((m) => [m.mountPath, m.name]));
      for (const path of ['/tmp', '/data']) {
        const volume = p.volumes.find((v) => v.name === mounts.get(path));
        expect(volume?.emptyDir).toBeDefined();
      }
    }
    expect(configMap.data!.DATA_DIR).toBe('/data');
    expect(resourcesOf(container)).toMatchObject({ requests: { cpu: expect.any(String) } });
  });

  it('serves /metrics on a port of its own (METRICS_PORT), exposed by the Service', () => {
    expect(configMap.data).toMatchObject({ PORT: '8080', METRICS_PORT: '9464' });
    const ports = (one(ms, 'Service').spec as { ports: Record<string, unknown>[] }).ports;
    expect(ports).toEqual([
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' },
    ]);
  });

  it('drains: preStop sleep, then longer grace than SHUTDOWN_TIMEOUT_MS', () => {
    const sleep = container.lifecycle!.preStop!.exec!.command;
    expect(sleep[0]).toBe('sleep');
    const grace = pod.terminationGracePeriodSeconds!;
    expect(grace * 1000).toBeGreaterThan(Number(sleep[1]) * 1000 + shutdownMs);
  });

  it('migrates in a pre-install/pre-upgrade hook Job, the server does not', () => {
    expect(job.metadata.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-delete-policy': expect.stringContaining('before-hook-creation') as unknown,
    });
    expect(jobPod.containers[0].args).toEqual(['node', 'dist/bin/migrate.js']);
    expect(jobPod.containers[0].image).toBe(container.image);
    expect(configMap.data!.MIGRATIONS_RUN).toBe('false');
    // The Job validates the same configuration as the server, from its own env (no ConfigMap
    // exists yet at pre-install), with the same Secret references.
    const jobEnv = envOf(jobPod.containers[0]);
    // PROVIDERS_FILE aside: the providers ConfigMap is not there yet, and migrate.js needs none.
    for (const [k, v] of Object.entries(configMap.data!))
      expect(jobEnv.get(k)?.value).toBe(k === 'PROVIDERS_FILE' ? undefined : v);
    for (const e of container.env ?? []) expect(jobEnv.get(e.name)).toEqual(e);
    expect(jobPod.serviceAccountName).toBeUndefined();
  });

  it(`configures the secret store for ${auth}`, () => {
    const env = envOf(container);
    const data = configMap.data!;
    const tokenVolume = pod.volumes.find((v) => v.projected);
    if (auth === 'none') {
      expect(data.SECRET_STORE).toBe('local');
      expect(env.get('LOCAL_MASTER_KEY')?.valueFrom?.secretKeyRef?.name).toBe('byok-master-key');
      expect(Object.keys(data).filter((k) => k.startsWith('VAULT_'))).toEqual([]);
      return;
    }
    expect(data).toMatchObject({ SECRET_STORE: 'vault', VAULT_AUTH: auth });
    expect(data.VAULT_ADDR).toMatch(/^https?:\/\//);
    expect(env.has('VAULT_TOKEN')).toBe(auth === 'token');
    expect(env.has('VAULT_ROLE_ID')).toBe(auth === 'approle');
    expect(env.has('VAULT_SECRET_ID')).toBe(auth === 'approle');
    expect(Boolean(tokenVolume)).toBe(auth === 'kubernetes');
    if (auth === 'approle') {
      expect(env.get('VAULT_ROLE_ID')!.valueFrom!.secretKeyRef).toEqual({
        name: 'byok-proxy-approle',
        key: 'VAULT_ROLE_ID',
      });
      expect(data.VAULT_APPROLE_MOUNT).toBe('approle');
    }
    if (auth === 'kubernetes') {
      // A short-lived projected token of the chart's ServiceAccount, where the app reads it.
      const mount = container.volumeMounts!.find((m) => m.name === tokenVolume!.name)!;
      const source = tokenVolume!.projected!.sources[0].serviceAccountToken!;
      expect(data.VAULT_K8S_TOKEN_PATH).toBe(`${mount.mountPath}/${source.path}`);
      expect(data.VAULT_K8S_ROLE).toMatch(/\S/);
      const sa = one(ms, 'ServiceAccount');
      expect(pod.serviceAccountName).toBe(sa.metadata.name);
    }
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('selects its own pods from the Service, PDB and HPA', () => {
    const selector = (deployment.spec as { selector: { matchLabels: Record<string, string> } })
      .selector.matchLabels;
    const service = one(ms, 'Service');
    expect((service.spec as { selector: unknown }).selector).toEqual(selector);
    const pdb = one(ms, 'PodDisruptionBudget').spec as Record<string, unknown>;
    expect(pdb.selector).toEqual({ matchLabels: selector });
    // A pod that is not Ready never holds a node drain up.
    expect(pdb.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    const hpa = one(ms, 'HorizontalPodAutoscaler');
    expect((hpa.spec as { scaleTargetRef: unknown }).scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    // The HPA owns the replica count.
    expect(deployment.spec!.replicas).toBeUndefined();
    // No optional part unless asked for.
    for (const kind of ['Ingress', 'NetworkPolicy', 'ServiceMonitor'])
      expect(ms.map((m) => m.kind)).not.toContain(kind);
  });
});

function resourcesOf(c: Container): unknown {
  return (c as Container & { resources?: unknown }).resources;
}

describe('helm chart: optional parts (examples/full.yaml)', () => {
  const ms = render([
    '-f',
    join(EXAMPLES, 'vault-approle.yaml'),
    '-f',
    join(EXAMPLES, 'full.yaml'),
  ]);
  const deployment = one(ms, 'Deployment');
  const service = one(ms, 'Service');

  it('adds an Ingress to the http port, a NetworkPolicy and a ServiceMonitor on /metrics', () => {
    const ingress = one(ms, 'Ingress').spec as {
      rules: {
        http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] };
      }[];
    };
    // Every rule routes the http port: the metrics port is never reachable through the Ingress.
    const backends = ingress.rules.flatMap((r) => r.http.paths.map((p) => p.backend.service));
    expect(backends.length).toBeGreaterThan(0);
    for (const backend of backends)
      expect(backend).toEqual({ name: service.metadata.name, port: { name: 'http' } });
    const policy = one(ms, 'NetworkPolicy').spec as {
      policyTypes: string[];
      ingress: { ports: { port: string }[]; from?: unknown[] }[];
      egress: unknown[];
    };
    expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(JSON.stringify(policy.egress[0])).toContain('"port":53');
    const metricsRule = policy.ingress.find((r) => r.ports[0].port === 'metrics');
    expect(JSON.stringify(metricsRule?.from)).toContain('monitoring');
    // `helm test`'s pod may reach the http port even though ingressFrom names the ingress
    // controller only (test/deploy/cluster.spec.ts checks every example's dependencies).
    const httpRule = policy.ingress.find((r) => r.ports[0].port === 'http');
    expect(httpRule?.from).toContainEqual({
      podSelector: {
        matchLabels: expect.objectContaining({ 'app.kubernetes.io/component': 'test' }),
      },
    });

    const monitor = one(ms, 'ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    const spec = monitor.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: { port: string; path: string }[];
    };
    expect(spec.endpoints).toEqual([
      expect.objectContaining({ port: 'metrics', path: '/metrics' }),
    ]);
    expect(service.metadata.labels).toMatchObject(spec.selector.matchLabels);
  });

  it('derives the grace period from a longer drain and pulls by digest', () => {
    const pod = podSpec(deployment);
    expect(pod.terminationGracePeriodSeconds).toBe(15 + 120 + 10);
    expect(pod.containers[0].image).toMatch(
      /^ghcr\.io\/byok-proxy\/byok-proxy@sha256:[0-9a-f]{64}$/,
    );
  });

  it('mounts extra providers as PROVIDERS_FILE', () => {
    const data = one(ms, 'ConfigMap', 'byok-proxy').data!;
    const providers = one(ms, 'ConfigMap', '-providers').data!['providers.yaml'];
    expect(parse(providers)).toEqual([
      expect.objectContaining({ id: 'mycorp', baseUrl: 'https://llm.mycorp.internal' }),
    ]);
    const pod = podSpec(deployment);
    const volume = pod.volumes.find((v) => v.configMap?.name.endsWith('-providers'))!;
    const mount = pod.containers[0].volumeMounts!.find((m) => m.name === volume.name)!;
    expect(data.PROVIDERS_FILE).toBe(`${mount.mountPath}/providers.yaml`);
    expect(pod.containers[0].envFrom).toContainEqual({
      secretRef: { name: 'byok-proxy-provider-keys' },
    });
  });
});

describe('docker/Dockerfile and docker/compose.yaml', () => {
  const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
  const compose = parse(readFileSync(join(ROOT, 'docker', 'compose.yaml'), 'utf8'), {
    merge: true,
  }) as {
    services: Record<
      string,
      { environment?: Record<string, string>; command?: string[]; stop_grace_period?: string }
    >;
  };

  it('runs as the non-root user the chart expects, under tini, with a /healthz HEALTHCHECK', () => {
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('1000:1000');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS runtime$/m);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    // No credential is baked in.
    expect(dockerfile).not.toMatch(/^(ENV|ARG)\s.*(SECRET|TOKEN|PASSWORD|_KEY|DATABASE_URL)/m);
  });

  it('gives the proxy and its migration the same production configuration', () => {
    const proxy = compose.services['byok-proxy'];
    const migrate = compose.services.migrate;
    expect(migrate.command).toEqual(['node', 'dist/bin/migrate.js']);
    expect(migrate.environment).toEqual(proxy.environment);
    expect(proxy.environment).toMatchObject({
      NODE_ENV: 'production',
      MIGRATIONS_RUN: 'false',
      VAULT_AUTH: 'approle',
      REDIS_URL: 'redis://redis:6379',
    });
    const grace = Number(/^(\d+)s$/.exec(proxy.stop_grace_period ?? '')?.[1]);
    expect(grace * 1000).toBeGreaterThan(Number(proxy.environment!.SHUTDOWN_TIMEOUT_MS));
    for (const name of ['postgres', 'openbao', 'openbao-init', 'redis'])
      expect(Object.keys(compose.services)).toContain(name);
  });

  it('is released to the image repository the chart names by default, from the same Dockerfile', () => {
    const release = parse(
      readFileSync(join(ROOT, '.github', 'workflows', 'release.yml'), 'utf8'),
    ) as {
      env: Record<string, string>;
      jobs: { image: { steps: { uses?: string; with?: Record<string, string> }[] } };
    };
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
      image: { repository: string };
    };
    expect(release.env.IMAGE_REPOSITORY).toBe(values.image.repository);
    const build = release.jobs.image.steps.find((s) => s.uses?.startsWith('docker/build-push'));
    expect(build?.with).toMatchObject({
      file: 'docker/Dockerfile',
      platforms: 'linux/amd64,linux/arm64',
      provenance: 'mode=max',
      tags: expect.stringContaining('${{ env.IMAGE_REPOSITORY }}:') as unknown,
    });
    // The digest-pinned base is the one the Dockerfile names.
    expect(release.env.BASE_IMAGE).toBe(/^ARG NODE_IMAGE=(.+)$/m.exec(dockerfile)?.[1]);
  });
});
