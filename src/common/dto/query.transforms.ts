const INTEGER = /^[+-]?[0-9]+$/;

/**
 * class-transformer for an integer query parameter: decimal digits with an optional sign become
 * a number; anything else (`1.5`, `0x10`, ` 5`, `1e3`, empty) stays text and fails IsInt, as the
 * OpenAPI document's `type: integer` says it should. Number() alone would take all of those.
 */
export const queryInteger = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && INTEGER.test(value) ? Number(value) : value;
