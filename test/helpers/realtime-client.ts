import { type RawData, WebSocket } from 'ws';
import { eventually } from './eventually';

/** A raw `ws` client of the proxy that records everything it receives. */
export interface RealtimeClient {
  ws: WebSocket;
  received: { data: Buffer; isBinary: boolean }[];
  /** Settles with the close code and reason the client saw. */
  closed: Promise<{ code: number; reason: string }>;
  /** The parsed text events received so far. */
  events(): { type: string; [k: string]: unknown }[];
  /** Waits for a text event of this type; returns it. */
  next(type: string): Promise<{ type: string; [k: string]: unknown }>;
}

/** A handshake the proxy refused: its HTTP answer. */
export interface Refused {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** `http://…` → `ws://…`, opened with the given subprotocols and headers. */
export function openRealtime(
  baseUrl: string,
  path: string,
  opts: { protocols?: string[]; headers?: Record<string, string> } = {},
): Promise<RealtimeClient> {
  const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + path, opts.protocols ?? [], {
    headers: opts.headers,
  });
  const received: RealtimeClient['received'] = [];
  ws.on('message', (data: RawData, isBinary) => received.push({ data: data as Buffer, isBinary }));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const events = () =>
    received
      .filter((m) => !m.isBinary)
      .map((m) => JSON.parse(m.data.toString()) as { type: string; [k: string]: unknown });
  const client: RealtimeClient = {
    ws,
    received,
    closed,
    events,
    next: (type) =>
      eventually(() => {
        const e = events().find((x) => x.type === type);
        if (!e)
          throw new Error(
            `no ${type} event yet (got ${events()
              .map((x) => x.type)
              .join(', ')})`,
          );
        return e;
      }),
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        reject(
          Object.assign(new Error(`refused with ${res.statusCode}`), {
            refused: {
              status: res.statusCode,
              headers: res.headers,
              body: Buffer.concat(parts).toString(),
            } as Refused,
          }),
        ),
      );
    });
    ws.once('error', reject);
  });
}

/** The HTTP answer of a handshake that must be refused. */
export async function refusedHandshake(...args: Parameters<typeof openRealtime>): Promise<Refused> {
  try {
    const c = await openRealtime(...args);
    c.ws.terminate();
  } catch (e) {
    const refused = (e as { refused?: Refused }).refused;
    if (refused) return refused;
    throw e;
  }
  throw new Error('the handshake was accepted');
}
