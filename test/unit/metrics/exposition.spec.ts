import {
  exposition,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
} from '../../../src/metrics/exposition';
import { MetricsService } from '../../../src/metrics/metrics.service';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const sample = (traceId?: string) => ({
  provider: 'groq',
  model: 'llama',
  operation: 'chat',
  keySource: 'user',
  status: 200,
  seconds: 0.05,
  firstChunkSeconds: 0.01,
  traceId,
});
const OPENMETRICS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('/metrics exposition', () => {
  it('serves the Prometheus text format unless the scraper asks for OpenMetrics', async () => {
    const m = new MetricsService();
    m.observe(sample(TRACE));
    for (const accept of [undefined, 'text/plain', '*/*']) {
      const { contentType, body } = await exposition(m.registry, accept);
      expect(contentType).toBe(PROMETHEUS_CONTENT_TYPE);
      expect(body).toContain('# TYPE byok_proxy_requests_total counter');
      expect(body).not.toContain(TRACE);
    }
  });

  it('carries the trace id of traced requests as latency exemplars in OpenMetrics', async () => {
    const m = new MetricsService();
    m.observe(sample(TRACE));
    const { contentType, body } = await exposition(m.registry, OPENMETRICS_ACCEPT);
    expect(contentType).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(body).toMatch(
      new RegExp(
        `^gen_ai_client_operation_duration_seconds_bucket\\{le="0.08",.*\\} 1 # \\{trace_id="${TRACE}"\\} 0.05 \\d+`,
        'm',
      ),
    );
    expect(body).toMatch(
      new RegExp(
        `^gen_ai_client_operation_time_to_first_chunk_seconds_bucket\\{le="0.01",.*trace_id="${TRACE}"`,
        'm',
      ),
    );
    expect(body).toContain('# TYPE byok_proxy_requests counter');
    expect(body).toMatch(
      /^byok_proxy_requests_total\{provider="groq",status="200",key_source="user"\} 1$/m,
    );
    expect(body.endsWith('# EOF\n')).toBe(true);
  });

  it('keeps one new exemplar per bucket per second: the first stays, another bucket gets its own', async () => {
    const OTHER = '1bf7651916cd43dd8448eb211c80319d';
    const SLOW = '2cf7651916cd43dd8448eb211c80319e';
    const m = new MetricsService();
    m.observe(sample(TRACE));
    m.observe(sample(OTHER)); // same buckets, within the second: counted, no new exemplar
    m.observe({ ...sample(SLOW), seconds: 3 }); // a slow one lands in a bucket of its own
    const { body } = await exposition(m.registry, OPENMETRICS_ACCEPT);
    expect(body).toMatch(
      new RegExp(
        `^gen_ai_client_operation_duration_seconds_bucket\\{le="0.08",.*\\} 2 # \\{trace_id="${TRACE}"\\}`,
        'm',
      ),
    );
    expect(body).toMatch(
      new RegExp(
        `^gen_ai_client_operation_duration_seconds_bucket\\{le="5.12",.*\\} 3 # \\{trace_id="${SLOW}"\\} 3 `,
        'm',
      ),
    );
    expect(body).not.toContain(OTHER);
  });

  it('has no exemplar for untraced requests, and leaves the Prometheus names as they were', async () => {
    const m = new MetricsService();
    m.observe(sample());
    expect((await exposition(m.registry, OPENMETRICS_ACCEPT)).body).not.toContain('# {');
    // prom-client renames counters in place when printing OpenMetrics: not these.
    const after = (await exposition(m.registry, undefined)).body;
    expect(after).toMatch(
      /^byok_proxy_requests_total\{provider="groq",status="200",key_source="user"\} 1$/m,
    );
    expect(after).toContain('# TYPE byok_proxy_requests_total counter');
  });
});
