import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { AppError } from '../errors/app-error';

/** /api bodies are JSON objects; an array or a bare value gets one clear message, not one per index. */
@Injectable()
export class JsonObjectBodyPipe implements PipeTransform {
  transform(value: unknown, meta: ArgumentMetadata): unknown {
    if (meta.type !== 'body' || !meta.metatype || meta.metatype === Object) return value;
    if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value))
      throw new AppError(
        'validation_failed',
        'The body must be a JSON object (content-type: application/json) with the documented fields',
      );
    return value;
  }
}
