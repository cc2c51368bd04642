import {
  ErrorTypeLabels,
  MAX_FAILURE_CODES,
  operationLabel,
  statusLabel,
} from '../../../src/metrics/labels';
import { MAX_SERIES, MetricsService } from '../../../src/metrics/metrics.service';

describe('metric label values', () => {
  it('operations outside the fixed set are "other"', () => {
    expect(operationLabel('chat')).toBe('chat');
    expect(operationLabel('v1/zz')).toBe('other');
  });

  it('statuses: registered codes as is, else their class, else "other"', () => {
    expect(statusLabel(200)).toBe('200');
    expect(statusLabel(429)).toBe('429');
    expect(statusLabel(499)).toBe('4xx');
    expect(statusLabel(599)).toBe('5xx');
    expect(statusLabel(999)).toBe('other');
    expect(statusLabel(42)).toBe('other');
  });

  it('error types: our codes, statuses and a capped number of failure codes', () => {
    const labels = new ErrorTypeLabels();
    expect(labels.label(undefined)).toBe('');
    expect(labels.label('rate_limited')).toBe('rate_limited');
    expect(labels.label('client_closed')).toBe('client_closed');
    expect(labels.label('404')).toBe('404');
    expect(labels.label('499')).toBe('4xx');
    expect(labels.label('UND_ERR_SOCKET')).toBe('UND_ERR_SOCKET');
    expect(labels.label('not a code / at all')).toBe('other');
    for (let i = 0; i < MAX_FAILURE_CODES * 2; i++) labels.label(`ECODE${i}`);
    expect(labels.label('ECODE_NEW')).toBe('other');
    expect(labels.label('UND_ERR_SOCKET')).toBe('UND_ERR_SOCKET');
  });
});

describe('MetricsService', () => {
  const sample = (model: string, operation = 'chat') => ({
    provider: 'cerebras',
    model,
    operation,
    keySource: 'user',
    status: 200,
    seconds: 0.1,
  });

  it('folds label sets past MAX_SERIES into one per provider, and drops overlong models', async () => {
    const m = new MetricsService();
    m.observe(sample('m'.repeat(500)));
    const ops = ['chat', 'embeddings', 'models', 'images', 'audio'];
    for (let i = 0; i < MAX_SERIES * 2; i++)
      m.observe(sample(`model-${i % 200}`, ops[Math.floor(i / 200) % 5]));
    const text = await m.registry.metrics();
    const series = text.match(/^gen_ai_client_operation_duration_seconds_count\{.*$/gm) ?? [];
    expect(series.length).toBeLessThanOrEqual(MAX_SERIES + 1);
    expect(text).toContain(
      'gen_ai_client_operation_duration_seconds_count{gen_ai_provider_name="cerebras",gen_ai_request_model="other",gen_ai_operation_name="other",error_type="other"}',
    );
    expect(text).not.toContain('mmmmmmmmmm');
    const counts = series.map((l) => Number(l.split(' ').pop()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(MAX_SERIES * 2 + 1);
  });
});
