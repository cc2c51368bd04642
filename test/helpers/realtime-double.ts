import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { keyOf } from './upstream-double';

/** One upstream WebSocket session as the double saw it. */
export interface DoubleSession {
  url: string;
  headers: IncomingHttpHeaders;
  /** The provider key the handshake carried (any auth style). */
  key: string | undefined;
  protocol: string;
  /** Every message received, as received. */
  received: { data: Buffer; isBinary: boolean }[];
  /** Every message sent, as sent. */
  sent: { data: Buffer; isBinary: boolean }[];
  /** The close code and reason the double's socket reported, once closed. */
  closed?: { code: number; reason: string };
  socket: WebSocket;
}

export const USAGE = { input_tokens: 11, output_tokens: 7, total_tokens: 18 };

/**
 * The stand-in for a provider's realtime WebSocket API: a small slice of OpenAI's Realtime
 * protocol. `session.update` → `session.updated`; `response.create` → `response.created`, three
 * `response.output_text.delta` and `response.done` with USAGE. Test controls, as client events:
 * `test.echo_key` (an event quoting the key it received), `test.drop` (the TCP connection cut),
 * `test.stall` (it stops answering), `test.close` {code, reason}, `test.flood` {count, size}
 * (binary messages). Anything else is echoed back unchanged, text as text, binary as binary.
 * Keys in `rejectKeys` get HTTP 401 and keys in `limitKeys` 429 at the handshake.
 */
export class RealtimeDouble {
  readonly sessions: DoubleSession[] = [];
  readonly rejectKeys = new Set<string>();
  readonly limitKeys = new Set<string>();
  readonly #wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => [...offered][0] ?? false,
  });
  readonly #server = createServer((_req, res) => res.writeHead(404).end());

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.#server.on('upgrade', (req, socket, head) => {
      const key = keyOf(req);
      const status =
        key && this.rejectKeys.has(key) ? 401 : key && this.limitKeys.has(key) ? 429 : 0;
      if (status) {
        const body = JSON.stringify({
          error: { message: `refused key ${key}`, type: 'invalid_request_error', code: status },
        });
        socket.end(
          `HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
        );
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) =>
        this.serve(ws, { url: req.url ?? '', headers: req.headers, key }),
      );
    });
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  private serve(ws: WebSocket, seen: Pick<DoubleSession, 'url' | 'headers' | 'key'>): void {
    const s: DoubleSession = { ...seen, protocol: ws.protocol, received: [], sent: [], socket: ws };
    this.sessions.push(s);
    let stalled = false;
    const send = (data: Buffer | string, isBinary = false) => {
      const bytes = Buffer.from(data);
      s.sent.push({ data: bytes, isBinary });
      ws.send(bytes, { binary: isBinary });
    };
    const event = (e: object) => send(JSON.stringify({ event_id: `evt_${s.sent.length}`, ...e }));
    ws.on('close', (code, reason) => (s.closed = { code, reason: reason.toString() }));
    ws.on('message', (raw: RawData, isBinary) => {
      const data = raw as Buffer;
      s.received.push({ data, isBinary });
      if (stalled) return;
      if (isBinary) return send(data, true);
      const e = parse(data);
      switch (e?.type) {
        case 'session.update':
          return event({ type: 'session.updated', session: e.session ?? {} });
        case 'response.create':
          event({ type: 'response.created', response: { id: 'resp_1', status: 'in_progress' } });
          for (const word of ['Hello', ' from', ' realtime'])
            event({ type: 'response.output_text.delta', response_id: 'resp_1', delta: word });
          return event({
            type: 'response.done',
            response: { id: 'resp_1', status: 'completed', usage: USAGE },
          });
        case 'test.echo_key':
          return event({ type: 'error', error: { message: `bad key ${s.key}`, key: s.key } });
        case 'test.drop':
          return ws.terminate();
        case 'test.stall':
          stalled = true;
          return;
        case 'test.close':
          return ws.close(Number(e.code), typeof e.reason === 'string' ? e.reason : '');
        case 'test.flood':
          for (let i = 0; i < Number(e.count); i++)
            ws.send(Buffer.alloc(Number(e.size), i % 256), { binary: true });
          return;
        default:
          return send(data);
      }
    });
    event({ type: 'session.created', session: { id: 'sess_1', model: modelOf(seen.url) } });
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.socket.terminate();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function parse(data: Buffer): Record<string, unknown> | undefined {
  try {
    return JSON.parse(data.toString()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const modelOf = (url: string) => new URL(url, 'http://x').searchParams.get('model');

export const startRealtimeDouble = (): Promise<RealtimeDouble> => new RealtimeDouble().start();
