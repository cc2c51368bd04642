import type { RawData, WebSocket } from 'ws';
import type { Scrubber } from '../proxy/key-scrubber';
import type { EarlyMessages } from '../upstream/upstream-sockets';
import { type RealtimeResponse, responseDone } from './realtime-usage';

export interface SessionLimits {
  idleTimeoutMs: number;
  maxSessionMs: number;
  /** Bytes one direction may hold unsent; a source is paused at half of it. */
  maxBufferedBytes: number;
}

/** Why a session ended: a side closed it, or the proxy did (and with which code). */
export type SessionEnd = 'client' | 'upstream' | 'idle' | 'max_session' | 'shutdown' | 'buffer';

/** What one session carried, for its access line: `in` is client → provider, `out` the reverse. */
export interface SessionStats {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  endedBy?: SessionEnd;
  /** The close codes each side's socket reported (1006: it vanished without a close frame). */
  clientCode?: number;
  upstreamCode?: number;
}

// Codes a close frame may carry (RFC 6455 §7.4; 1005 and 1006 are only ever reported locally).
const sendable = (code: number) =>
  (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) ||
  (code >= 3000 && code <= 4999);
/** Close reasons are at most 123 bytes. */
const reasonOf = (text: string) => Buffer.from(text).subarray(0, 123).toString();

/**
 * One realtime session: messages relayed both ways as they arrive, unchanged (text stays text,
 * binary stays binary; the provider's are scrubbed of the key), pings and pongs passed through,
 * and a close on either side passed to the other with its code and reason. Back-pressure: a side
 * that does not read pauses the other once half of WS_MAX_BUFFERED_BYTES waits for it; past
 * the whole of it the session closes with 1013. Messages larger than that close it with 1009
 * (ws's maxPayload). Idle and maximum lengths end it with 1001 and 1008.
 */
export class RealtimeSession {
  readonly stats: SessionStats = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0 };
  /** Settles once both sockets are closed. */
  readonly ended: Promise<SessionStats>;
  private readonly pending = { in: 0, out: 0 };
  private idle?: NodeJS.Timeout;
  private max?: NodeJS.Timeout;
  private open = 2;

  constructor(
    private readonly client: WebSocket,
    private readonly upstream: WebSocket,
    private readonly limits: SessionLimits,
    private readonly scrubber: Scrubber,
    private readonly onResponse: (r: RealtimeResponse) => void,
  ) {
    let settle!: (s: SessionStats) => void;
    this.ended = new Promise((resolve) => (settle = resolve));
    const closed = () => {
      if (--this.open > 0) return;
      clearTimeout(this.idle);
      clearTimeout(this.max);
      settle(this.stats);
    };
    client.once('close', (code, reason) => {
      this.stats.clientCode = code;
      this.stats.endedBy ??= 'client';
      this.passClose(upstream, code, reason, 'client went away');
      closed();
    });
    upstream.once('close', (code, reason) => {
      this.stats.upstreamCode = code;
      this.stats.endedBy ??= 'upstream';
      this.passClose(client, code, this.scrubber.all(reason), 'provider connection lost');
      closed();
    });
  }

  /** Starts relaying: first what the provider sent before the client was upgraded. */
  start(early: EarlyMessages): void {
    early.release();
    for (const m of early.messages) this.toClient(m.data, m.isBinary);
    this.client.on('message', (data, isBinary) => this.toUpstream(buffer(data), isBinary));
    this.upstream.on('message', (data, isBinary) => this.toClient(buffer(data), isBinary));
    for (const [from, to] of [
      [this.client, this.upstream],
      [this.upstream, this.client],
    ] as const) {
      from.on('ping', (data) => to.readyState === to.OPEN && to.ping(data));
      from.on('pong', (data) => to.readyState === to.OPEN && to.pong(data));
      from.on('error', (e: Error & { code?: string }) => {
        if (e.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
          this.end('buffer', 1009, 'message larger than WS_MAX_BUFFERED_BYTES');
      });
    }
    this.idle = setTimeout(
      () => this.end('idle', 1001, 'idle longer than WS_IDLE_TIMEOUT_MS'),
      this.limits.idleTimeoutMs,
    );
    this.max = setTimeout(
      () => this.end('max_session', 1008, 'session longer than WS_MAX_SESSION_MS'),
      this.limits.maxSessionMs,
    );
    this.upstream.resume();
  }

  /** Closes both sides with `code` (the proxy ends the session: shutdown, timeouts, buffers). */
  end(why: SessionEnd, code: number, reason: string): void {
    this.stats.endedBy ??= why;
    for (const s of [this.client, this.upstream])
      if (s.readyState === s.OPEN || s.readyState === s.CONNECTING) s.close(code, reason);
  }

  private toUpstream(data: Buffer, isBinary: boolean): void {
    this.stats.framesIn++;
    this.stats.bytesIn += data.length;
    this.forward(this.client, this.upstream, 'in', data, isBinary);
  }

  private toClient(data: Buffer, isBinary: boolean): void {
    const out = this.scrubber.all(data);
    this.stats.framesOut++;
    this.stats.bytesOut += out.length;
    if (!isBinary) {
      const done = responseDone(data);
      if (done) this.onResponse(done);
    }
    this.forward(this.upstream, this.client, 'out', out, isBinary);
  }

  private forward(
    from: WebSocket,
    to: WebSocket,
    dir: 'in' | 'out',
    data: Buffer,
    isBinary: boolean,
  ): void {
    this.idle?.refresh();
    if (to.readyState !== to.OPEN) return; // closing: the close is on its way
    const cap = this.limits.maxBufferedBytes;
    this.pending[dir] += data.length;
    to.send(data, { binary: isBinary }, () => {
      this.pending[dir] -= data.length;
      if (this.pending[dir] <= cap / 4) from.resume();
    });
    if (this.pending[dir] > cap)
      this.end('buffer', 1013, 'the other side is not reading (over WS_MAX_BUFFERED_BYTES)');
    else if (this.pending[dir] > cap / 2) from.pause();
  }

  /** Passes a close from one side to the other, unless the other is already closing. */
  private passClose(to: WebSocket, code: number, reason: Buffer, lost: string): void {
    if (to.readyState !== to.OPEN && to.readyState !== to.CONNECTING) return;
    if (code === 1005) to.close();
    else if (sendable(code)) to.close(code, reasonOf(reason.toString()));
    else to.close(to === this.client ? 1014 : 1001, lost);
  }
}

function buffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
