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
