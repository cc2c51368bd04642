import {
  Counter,
  type Metric,
  type MetricObject,
  type OpenMetricsContentType,
  Registry,
} from 'prom-client';

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_CONTENT_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

/** A scrape: the text and its content type. */
export interface Exposition {
  contentType: string;
  body: string;
}

/**
 * A counter as OpenMetrics names it (`byok_x`, samples `byok_x_total`), without touching the
 * counter: prom-client's OpenMetrics registry renames the counters it prints in place, which
 * would take `_total` off the Prometheus text served next.
 */
function openMetricsCounter(metric: MetricObject, real: Metric): Metric {
  const name = metric.name.replace(/_total$/, '');
  return {
    name,
    help: metric.help,
    type: metric.type,
    aggregator: metric.aggregator,
    get: async () => ({ ...(await real.get()), name }),
  } as unknown as Metric;
}

/**
 * /metrics as the scraper asks: OpenMetrics (with the latency histograms' trace-id exemplars)
 * when its Accept header names application/openmetrics-text, as Prometheus's does when
 * exemplar storage is on; else the Prometheus text format.
 */
export async function exposition(
  registry: Registry,
  accept: string | string[] | undefined,
): Promise<Exposition> {
  if (!String(accept ?? '').includes('application/openmetrics-text'))
    return { contentType: PROMETHEUS_CONTENT_TYPE, body: await registry.metrics() };
  const view = new Registry<OpenMetricsContentType>();
  view.setContentType(OPENMETRICS_CONTENT_TYPE);
  for (const metric of registry.getMetricsAsArray()) {
    const real = registry.getSingleMetric(metric.name)!;
    view.registerMetric(real instanceof Counter ? openMetricsCounter(metric, real) : real);
  }
  return { contentType: OPENMETRICS_CONTENT_TYPE, body: await view.metrics() };
}
