import type { KeyParams } from './key-params';

/**
 * Provider URLs may name key parameters: `https://bedrock-runtime.{region}.amazonaws.com`,
 * `/v1/projects/{project}/locations/{location}/endpoints/openapi`, or `{baseUrl}` alone for a
 * key that carries its own root. A request's URL is built before any key is chosen, so it is
 * built on a stand-in (each `{name}` as `byok-name`, `{baseUrl}` as a reserved .invalid host)
 * and the stand-in prefix is swapped for the key's values as the request leaves.
 */
const PLACEHOLDER = /\{([A-Za-z]+)\}/g;
const KEY_BASE = '{baseUrl}';
const KEY_BASE_STANDIN = 'http://byok-key-base-url.invalid';

export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Per request on the hot path: a cheap test first, the pattern only for a brace. */
export function isTemplate(template: string): boolean {
  return template.includes('{') && placeholdersOf(template).length > 0;
}

/** The template with stand-ins for every parameter: a parseable URL or path. */
export function standInOf(template: string): string {
  if (template === KEY_BASE) return KEY_BASE_STANDIN;
  return template.replace(PLACEHOLDER, (_, name: string) => `byok-${name.toLowerCase()}`);
}

/** The template with the key's values (each already checked by its kind's pattern). */
export function fillTemplate(template: string, params: KeyParams): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`key parameter "${name}" is not set`);
    return value;
  });
}
