import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP export carried it, attributes flattened to plain values. */
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

/** One field of a protobuf message: a varint, 8 fixed bytes, or length-delimited bytes. */
interface WireField {
  no: number;
  varint?: bigint;
  fixed64?: Buffer;
  bytes?: Buffer;
}

/** The fields of a protobuf message, in order (wire format only: the schema is the caller's). */
function wireFields(buf: Buffer): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[pos++];
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return value;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, varint: varint() });
    else if (wire === 1) out.push({ no, fixed64: buf.subarray(pos, (pos += 8)) });
    else if (wire === 2) {
      const length = Number(varint());
      out.push({ no, bytes: buf.subarray(pos, (pos += length)) });
    } else if (wire === 5) pos += 4;
    else throw new Error(`protobuf wire type ${wire} is not used by OTLP`);
  }
  return out;
}

const EMPTY = Buffer.alloc(0);
const all = (fields: WireField[], no: number) =>
  fields.filter((f) => f.no === no).map((f) => f.bytes ?? EMPTY);
const one = (fields: WireField[], no: number) => fields.find((f) => f.no === no);

/** KeyValue { 1 key; 2 AnyValue { 1 string, 2 bool, 3 int, 4 double } }, as OTLP JSON has it. */
function protobufAttribute(kv: Buffer): OtlpAttribute {
  const fields = wireFields(kv);
  const v = wireFields(one(fields, 2)?.bytes ?? EMPTY)[0];
  const value: OtlpValue =
    v?.no === 1
      ? { stringValue: v.bytes!.toString('utf8') }
      : v?.no === 2
        ? { boolValue: v.varint !== 0n }
        : v?.no === 3
          ? { intValue: Number(BigInt.asIntN(64, v.varint!)) }
          : v?.no === 4
            ? { doubleValue: v.fixed64!.readDoubleLE(0) }
            : {};
  return { key: one(fields, 1)!.bytes!.toString('utf8'), value };
}

/**
 * An ExportTraceServiceRequest in protobuf, in the shape of its JSON form: resource_spans (1) of
 * resource (1, attributes 1) and scope_spans (2) of spans (2); a span's trace_id (1), span_id
 * (2), parent_span_id (4), name (5), kind (6), attributes (9) and status (15, code 3).
 */
function fromProtobuf(body: Buffer): OtlpExport {
  return {
    resourceSpans: all(wireFields(body), 1).map((rs) => {
      const fields = wireFields(rs);
      return {
        resource: {
          attributes: all(wireFields(all(fields, 1)[0] ?? EMPTY), 1).map(protobufAttribute),
        },
        scopeSpans: all(fields, 2).map((ss) => ({
          spans: all(wireFields(ss), 2).map((span) => {
            const f = wireFields(span);
            const parent = one(f, 4)?.bytes;
            return {
              traceId: one(f, 1)!.bytes!.toString('hex'),
              spanId: one(f, 2)!.bytes!.toString('hex'),
              parentSpanId: parent?.length ? parent.toString('hex') : undefined,
              name: one(f, 5)?.bytes?.toString('utf8') ?? '',
              kind: Number(one(f, 6)?.varint ?? 0n),
              attributes: all(f, 9).map(protobufAttribute),
              status: {
                code: Number(one(wireFields(one(f, 15)?.bytes ?? EMPTY), 3)?.varint ?? 0n),
              },
            };
          }),
        })),
      };
    }),
  };
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
 * takes protobuf and JSON exports at POST /v1/traces and records every span, every raw body (for
 * the "no key in any span" scans: protobuf carries strings as UTF-8 bytes too) and its content
 * type. Point OTEL_EXPORTER_OTLP_ENDPOINT at `url`.
 */
export class OtlpReceiver {
  readonly spans: RecordedSpan[] = [];
  /** Every export body as received. */
  readonly bodies: string[] = [];
  /** The content type of each export. */
  readonly contentTypes: string[] = [];
  private readonly server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const type = req.headers['content-type'] ?? '';
      this.contentTypes.push(type);
      this.bodies.push(body.toString('utf8'));
      if (type === 'application/x-protobuf') {
        this.record(fromProtobuf(body));
        res.writeHead(200, { 'content-type': type }).end();
      } else {
        this.record(JSON.parse(body.toString('utf8')) as OtlpExport);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
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
