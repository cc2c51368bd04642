import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MetricsService } from '../../src/metrics/metrics.service';
import { findHelm } from '../helpers/helm';

const CHART = join(__dirname, '../../helm/byok-proxy');
const DASHBOARD = join(CHART, 'dashboards/byok-proxy.json');
const RULES = join(CHART, 'files/alert-rules.yaml');

interface Panel {
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string; refId: string }[];
}
interface Rule {
  alert: string;
  expr: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

/** Every series name the service can export: each metric, and a histogram's three series. */
async function exported(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await new MetricsService().registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(m.name + suffix);
  }
  return names;
}

/** The metric names a PromQL expression reads: label matchers and by/without lists removed. */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...bare.matchAll(/\b(byok_\w+|gen_ai_\w+|process_\w+|nodejs_\w+)\b/g)].map((m) => m[1]);
}

function helm(...args: string[]): string {
  return execFileSync(findHelm(), ['template', 'obs', CHART, ...args], { encoding: 'utf8' });
}

describe('the Grafana dashboard and the alert rules', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    schemaVersion: number;
    templating: { list: { name: string }[] };
    panels: Panel[];
  };
  const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups[0]
    .rules;

  it('is a Grafana dashboard whose panels each query something, laid out without overlap', () => {
    expect(dashboard.uid).toBe('byok-proxy');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'job']);
    const graphs = dashboard.panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThanOrEqual(12);
    for (const p of graphs) {
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.expr).toContain('job=~"$job"');
    }
    const cells = new Set<string>();
    for (const { gridPos: g } of dashboard.panels) {
      expect(g.x + g.w).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
  });

  it('covers what an operator watches: traffic, errors, latency, first chunk, tokens, cost, limits, failovers, invalidations, dependencies, spill', () => {
    const queried = new Set(
      dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricsIn(t.expr))),
    );
    for (const name of [
      'byok_proxy_requests_total',
      'gen_ai_client_operation_duration_seconds_bucket',
      'gen_ai_client_operation_time_to_first_chunk_seconds_bucket',
      'byok_usage_tokens_total',
      'byok_usage_cost_usd_total',
      'byok_rate_limited_total',
      'byok_key_failovers_total',
      'byok_keys_invalidated_total',
      'byok_dependency_up',
      'byok_rows_spilled_total',
      'byok_rows_dropped_total',
    ])
      expect(queried).toContain(name);
  });

  it('queries only series the service exports, in the dashboard and in every rule', async () => {
    const names = await exported();
    const used = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricsIn(t.expr))),
      ...rules.flatMap((r) => metricsIn(r.expr)),
    ];
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((n) => !names.has(n))).toEqual([]);
  });

  it("has alert rules for errors, dependencies, spilled and dropped rows and invalidated keys, which Prometheus' rule validation accepts", () => {
    expect(rules.map((r) => r.alert)).toEqual([
      'ByokProxyHighErrorRate',
      'ByokProxyDependencyDown',
      'ByokProxyRowsSpilling',
      'ByokProxyRowsDropped',
      'ByokProxyKeysInvalidated',
    ]);
    for (const r of rules) {
      expect(['info', 'warning', 'critical']).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
    }
    // scripts/tools/rulecheck: the validation `promtool check rules` runs (rulefmt).
    const rulecheck = execFileSync('bash', [join(__dirname, '../../scripts/tools/rulecheck.sh')], {
      encoding: 'utf8',
    }).trim();
    const out = execFileSync(rulecheck, [RULES], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: 5 rules found/);
  }, 600_000);

  it('ships both from the chart when enabled, and neither by default', () => {
    expect(helm()).not.toMatch(/kind: PrometheusRule|-dashboard\n/);
    const on = helm(
      '--set',
      'metrics.dashboard.enabled=true',
      '--set',
      'metrics.prometheusRule.enabled=true',
    );
    const docs = on.split(/^---$/m).map((d) => parse(d) as Record<string, unknown> | null);
    const configMap = docs.find(
      (d) =>
        d?.kind === 'ConfigMap' &&
        String((d.metadata as { name: string }).name).endsWith('-dashboard'),
    ) as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    expect(configMap.metadata.labels.grafana_dashboard).toBe('1');
    expect(JSON.parse(configMap.data['byok-proxy.json'])).toEqual(dashboard);
    const rule = docs.find((d) => d?.kind === 'PrometheusRule') as {
      spec: { groups: { rules: Rule[] }[] };
    };
    expect(rule.spec.groups[0].rules).toEqual(rules);
  });
});
