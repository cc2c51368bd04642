import type { ServerResponse } from 'node:http';
import { eventFrame } from './event-stream';
import type { GoogleTokenDouble } from './google-token-double';
import { sigV4Problem } from './sigv4-check';
import {
  defaultHandler,
  sendJson,
  type RecordedRequest,
  type UpstreamDouble,
} from './upstream-double';

/**
 * The cloud providers' native APIs, as far as the proxy's tests need them, each checking what
 * the provider checks: Bedrock the SigV4 signature (recomputed from the secret it knows), Vertex
 * a token minted by the Google token double, Azure the api-key header, deployment path and
 * api-version. Their answers carry usage in each API's own shape, with the numbers in USAGE.
 */

export const AZURE_KEY = 'azure0123456789abcdef0123456789ab';
export const AWS = {
  accessKeyId: 'AKIAIOSFODNN7TESTWXYZ',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN/0123456789+abcdef==',
};

/** Tokens each native answer reports: [input, output]. */
export const USAGE = {
  converse: [3, 3],
  converseStream: [7, 5],
  invoke: [11, 4],
  generateContent: [2, 3],
  /** Per streamed chunk, cumulative; the last chunk's numbers are the totals. */
  streamGenerateContent: [13, 6],
} as const;

/** Answers of a Bedrock double that checks every request's signature. */
export function bedrockDouble(double: UpstreamDouble): void {
  const known = new Map([
    [AWS.accessKeyId, { secret: AWS.secretAccessKey, sessionToken: AWS.sessionToken }],
  ]);
  const signed = (req: RecordedRequest, res: ServerResponse): boolean => {
    const problem = sigV4Problem(req, known, 'bedrock');
    if (!problem) return true;
    sendJson(res, 403, {
      message: `The request signature we calculated does not match (${problem})`,
    });
    return false;
  };
  double.on(/\/converse$/, (req, res) => {
    if (!signed(req, res)) return;
    const [inputTokens, outputTokens] = USAGE.converse;
    sendJson(res, 200, {
      output: { message: { role: 'assistant', content: [{ text: 'Hello from Bedrock' }] } },
      stopReason: 'end_turn',
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
    });
  });
  double.on(/\/converse-stream$/, async (req, res) => {
    if (!signed(req, res)) return;
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
    const [inputTokens, outputTokens] = USAGE.converseStream;
    const frames = [
      eventFrame('messageStart', { role: 'assistant' }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello' } }),
      eventFrame('messageStop', { stopReason: 'end_turn' }),
      eventFrame('metadata', {
        usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
        metrics: { latencyMs: 12 },
      }),
    ];
    const all = Buffer.concat(frames);
    // Split inside a frame, as TCP may: the proxy must pass the bytes through unchanged.
    res.write(all.subarray(0, frames[0].length + 7));
    await new Promise((r) => setTimeout(r, 10));
    res.end(all.subarray(frames[0].length + 7));
  });
  // InvokeModel with an Anthropic Messages body: Anthropic's own answer shape.
  double.on(/\/invoke$/, (req, res) => {
    if (!signed(req, res)) return;
    const [input_tokens, output_tokens] = USAGE.invoke;
    sendJson(res, 200, {
      id: 'msg_bdrk_double',
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'Hello from Claude on Bedrock' }],
      stop_reason: 'end_turn',
      usage: { input_tokens, output_tokens },
    });
  });
  // Azure shares this path; only AWS-signed requests are Bedrock's.
  double.on('/openai/v1/chat/completions', async (req, res) => {
    if (String(req.headers.authorization).startsWith('AWS4-') && !signed(req, res)) return;
    await defaultHandler(req, res, double.options);
  });
  double.on('/foundation-models', (req, res) => {
    if (signed(req, res)) sendJson(res, 200, { modelSummaries: [] });
  });
}

/** Vertex's native routes, answering only requests with a token the Google double issued. */
export function vertexDouble(double: UpstreamDouble, google: GoogleTokenDouble): void {
  double.on(/:(stream)?[gG]enerateContent$|\/publishers\/google\/models$/, (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!google.valid(token))
      return sendJson(res, 401, { error: { code: 401, status: 'UNAUTHENTICATED' } });
    if (req.path.endsWith('/models')) return sendJson(res, 200, { publisherModels: [] });
    if (req.path.endsWith(':streamGenerateContent')) return streamGenerate(req, res);
    const [promptTokenCount, candidatesTokenCount] = USAGE.generateContent;
    sendJson(res, 200, {
      candidates: [{ content: { role: 'model', parts: [{ text: 'Hello from Vertex' }] } }],
      usageMetadata: { promptTokenCount, candidatesTokenCount },
    });
  });
}

/**
 * streamGenerateContent as Vertex sends it: SSE with `?alt=sse`, else one JSON array written
 * piece by piece. Every chunk carries the usage so far; the last one the totals.
 */
function streamGenerate(req: RecordedRequest, res: ServerResponse): void {
  const [prompt, total] = USAGE.streamGenerateContent;
  const words = ['Hello', 'from', 'Vertex', 'streaming', 'now', 'done'].slice(0, total);
  const chunks = words.map((w, i) => ({
    candidates: [{ content: { role: 'model', parts: [{ text: `${w} ` }] }, index: 0 }],
    usageMetadata: {
      promptTokenCount: prompt,
      candidatesTokenCount: i + 1,
      totalTokenCount: prompt + i + 1,
    },
  }));
  const sse = new URL(req.url, 'http://x').searchParams.get('alt') === 'sse';
  res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json' });
  if (sse) for (const c of chunks) res.write(`data: ${JSON.stringify(c)}\r\n\r\n`);
  else chunks.forEach((c, i) => res.write(`${i ? ',\r\n' : '['}${JSON.stringify(c)}`));
  res.end(sse ? '' : ']');
}

/** Azure's deployment routes: api-key header, /openai/deployments/<d>/…, api-version required. */
export function azureDouble(double: UpstreamDouble): void {
  double.on(/^\/openai\/deployments\/[^/]+\/chat\/completions$/, (req, res) => {
    if (req.headers['api-key'] !== AZURE_KEY)
      return sendJson(res, 401, { error: { code: '401', message: 'Access denied' } });
    if (!new URL(req.url, 'http://x').searchParams.get('api-version'))
      return sendJson(res, 404, { error: { code: '404', message: 'Resource not found' } });
    sendJson(res, 200, {
      id: 'chatcmpl-azure',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
    });
  });
}
