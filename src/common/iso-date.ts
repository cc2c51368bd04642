import { applyDecorators } from '@nestjs/common';
import { IsOptional, IsString, Matches } from 'class-validator';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

// A calendar date, 0001-01-01 to 9999-12-31 (PostgreSQL has no year 0): the right number of days
// in each month, and 29 February in leap years only (divisible by 4 and not by 100, or by 400).
// Written with [0-9], not \d, so the same text means the same thing to JavaScript and to JSON
// Schema tools (Python's and Rust's \d take other scripts' digits).
const YEAR = '(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)';
const LEAP_YEAR =
  '(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)';
const DATE =
  `(?:${YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))` +
  `|${LEAP_YEAR}-02-29)`;
// A time needs an explicit zone: "T10:00" alone would mean the server's local time.
const ZONE = '(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])';
const HOUR_MINUTE = 'T(?:[01][0-9]|2[0-3]):[0-5][0-9]';
const FRACTION = '(?:\\.[0-9]{1,9})?';

/** A date (2026-11-01, UTC midnight) or a date-time with a zone; seconds optional. */
export const DATE_OR_TIME_PATTERN = `^${DATE}(?:${HOUR_MINUTE}(?::[0-5][0-9]${FRACTION})?${ZONE})?$`;
/** An RFC 3339 date-time (seconds and zone required), as `format: date-time` means. */
export const DATE_TIME_PATTERN = `^${DATE}${HOUR_MINUTE}:[0-5][0-9]${FRACTION}${ZONE}$`;

/**
 * An optional query value that is an ISO 8601 date (2026-11-01) or date-time with a zone,
 * checked by DATE_OR_TIME_PATTERN alone, which the OpenAPI document states as its `pattern`.
 */
export function IsoDateOrTime(name: string): PropertyDecorator {
  const message = `${name} must be an ISO 8601 date (2026-11-01) or date-time with a zone (2026-11-01T09:30:00Z)`;
  return applyDecorators(
    IsOptional(),
    IsString({ message }),
    Matches(new RegExp(DATE_OR_TIME_PATTERN), { message }),
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
