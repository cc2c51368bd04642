import { ERROR_STATUS } from '../common/errors/error-codes';

/**
 * Every value `gen_ai_operation_name` (and a usage row's `operation`) can take: OpenTelemetry
 * GenAI operation names where one exists (chat, text_completion, embeddings, generate_content),
 * a few of our own for the other well-known endpoints (`realtime`: a WebSocket session's responses), and `other` for everything else. Request
 * paths are chosen by callers, so they never become a label value themselves.
 */
export const GENAI_OPERATIONS = [
  'chat',
  'text_completion',
  'embeddings',
  'generate_content',
  'models',
  'images',
  'audio',
  'moderations',
  'realtime',
  'other',
] as const;

export type GenAiOperation = (typeof GENAI_OPERATIONS)[number];

const OPERATION_SET: ReadonlySet<string> = new Set(GENAI_OPERATIONS);

export function operationLabel(operation: string): GenAiOperation {
  return OPERATION_SET.has(operation) ? (operation as GenAiOperation) : 'other';
}

/** The registered HTTP status codes; anything else a provider answers is reported as `5xx` etc. */
const STATUSES: ReadonlySet<number> = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304,
  305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
  416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505,
  506, 507, 508, 510, 511,
]);

/** An HTTP status as a label: a registered code as is, else its class (`4xx`), else `other`. */
export function statusLabel(status: number): string {
  if (STATUSES.has(status)) return String(status);
  return Number.isInteger(status) && status >= 100 && status <= 599
    ? `${Math.floor(status / 100)}xx`
    : 'other';
}

const ERROR_CODES: ReadonlySet<string> = new Set([...Object.keys(ERROR_STATUS), 'client_closed']);
/** undici's and Node's error codes (UND_ERR_SOCKET, ECONNRESET) or an error's name. */
const FAILURE_CODE = /^[A-Za-z][A-Za-z0-9_]{1,47}$/;
/** Distinct failure codes reported before further new ones become `other`. */
export const MAX_FAILURE_CODES = 32;

/**
 * `error_type` values: our error codes, an upstream HTTP status (`statusLabel`), and undici's or
 * Node's failure codes, the last capped at MAX_FAILURE_CODES distinct values (then `other`).
 * None of them is chosen by callers; the cap only guards against a surprise.
 */
export class ErrorTypeLabels {
  private readonly failures = new Set<string>();

  label(errorType: string | undefined): string {
    if (!errorType) return '';
    if (ERROR_CODES.has(errorType)) return errorType;
    if (/^\d{1,3}$/.test(errorType)) return statusLabel(Number(errorType));
    if (!FAILURE_CODE.test(errorType)) return 'other';
    if (this.failures.has(errorType)) return errorType;
    if (this.failures.size >= MAX_FAILURE_CODES) return 'other';
    this.failures.add(errorType);
    return errorType;
  }
}
