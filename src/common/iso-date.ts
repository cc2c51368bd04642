import { applyDecorators } from '@nestjs/common';
import { IsISO8601, IsOptional, IsString, Matches } from 'class-validator';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// A time needs an explicit zone: "T10:00" alone would mean the server's local time.
const DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const DAY_MS = 86_400_000;

/** An optional query value that is an ISO 8601 date (2026-11-01) or date-time with a zone. */
export function IsoDateOrTime(name: string): PropertyDecorator {
  const message = `${name} must be an ISO 8601 date (2026-11-01) or date-time with a zone (2026-11-01T09:30:00Z)`;
  // Checked in this order and stopped at the first failure (stopAtFirstError): shape, then calendar.
  return applyDecorators(
    IsOptional(),
    IsString({ message }),
    Matches(DATE_OR_TIME, { message }),
    IsISO8601({ strict: true }, { message }),
  );
}

/** Start of a range: a date means its first instant (UTC). */
export function rangeStart(value: string): Date {
  return new Date(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value);
}

/** Exclusive end of a range: a date means the whole of that day (UTC), so to=from is one day. */
export function rangeEnd(value: string): Date {
  const d = rangeStart(value);
  return DATE_ONLY.test(value) ? new Date(d.getTime() + DAY_MS) : d;
}
