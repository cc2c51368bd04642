import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';

/** A TLS listener in front of a plain TCP port, for clients that only speak wss:// or https://. */
export interface TlsFront {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** The self-signed certificate, for the client's `ca`. */
  ca: Buffer;
  close(): Promise<void>;
}

/**
 * Terminates TLS with a throwaway self-signed certificate (openssl) and pipes each connection to
 * `target` (a `http://127.0.0.1:<port>` URL). The openai SDK's realtime client always dials
 * wss://, so it reaches the plain-HTTP app under test through this.
 */
export async function startTlsFront(target: string): Promise<TlsFront> {
  const dir = mkdtempSync(join(tmpdir(), 'byok-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    const port = Number(new URL(target).port);
    const open = new Set<{ destroy(): void }>();
    const server: Server = createServer({ key, cert }, (tls) => {
      const plain = connect(port, '127.0.0.1');
      open.add(tls).add(plain);
      tls.on('close', () => open.delete(tls));
      plain.on('close', () => open.delete(plain));
      tls.pipe(plain).pipe(tls);
      tls.on('error', () => plain.destroy());
      plain.on('error', () => tls.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      ca: cert,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of open) s.destroy();
        }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
