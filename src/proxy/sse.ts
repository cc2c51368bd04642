/**
 * One SSE event that every SDK we serve treats as an error, not as a clean end of stream:
 *
 *   event: error
 *   data: {"type":"error","error":{"message","type","code"}}
 *
 * - openai (core/streaming.js): any event whose name does not start with `thread.` has its data
 *   JSON-parsed, and `data.error` set makes it throw `APIError(undefined, data.error)`, so
 *   `err.message`, `err.code` and `err.type` are ours (status undefined).
 * - @anthropic-ai/sdk ignores events without a name; `event: error` throws `APIError` with
 *   `type` from `error.type`. The body above is also Anthropic's own error-event shape.
 * - @cerebras/cerebras_cloud_sdk throws on `event: error` as well (as a connection error).
 *
 * The leading blank line ends any event the upstream left half-written, so ours is never glued
 * to it (the half event then fails to parse on the client, which is still an error, not a finish).
 */
export function openAiErrorEvent(code: string, message: string, type: string): Buffer {
  const data = JSON.stringify({ type: 'error', error: { message, type, code } });
  return Buffer.from(`\n\nevent: error\ndata: ${data}\n\n`, 'utf8');
}

/** `text/event-stream`, whatever the parameters or case. */
export function isEventStream(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  if (!value) return false;
  const semicolon = value.indexOf(';');
  const mediaType = semicolon < 0 ? value : value.slice(0, semicolon);
  return mediaType.trim().toLowerCase() === 'text/event-stream';
}
