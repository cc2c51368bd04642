/** Stable error codes (listed in the README, "Errors"); never reuse one for a new meaning. */
export const ERROR_STATUS = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  validation_failed: 400,
  invalid_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  provider_unknown: 400,
  provider_key_missing: 400,
  provider_key_rejected: 401,
  upstream_unavailable: 502,
  rate_limited: 429,
  secret_store_unavailable: 503,
  key_cap_reached: 409,
  model_unpriced: 400,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** RFC 9457 titles for /api problem details. */
export const ERROR_TITLE: Record<ErrorCode, string> = {
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not Found',
  validation_failed: 'Validation Failed',
  invalid_json: 'Invalid JSON',
  payload_too_large: 'Payload Too Large',
  unsupported_media_type: 'Unsupported Media Type',
  provider_unknown: 'Unknown Provider',
  provider_key_missing: 'Provider Key Missing',
  provider_key_rejected: 'Provider Key Rejected',
  upstream_unavailable: 'Upstream Unavailable',
  rate_limited: 'Rate Limited',
  secret_store_unavailable: 'Secret Store Unavailable',
  key_cap_reached: 'Key Cap Reached',
  model_unpriced: 'Model Has No Price',
  internal_error: 'Internal Server Error',
};

/** OpenAI envelope `type` for each code, as the OpenAI SDKs expect it. */
export const OPENAI_ERROR_TYPE: Record<ErrorCode, string> = {
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  not_found: 'not_found_error',
  validation_failed: 'invalid_request_error',
  invalid_json: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  unsupported_media_type: 'invalid_request_error',
  provider_unknown: 'invalid_request_error',
  provider_key_missing: 'invalid_request_error',
  provider_key_rejected: 'authentication_error',
  upstream_unavailable: 'api_error',
  rate_limited: 'rate_limit_error',
  secret_store_unavailable: 'api_error',
  key_cap_reached: 'invalid_request_error',
  model_unpriced: 'invalid_request_error',
  internal_error: 'api_error',
};
