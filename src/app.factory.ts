import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { AppError } from './common/errors/app-error';
import { depthLimitedJsonParser } from './common/http/json-depth';
import { JsonObjectBodyPipe } from './common/http/json-object-body.pipe';
import { PathParamPipe } from './common/http/path-param.pipe';
import { MAX_PARAM_LENGTH, routerErrors } from './common/http/router-errors';
import { HttpErrorFilter } from './common/filters/http-error.filter';
import { RouteMethods } from './common/routes/route-methods';
import { clientErrors } from './common/http/client-errors';
import { type FrontRoute, type FrontUpgrade, frontServer } from './common/http/front-server';
import { requestDecoding } from './common/http/request-encoding';
import { requestId } from './common/http/request-id';
import { accessLog, stdoutDestination } from './common/logging';
import type { AppConfig } from './config/app-config';
import { secureDataDir, usesDataDir } from './config/data-dir';
import { openDatabase } from './database/data-source';
import type { EmbeddedPostgres } from './database/embedded-postgres';
import { setupSwagger } from './openapi';
import { ProxyEndpoints } from './proxy/proxy-endpoints';
import { RealtimeEndpoints } from './realtime/realtime-endpoints';
import { Tracing } from './tracing/tracing';

export interface CreateAppOptions {
  logDestination?: DestinationStream;
  /**
   * The embedded database, already starting (main.ts starts it before it loads the application,
   * after securing DATA_DIR); else createApp secures DATA_DIR and starts it.
   */
  embedded?: Promise<EmbeddedPostgres>;
}

/** Builds the whole application, ready to listen. main.ts, the tests and the scripts share it. */
export async function createApp(
  config: AppConfig,
  opts: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  // Before anything is written there: DATA_DIR (embedded database, generated secrets) is private.
  if (usesDataDir(config) && !opts.embedded) secureDataDir(config.dataDir);
  const database = await openDatabase(config, { embedded: opts.embedded });
  const logDestination = opts.logDestination ?? stdoutDestination(config);
  const tracing = Tracing.start(config);
  // /v1 and /proxy are taken by the proxy before Fastify sees them (ProxyEndpoints), and
  // WebSocket upgrades by RealtimeEndpoints.
  const front: { proxy?: FrontRoute; upgrade?: FrontUpgrade } = {};
  const adapter = new FastifyAdapter({
    serverFactory: frontServer(
      accessLog(config, logDestination),
      () => front.proxy,
      () => front.upgrade,
    ),
    bodyLimit: config.upstream.bodyLimit,
    genReqId: requestId,
    trustProxy: false,
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: routerErrors,
    clientErrorHandler: clientErrors,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config, database, logDestination, tracing }),
    adapter,
    { bufferLogs: true, rawBody: true, abortOnError: false },
  );
  app.useLogger(app.get(Logger));
  const proxy = app.get(ProxyEndpoints);
  front.proxy = (req, res) => proxy.take(req, res);
  const realtime = app.get(RealtimeEndpoints);
  front.upgrade = (req, socket, head) => realtime.take(req, socket, head);
  // Before app.init() registers the routes: the /api routes' methods, for 405 with Allow.
  app.useGlobalFilters(new HttpErrorFilter(RouteMethods.track(app.getHttpAdapter().getInstance())));
  // /api JSON bodies: Fastify's parser behind a nesting-depth limit (the proxy routes keep
  // their raw bytes in their own context and never see this parser).
  app.useBodyParser(
    'application/json',
    { bodyLimit: config.upstream.bodyLimit },
    depthLimitedJsonParser(app.getHttpAdapter().getInstance()),
  );
  app.useGlobalPipes(
    new PathParamPipe(),
    new JsonObjectBodyPipe(),
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: true,
      exceptionFactory: (errors) =>
        new AppError(
          'validation_failed',
          errors
            .flatMap((e) =>
              Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` }),
            )
            .join('; '),
          { details: { fields: errors.map((e) => e.property) } },
        ),
    }),
  );
  const fastify = app.getHttpAdapter().getInstance();
  // /api takes JSON only: anything else is a 415 that says so (the proxy routes take any type).
  fastify.removeContentTypeParser('text/plain');
  // gzip, deflate and br request bodies are decoded before any parser sees them, the body limit
  // counting decoded bytes; other codings are a 415 (the proxy reads its own: readProxyBody).
  fastify.addHook('preParsing', requestDecoding(config.upstream.bodyLimit));
  tracing.traceApi(fastify);
  fastify.addHook('onSend', (req, reply, payload, done) => {
    void reply.header('x-request-id', req.id);
    done(null, payload);
  });
  setupSwagger(app);
  await app.init();
  return app;
}
