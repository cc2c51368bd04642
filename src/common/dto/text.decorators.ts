import { ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * C0 and C1 control characters and DEL. PostgreSQL refuses NUL in text outright (a 500 if it
 * got that far); the others have no place in a name, an id or a query value either.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Longest id (user sub, organisation id, owner id) we store: the columns are varchar(255). */
export const MAX_ID_LENGTH = 255;

/**
 * Refuses a string holding a control character (see CONTROL_CHARACTERS), with a message naming
 * the field. Non-strings pass: the type check is IsString's job.
 */
export function NoControlChars(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'noControlChars',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !CONTROL_CHARACTERS.test(value),
        defaultMessage: () =>
          '$property must not contain control characters (NUL, tab, newline, …)',
      },
    },
    options,
  );
}

/** How many characters (Unicode code points) a string has: what JSON Schema and PostgreSQL count. */
export function charCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    const c = s.charCodeAt(i);
    // A surrogate pair is one character.
    if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  return n;
}

/**
 * At most `max` characters, counted as JSON Schema's `maxLength` and PostgreSQL's varchar count
 * them (code points; class-validator's MaxLength skips variation selectors). Non-strings pass.
 */
export function MaxChars(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxChars',
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || charCount(value) <= max,
        defaultMessage: () => `$property must be shorter than or equal to ${max} characters`,
      },
    },
    options,
  );
}

/**
 * class-transformer's trim for names and keys, applied only to a string of at most `max`
 * characters: a longer one stays as sent and fails MaxChars, so the limit is on what was sent
 * (as the OpenAPI document's `maxLength` says), not on what trimming left of it.
 */
export const trimWithin =
  (max: number) =>
  ({ value }: { value: unknown }): unknown =>
    typeof value === 'string' && charCount(value) <= max ? value.trim() : value;

// JSON Schema (ECMA-262) character class bodies for the `pattern`s below; `[0-9]`-style classes
// only, since Python's and Rust's `\d` and `\s` are wider than JavaScript's.
const CONTROL_CLASS = '\\u0000-\\u001f\\u007f-\\u009f';
/** What String.prototype.trim removes: ECMAScript WhiteSpace and LineTerminator. */
const TRIMMED_CLASS =
  '\\t\\n\\u000b\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';

/** `pattern` of a value NoControlChars accepts (path and query values, which are not trimmed). */
export const NO_CONTROLS_PATTERN = `^[^${CONTROL_CLASS}]*$`;

/**
 * `pattern` of a trimmed name (keyName, token name): once trimmed, not empty and without control
 * characters. Whitespace around it (tab and newline included) is allowed and trimmed away.
 */
export const NAME_PATTERN = `^[${TRIMMED_CLASS}]*[^${CONTROL_CLASS}]*[^${CONTROL_CLASS}${TRIMMED_CLASS}][^${CONTROL_CLASS}]*[${TRIMMED_CLASS}]*$`;

/** `pattern` of a trimmed provider key: visible ASCII except `"` and `\` (see KEY_SHAPE). */
export const API_KEY_PATTERN = `^[${TRIMMED_CLASS}]*[\\u0021\\u0023-\\u005b\\u005d-\\u007e]+[${TRIMMED_CLASS}]*$`;
