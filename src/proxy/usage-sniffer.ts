const HEAD = 4096;
const TAIL = 16384;

export interface TokenUsage {
  promptTokens?: number;
  completionTokens?: number;
}

/**
 * OpenAI; Anthropic (also on Bedrock's InvokeModel); Bedrock Converse (and ConverseStream's
 * `metadata` event); Gemini and Vertex `usageMetadata`.
 */
const FIELDS = [
  'prompt_tokens',
  'completion_tokens',
  'input_tokens',
  'output_tokens',
  'inputTokens',
  'outputTokens',
  'promptTokenCount',
  'candidatesTokenCount',
  'thoughtsTokenCount',
] as const;
const PATTERNS = Object.fromEntries(
  FIELDS.map((f) => [f, new RegExp(`"${f}"\\s*:\\s*(\\d+)`, 'g')]),
) as Record<(typeof FIELDS)[number], RegExp>;

const lastNumber = (text: string, field: (typeof FIELDS)[number]): number | undefined => {
  if (!text.includes(field)) return undefined;
  // exec() on the shared global pattern: matchAll() would clone it on every call.
  const re = PATTERNS[field];
  re.lastIndex = 0;
  let found: number | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) found = Number(m[1]);
  return found;
};

/** Gemini bills its thinking as output: `candidatesTokenCount` plus `thoughtsTokenCount`. */
function geminiOutput(text: string): number | undefined {
  const candidates = lastNumber(text, 'candidatesTokenCount');
  const thoughts = lastNumber(text, 'thoughtsTokenCount');
  return candidates === undefined && thoughts === undefined
    ? undefined
    : (candidates ?? 0) + (thoughts ?? 0);
}

/**
 * Reads token usage from a response as it streams past, without holding the body: it keeps the
 * first 4 KiB (Anthropic's message_start carries input_tokens) and the last 16 KiB (OpenAI's
 * final usage chunk or JSON `usage`, Anthropic's message_delta output_tokens, Bedrock's usage and
 * ConverseStream `metadata` event, whose JSON payload is plain text inside the binary frame, and
 * Gemini's `usageMetadata`, which every streamed chunk repeats with the totals so far). Each API
 * names its fields differently, so one response never matches two shapes.
 */
export class UsageSniffer {
  private head = '';
  private tail = '';

  push(chunk: Buffer): void {
    if (this.head.length < HEAD) this.head += chunk.toString('utf8', 0, HEAD - this.head.length);
    const text =
      chunk.length > TAIL ? chunk.toString('utf8', chunk.length - TAIL) : chunk.toString();
    this.tail = (this.tail + text).slice(-TAIL);
  }

  usage(): TokenUsage {
    const all = `${this.head}\n${this.tail}`;
    const tail = this.tail;
    return {
      promptTokens:
        lastNumber(tail, 'prompt_tokens') ??
        lastNumber(all, 'input_tokens') ??
        lastNumber(tail, 'inputTokens') ??
        lastNumber(tail, 'promptTokenCount'),
      completionTokens:
        lastNumber(tail, 'completion_tokens') ??
        lastNumber(tail, 'output_tokens') ??
        lastNumber(tail, 'outputTokens') ??
        geminiOutput(tail),
    };
  }

  /** The model the provider says answered, when the request body named none. */
  model(): string | undefined {
    return /"model"\s*:\s*"([^"]{1,200})"/.exec(this.head)?.[1];
  }
}
