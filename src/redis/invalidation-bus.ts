import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

const CHANNEL = 'byok:invalidate';

function connect(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    // Fail fast while disconnected: the callers fall back to per-replica behaviour.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 250, 2000),
    // disconnect() otherwise arms a 2 s timer that only a socket 'close' clears: with Redis
    // already gone it would hold the process open after shutdown.
    disconnectTimeout: 0,
  });
  let reported = false;
  redis.on('error', (e: Error) => {
    if (!reported) logger.warn(`Redis: ${e.message}`);
    reported = true;
  });
  redis.on('ready', () => (reported = false));
  return redis;
}

/** QUIT when connected (Redis answers, then closes), else drop the socket. */
async function close(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}

/**
 * Cache invalidation across replicas: a key or token change here is published on Redis so the
 * other replicas drop their cached copy at once. Without REDIS_URL it is a no-op and other
 * replicas catch up within KEY_CACHE_TTL_MS.
 */
@Injectable()
export class InvalidationBus implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private readonly pub?: Redis;
  private readonly sub?: Redis;
  private readonly handlers = new Map<string, (id: string) => void>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (!config.redisUrl) return;
    this.pub = connect(config.redisUrl, this.logger);
    this.sub = connect(config.redisUrl, this.logger);
    // Without an offline queue a subscribe before the connection is up would just fail.
    const sub = this.sub;
    sub.on('ready', () => void sub.subscribe(CHANNEL).catch(() => undefined));
    this.sub.on('message', (_channel: string, message: string) => {
      const [topic, id] = JSON.parse(message) as [string, string];
      this.handlers.get(topic)?.(id);
    });
  }

  /** The publishing connection, shared with the limit counters; undefined without REDIS_URL. */
  get client(): Redis | undefined {
    return this.pub;
  }

  /** Runs `handler` here for every id published on `topic` by any replica (this one too). */
  on(topic: string, handler: (id: string) => void): void {
    this.handlers.set(topic, handler);
  }

  publish(topic: string, id: string): void {
    this.pub?.publish(CHANNEL, JSON.stringify([topic, id])).catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.pub) await close(this.pub);
    if (this.sub) await close(this.sub);
  }
}
