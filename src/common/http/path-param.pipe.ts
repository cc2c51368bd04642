import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { CONTROL_CHARACTERS, MAX_ID_LENGTH, charCount } from '../dto/text.decorators';
import { AppError } from '../errors/app-error';

/**
 * Every `/api` path parameter (`:provider`, `:id`, `:sub`) is an id: at most 255 characters and
 * no control characters (a `%00` in the URL decodes to NUL, which PostgreSQL refuses). Checked
 * for all routes here, with a 400 naming the parameter, so no handler has to remember it.
 * Whether an id exists (a UUID that names a row) stays the service's question: 404.
 */
@Injectable()
export class PathParamPipe implements PipeTransform {
  transform(value: unknown, meta: ArgumentMetadata): unknown {
    if (meta.type !== 'param' || typeof value !== 'string') return value;
    const name = meta.data ?? 'path parameter';
    const problem =
      charCount(value) > MAX_ID_LENGTH
        ? `must be at most ${MAX_ID_LENGTH} characters`
        : CONTROL_CHARACTERS.test(value)
          ? 'must not contain control characters (NUL, tab, newline, …)'
          : undefined;
    if (problem)
      throw new AppError('validation_failed', `${name} (in the path) ${problem}`, {
        details: { fields: [name] },
      });
    return value;
  }
}
