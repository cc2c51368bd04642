import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyServerOptions } from 'fastify';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** A request handler that may take a request before Fastify does: true when it took it. */
export type FrontRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/** What takes the server's `upgrade` requests (WebSocket handshakes). */
export type FrontUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * Fastify's `serverFactory`: the HTTP server Fastify would create (same timeouts), whose request
 * listener first writes the access line (accessLog), then offers the request to `route()` (the
 * proxy's `/v1` and `/proxy` routes, a plain node:http handler with no framework layer on the hot
 * path), and hands everything it does not take to Fastify. `route()` is read per request since the
 * proxy exists only once the application is built, after the server. Upgrade requests (which
 * Fastify never sees) go to `upgrade()`, or are refused while there is none yet.
 */
export function frontServer(
  access: Listener | undefined,
  route: () => FrontRoute | undefined,
  upgrade: () => FrontUpgrade | undefined,
): (fastify: Listener, options: FastifyServerOptions) => Server {
  return (fastify, options) => {
    const server = createServer((options as { http?: ServerOptions }).http ?? {}, (req, res) => {
      access?.(req, res);
      if (!route()?.(req, res)) fastify(req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const take = upgrade();
      if (take) take(req, socket, head);
      else socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n');
    });
    if (options.keepAliveTimeout) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout ?? 0);
    if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}
