import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP JSON export carried it, attributes flattened to plain values. */
export interface RecordedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean | undefined>;
  status?: { code?: number };
  resource: Record<string, string | number | boolean | undefined>;
}

export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: (Omit<RecordedSpan, 'attributes' | 'resource'> & {
        attributes?: OtlpAttribute[];
      })[];
    }[];
  }[];
}

function flat(attributes: OtlpAttribute[] = []): RecordedSpan['attributes'] {
  return Object.fromEntries(
    attributes.map(({ key, value: v }) => [
      key,
      v.stringValue ??
        (v.intValue !== undefined ? Number(v.intValue) : undefined) ??
        v.doubleValue ??
        v.boolValue,
    ]),
  );
}

/**
 * The local stand-in for an OpenTelemetry collector: an OTLP/HTTP receiver on 127.0.0.1 that
 * takes JSON exports at POST /v1/traces and records every span, and every raw body (for the
 * "no key in any span" scans). Point OTEL_EXPORTER_OTLP_ENDPOINT at `url`.
 */
export class OtlpReceiver {
  readonly spans: RecordedSpan[] = [];
  /** Every export body as received. */
  readonly bodies: string[] = [];
  private readonly server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8');
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      this.bodies.push(text);
      this.record(JSON.parse(text) as OtlpExport);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** The spans of one trace. */
  trace(traceId: string): RecordedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /** The spans whose parent is `span`. */
  childrenOf(span: RecordedSpan): RecordedSpan[] {
    return this.spans.filter((s) => s.traceId === span.traceId && s.parentSpanId === span.spanId);
  }

  private record(body: OtlpExport): void {
    for (const rs of body.resourceSpans ?? []) {
      const resource = flat(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          this.spans.push({ ...s, attributes: flat(s.attributes), resource });
    }
  }
}

export function startOtlpReceiver(): Promise<OtlpReceiver> {
  return new OtlpReceiver().listen();
}
