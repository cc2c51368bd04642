import { eventFrame } from '../../helpers/event-stream';
import { UsageSniffer } from '../../../src/proxy/usage-sniffer';

const sniff = (...chunks: (string | Buffer)[]) => {
  const s = new UsageSniffer();
  for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return s.usage();
};

describe('UsageSniffer', () => {
  it('reads OpenAI and Anthropic usage as before', () => {
    expect(sniff('{"usage":{"prompt_tokens":4,"completion_tokens":2}}')).toEqual({
      promptTokens: 4,
      completionTokens: 2,
    });
    expect(sniff('{"usage":{"input_tokens":11,"output_tokens":4}}')).toEqual({
      promptTokens: 11,
      completionTokens: 4,
    });
  });

  it("reads Bedrock Converse's usage, and ConverseStream's metadata event inside binary frames", () => {
    expect(
      sniff('{"output":{},"usage":{"inputTokens":3,"outputTokens":5,"totalTokens":8}}'),
    ).toEqual({ promptTokens: 3, completionTokens: 5 });
    const frames = Buffer.concat([
      eventFrame('contentBlockDelta', { delta: { text: 'hi' } }),
      eventFrame('metadata', { usage: { inputTokens: 7, outputTokens: 9 }, metrics: {} }),
    ]);
    // Split inside the metadata frame's JSON, as the network may.
    const cut = frames.indexOf('outputTokens') + 3;
    expect(sniff(frames.subarray(0, cut), frames.subarray(cut))).toEqual({
      promptTokens: 7,
      completionTokens: 9,
    });
  });

  it("reads Gemini's usageMetadata: the last chunk's totals, thinking counted as output", () => {
    const chunk = (candidates: number, extra = '') =>
      `data: {"candidates":[],"usageMetadata":{"promptTokenCount":13,"candidatesTokenCount":${candidates}${extra}}}\r\n\r\n`;
    expect(sniff(chunk(1), chunk(2), chunk(6))).toEqual({ promptTokens: 13, completionTokens: 6 });
    expect(sniff(`[${chunk(1).slice(6, -4)},${chunk(4).slice(6, -4)}]`)).toEqual({
      promptTokens: 13,
      completionTokens: 4,
    });
    expect(sniff(chunk(5, ',"thoughtsTokenCount":20'))).toEqual({
      promptTokens: 13,
      completionTokens: 25,
    });
  });

  it('finds nothing in a body without usage', () => {
    expect(sniff('{"error":{"message":"no"}}')).toEqual({
      promptTokens: undefined,
      completionTokens: undefined,
    });
  });
});
