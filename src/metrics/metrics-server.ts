import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { exposition } from './exposition';
import { MetricsService } from './metrics.service';

/**
 * `/metrics` on its own port (METRICS_PORT, bound to HOST), so a scraper can reach it while the
 * public port (and any Ingress in front of it) never serves it. A plain node:http server: it
 * answers GET/HEAD /metrics and 404 for anything else, with no auth, no body parsing and none of
 * the /api pipeline. It starts with the application (before the main port listens) and closes on
 * app.close() after the main port has drained, so a last scrape still sees the final counts.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server?: Server;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /** The port it listens on (METRICS_PORT=0 picks a free one), once started. */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.metricsPort, this.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.logger.error(`Metrics listener failed: ${e.message}`));
    this.server = server;
    this.logger.log(`metrics on http://${this.config.host}:${this.port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A scraper's keep-alive connection would hold close() until it times out.
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') return end(res, 404, 'Not Found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return end(res, 405, 'Method Not Allowed\n');
    }
    try {
      const { contentType, body } = await exposition(this.metrics.registry, req.headers.accept);
      res.writeHead(200, { 'content-type': contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      this.logger.error(`Collecting metrics failed: ${(e as Error).message}`);
      end(res, 500, 'Internal Server Error\n');
    }
  }
}

function end(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
