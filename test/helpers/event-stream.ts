import { crc32 } from 'node:zlib';

/**
 * AWS's binary event-stream framing (application/vnd.amazon.eventstream), as Bedrock's
 * ConverseStream and InvokeModelWithResponseStream answer: each message is a prelude (total and
 * header lengths, CRC32), string headers, a JSON payload and a CRC32 of the whole message.
 */
export function eventFrame(eventType: string, payload: unknown): Buffer {
  const headers = Buffer.concat(
    Object.entries({
      ':event-type': eventType,
      ':content-type': 'application/json',
      ':message-type': 'event',
    }).map(([name, value]) => {
      const n = Buffer.from(name);
      const v = Buffer.from(value);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(v.length);
      return Buffer.concat([Buffer.from([n.length]), n, Buffer.from([7]), len, v]);
    }),
  );
  const body = Buffer.from(JSON.stringify(payload));
  const total = 12 + headers.length + body.length + 4;
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headers.length, 4);
  const preludeCrc = Buffer.alloc(4);
  preludeCrc.writeUInt32BE(crc32(prelude));
  const message = Buffer.concat([prelude, preludeCrc, headers, body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(message));
  return Buffer.concat([message, crc]);
}

/** Reads frames back as an AWS SDK would, checking both CRCs; throws on a damaged frame. */
export function readFrames(data: Buffer): { eventType: string; payload: unknown }[] {
  const out: { eventType: string; payload: unknown }[] = [];
  let at = 0;
  while (at < data.length) {
    const total = data.readUInt32BE(at);
    const headersLength = data.readUInt32BE(at + 4);
    if (total < 16 || at + total > data.length) throw new Error('damaged frame: bad length');
    const frame = data.subarray(at, at + total);
    if (crc32(frame.subarray(0, 8)) !== frame.readUInt32BE(8))
      throw new Error('damaged frame: prelude CRC');
    if (crc32(frame.subarray(0, total - 4)) !== frame.readUInt32BE(total - 4))
      throw new Error('damaged frame: message CRC');
    const headers = frame.subarray(12, 12 + headersLength).toString('latin1');
    // eslint-disable-next-line no-control-regex -- header type 7 (string), then a 2-byte length
    const eventType = /:event-type\x07\x00.(\w+)/s.exec(headers)?.[1] ?? '';
    const payload = JSON.parse(frame.subarray(12 + headersLength, total - 4).toString()) as unknown;
    out.push({ eventType, payload });
    at += total;
  }
  return out;
}
