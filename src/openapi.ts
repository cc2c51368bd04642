import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { PROVIDER_ID_FORMAT } from './common/dto/api-params';
import { pageHeaders } from './common/http/page-headers';
import { ProviderRegistryService } from './providers/provider-registry.service';

export function buildOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('byok-proxy')
    .setDescription(
      'Bring-your-own-key secrets proxy for LLM APIs. Keys are stored in Vault (or an encrypted local store) and injected into upstream requests; clients never see them. `/v1` is OpenAI-compatible and `/proxy/{provider}` passes through natively; errors there use the OpenAI envelope. `/api` errors are RFC 9457 problem details.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A JWT or a byok_ access token' })
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  fillProviderIds(doc, app.get(ProviderRegistryService).ids());
  closeRequestBodies(doc);
  mergeIdenticalPaths(doc);
  return doc;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;

/** Every schema marked `format: provider-id` lists the registry's provider ids instead. */
function fillProviderIds(node: unknown, ids: string[]): void {
  if (Array.isArray(node)) return node.forEach((n) => fillProviderIds(n, ids));
  if (!isObject(node)) return;
  if (node.format === PROVIDER_ID_FORMAT) {
    delete node.format;
    node.enum = [...ids];
  }
  for (const v of Object.values(node)) fillProviderIds(v, ids);
}

/**
 * OpenAPI forbids templated paths that differ only in their parameters' names (they are
 * "identical"), and GET /api/{user,org}/api-keys/:provider has the shape of PATCH and DELETE
 * …/:id: the router tells them apart by method alone. So the document has one path; operations
 * moved to it take its parameter names (by position) and keep their own schemas and descriptions.
 */
function mergeIdenticalPaths(doc: OpenAPIObject): void {
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const names = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  const groups = new Map<string, string[]>();
  for (const path of Object.keys(paths)) {
    const shape = path.replace(/\{[^}]+\}/g, '{}');
    groups.set(shape, [...(groups.get(shape) ?? []), path]);
  }
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    // The path with the most operations keeps its names.
    const [target, ...others] = group.sort(
      (a, b) => Object.keys(paths[b]).length - Object.keys(paths[a]).length,
    );
    const to = names(target);
    for (const other of others) {
      const from = names(other);
      for (const [method, op] of Object.entries(paths[other])) {
        if (paths[target][method]) throw new Error(`${method} ${other} and ${target} collide`);
        for (const param of (op.parameters ?? []) as Json[])
          if (param.in === 'path') param.name = to[from.indexOf(String(param.name))];
        paths[target][method] = op;
      }
      delete paths[other];
    }
  }
}

/**
 * The ValidationPipe refuses unknown properties (forbidNonWhitelisted), nested ones included, so
 * every object schema a request body reaches says `additionalProperties: false`.
 */
function closeRequestBodies(doc: OpenAPIObject): void {
  const schemas = (doc.components?.schemas ?? {}) as Record<string, Json>;
  const seen = new Set<string>();
  const close = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(close);
    if (!isObject(node)) return;
    const ref = typeof node.$ref === 'string' ? node.$ref.split('/').pop() : undefined;
    if (ref !== undefined) {
      if (seen.has(ref)) return;
      seen.add(ref);
      return close(schemas[ref]);
    }
    if (isObject(node.properties)) node.additionalProperties = false;
    for (const [k, v] of Object.entries(node)) if (k !== 'additionalProperties') close(v);
  };
  for (const item of Object.values(doc.paths))
    for (const op of Object.values(item as Json))
      if (isObject(op) && isObject(op.requestBody)) close(op.requestBody.content);
}

/**
 * Headers of every /docs response. The page shares its origin with the settings page, whose
 * token sits in sessionStorage, so it runs no script but Swagger UI's own files served from
 * here (the init script included: no inline script), talks only to this origin (a `?url=`
 * pointing elsewhere is blocked), and cannot be framed. Swagger UI's page and components use
 * inline styles, hence inline styles (never scripts) are allowed.
 */
export const DOCS_HEADERS = pageHeaders({ inlineStyles: true });

/** Swagger UI at /docs and the JSON at /docs/json, its assets served from here, not a CDN. */
export function setupSwagger(app: INestApplication): void {
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  // Only the /docs routes get the headers (nothing added on the proxy's hot path); the hook is
  // in place before SwaggerModule adds them.
  const docsHeaders: onRequestHookHandler = (_req, reply, done) => {
    void reply.headers(DOCS_HEADERS);
    done();
  };
  fastify.addHook('onRoute', (route) => {
    if (!/^\/docs(?:[/-]|$)/.test(route.url ?? '')) return;
    const own = route.onRequest;
    route.onRequest = [...(own ? [own].flat() : []), docsHeaders];
  });
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), {
    jsonDocumentUrl: 'docs/json',
    // No badge fetched from validator.swagger.io.
    swaggerOptions: { validatorUrl: null },
  });
}
