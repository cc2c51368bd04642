import { PassThrough, Readable } from 'node:stream';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { AppError } from '../../../src/common/errors/app-error';
import { decodeBody, parseContentEncoding } from '../../../src/common/http/request-encoding';

/** Reads a decoded stream to the end: its bytes, or the error it failed with. */
async function drain(stream: Readable): Promise<Buffer | Error> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  } catch (e) {
    return e as Error;
  }
}

/** A request body as Fastify hands it to preParsing: a stream of the bytes, in small pieces. */
function payload(bytes: Buffer): PassThrough {
  const p = new PassThrough();
  for (let i = 0; i < bytes.length; i += 1000) p.write(bytes.subarray(i, i + 1000));
  p.end();
  return p;
}

describe('parseContentEncoding', () => {
  it('lists the codings in the order applied, without identity, case and spaces aside', () => {
    expect(parseContentEncoding('gzip')).toEqual(['gzip']);
    expect(parseContentEncoding(' GZIP , br ')).toEqual(['gzip', 'br']);
    expect(parseContentEncoding('identity')).toEqual([]);
    expect(parseContentEncoding('identity, deflate')).toEqual(['deflate']);
    expect(parseContentEncoding('x-gzip')).toEqual(['x-gzip']);
  });

  it.each([
    ['zstd', '"zstd"'],
    ['compress', '"compress"'],
    ['gzip, zstd', '"zstd"'],
    ['gzip, gzip, gzip', 'at most 2'],
  ])('refuses %s with a 415 that says %s', (header, says) => {
    const err = parseContentEncoding(header) as AppError;
    expect(err).toBeInstanceOf(AppError);
    expect(err.status).toBe(415);
    expect(err.code).toBe('unsupported_media_type');
    expect(err.message).toContain(says);
    expect(err.headers).toEqual({ 'accept-encoding': 'gzip, deflate, br' });
  });

  it('never repeats a token that is not a plain token', () => {
    const err = parseContentEncoding('<script>alert(1)</script>') as AppError;
    expect(err.status).toBe(415);
    expect(err.message).not.toContain('<script>');
  });
});

describe('decodeBody', () => {
  const json = Buffer.from(JSON.stringify({ model: 'm', text: 'x'.repeat(5000) }));

  it('decodes, and reports the encoded length for the content-length check', async () => {
    const gz = gzipSync(json);
    const out = decodeBody(payload(gz), ['gzip'], 1 << 20);
    expect(await drain(out)).toEqual(json);
    expect(out.receivedEncodedLength).toBe(gz.length);
  });

  it('undoes stacked codings last-applied first', async () => {
    const out = decodeBody(payload(brotliCompressSync(gzipSync(json))), ['gzip', 'br'], 1 << 20);
    expect(await drain(out)).toEqual(json);
  });

  it('stops with a 413 once the decoded bytes pass the limit, having produced no more', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    const out = decodeBody(payload(bomb), ['gzip'], 64 * 1024);
    let produced = 0;
    out.on('data', (c: Buffer) => (produced += c.length));
    const err = await new Promise<Error>((resolve) => out.on('error', resolve));
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(413);
    expect(produced).toBeLessThanOrEqual(64 * 1024);
  });

  it('is a 400 naming the coding, never the bytes, when the body is not what it claims', async () => {
    const err = await drain(decodeBody(payload(Buffer.from('SECRET not gzip')), ['gzip'], 1000));
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(400);
    expect((err as AppError).message).toMatch(/could not be decoded as gzip/);
    expect((err as AppError).message).not.toContain('SECRET');
    const cut = await drain(decodeBody(payload(gzipSync(json).subarray(0, 40)), ['gzip'], 1 << 20));
    expect((cut as AppError).status).toBe(400);
  });
});
