import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Middleware } from 'openapi-fetch';
import { parse } from 'yaml';

/** The part of an OpenAPI 3.0 schema object this checker understands. */
interface Schema {
  $ref?: string;
  allOf?: Schema[];
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean';
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  format?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
}

/** Keywords that constrain a value but are not checked here: a schema using one is refused. */
const UNCHECKED = ['oneOf', 'anyOf', 'not', 'pattern', 'minLength', 'minItems', 'maxItems'];

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** The committed openapi.yaml, the document the generated client was made from. */
export function loadSpec(file = join(__dirname, '..', '..', 'openapi.yaml')): OpenApiDocument {
  return parse(readFileSync(file, 'utf8')) as OpenApiDocument;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Every way `value` departs from `schema` (OpenAPI 3.0: `nullable`, `$ref` into
 * components.schemas), as `where: what` lines; none when it conforms. An object may hold only
 * the properties its schema lists unless `additionalProperties` says otherwise, so a field the
 * server sends but the spec does not document is a departure too.
 */
export function schemaErrors(
  spec: OpenApiDocument,
  schema: Schema,
  value: unknown,
  where: string,
): string[] {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = spec.components.schemas[name];
    if (!target) return [`${where}: unresolvable $ref ${schema.$ref}`];
    return schemaErrors(spec, target, value, where);
  }
  const unchecked = UNCHECKED.filter((k) => k in schema);
  if (unchecked.length) return [`${where}: schema uses ${unchecked.join(', ')}, not checked here`];
  if (value === null) return schema.nullable ? [] : [`${where}: null, but not nullable`];

  const errors = (schema.allOf ?? []).flatMap((s) => schemaErrors(spec, s, value, where));
  if (schema.enum && !schema.enum.includes(value))
    errors.push(`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  const got = Array.isArray(value) ? 'array' : typeof value;
  switch (schema.type) {
    case undefined:
      break;
    case 'object': {
      if (got !== 'object') return [...errors, `${where}: ${got}, not an object`];
      const obj = value as Record<string, unknown>;
      for (const key of schema.required ?? [])
        if (!(key in obj)) errors.push(`${where}.${key}: required but missing`);
      for (const [key, v] of Object.entries(obj)) {
        const prop = schema.properties?.[key];
        if (prop) errors.push(...schemaErrors(spec, prop, v, `${where}.${key}`));
        else if (typeof schema.additionalProperties === 'object')
          errors.push(...schemaErrors(spec, schema.additionalProperties, v, `${where}.${key}`));
        else if (schema.additionalProperties !== true && schema.allOf === undefined)
          errors.push(`${where}.${key}: sent but not documented`);
      }
      break;
    }
    case 'array':
      if (!Array.isArray(value)) return [...errors, `${where}: ${got}, not an array`];
      if (schema.items)
        value.forEach((v, i) =>
          errors.push(...schemaErrors(spec, schema.items!, v, `${where}[${i}]`)),
        );
      break;
    case 'string':
      if (typeof value !== 'string') return [...errors, `${where}: ${got}, not a string`];
      if (schema.maxLength !== undefined && value.length > schema.maxLength)
        errors.push(`${where}: longer than ${schema.maxLength}`);
      if (schema.format === 'uuid' && !UUID.test(value))
        errors.push(`${where}: ${JSON.stringify(value)} is not a uuid`);
      if (
        schema.format === 'date-time' &&
        (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value)))
      )
        errors.push(`${where}: ${JSON.stringify(value)} is not a date-time`);
      break;
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value))
        return [...errors, `${where}: ${got}, not a ${schema.type}`];
      if (schema.type === 'integer' && !Number.isInteger(value))
        errors.push(`${where}: ${value} is not an integer`);
      if (schema.minimum !== undefined && value < schema.minimum)
        errors.push(`${where}: ${value} is below the minimum ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum)
        errors.push(`${where}: ${value} is above the maximum ${schema.maximum}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(`${where}: ${got}, not a boolean`);
      break;
    default:
      errors.push(`${where}: unknown schema type ${String(schema.type)}`);
  }
  return errors;
}

/**
 * Every way one response departs from what the spec documents for its operation: an
 * undocumented status, a content type the spec does not list for that status, or a body that
 * does not match the documented schema (checked against the one documented JSON schema even
 * when the content type differs, so both show).
 */
export function responseErrors(
  spec: OpenApiDocument,
  method: string,
  schemaPath: string,
  status: number,
  contentType: string | null,
  body: string,
): string[] {
  const where = `${method.toUpperCase()} ${schemaPath} → ${status}`;
  const op = spec.paths[schemaPath]?.[method.toLowerCase()];
  if (!op) return [`${where}: operation not documented`];
  const documented = op.responses[String(status)] ?? op.responses.default;
  if (!documented)
    return [
      `${where}: status not documented (documented: ${Object.keys(op.responses).join(', ')})`,
    ];
  const content = documented.content ?? {};
  const types = Object.keys(content);
  if (types.length === 0)
    return body === '' ? [] : [`${where}: body sent, but the spec documents none`];
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const errors: string[] = [];
  if (!(mediaType in content))
    errors.push(
      `${where}: content-type ${mediaType || '(none)'} not documented (documented: ${types.join(', ')})`,
    );
  const schema = (content[mediaType] ?? content[types.find((t) => /json/.test(t)) ?? ''])?.schema;
  if (!schema) return errors;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return [...errors, `${where}: body is not JSON`];
  }
  return [...errors, ...schemaErrors(spec, schema, json, `${where} body`)];
}

/**
 * openapi-fetch middleware that checks every response against `spec` and records each
 * departure in `violations`, so a test can assert the server answered exactly as documented.
 */
export function contractMiddleware(spec: OpenApiDocument, violations: string[]): Middleware {
  return {
    async onResponse({ request, response, schemaPath }) {
      const body = await response.clone().text();
      violations.push(
        ...responseErrors(
          spec,
          request.method,
          schemaPath,
          response.status,
          response.headers.get('content-type'),
          body,
        ),
      );
      return undefined;
    },
  };
}
