import { GENAI_OPERATIONS } from '../../../src/metrics/labels';
import { modelInPath, operationOf } from '../../../src/proxy/proxy-target';

describe('operationOf', () => {
  it.each([
    ['chat/completions', 'chat'],
    ['/v1/chat/completions', 'chat'],
    ['chat/completions?x=1', 'chat'],
    ['v1/messages', 'chat'],
    ['responses', 'chat'],
    ['openai/v1/chat/completions', 'chat'], // groq's native path
    ['api/v1/chat/completions', 'chat'], // openrouter's
    ['v1beta/openai/chat/completions', 'chat'], // gemini's OpenAI-compatible path
    ['completions', 'text_completion'],
    ['v1/complete', 'text_completion'],
    ['embeddings', 'embeddings'],
    ['v1beta/models/gemini-2.0-flash:generateContent', 'generate_content'],
    ['v1beta/models/gemini-2.0-flash:streamGenerateContent', 'generate_content'],
    ['v1beta/models/text-embedding-004:embedContent', 'embeddings'],
    ['models', 'models'],
    ['models/', 'models'],
    ['v1/models/gpt-4o', 'models'],
    ['images/generations', 'images'],
    ['audio/transcriptions', 'audio'],
    ['moderations', 'moderations'],
    ['', 'other'],
    ['v1', 'other'],
    ['zz-made-up-123', 'other'],
    ['v1/zz/chat/completions', 'other'],
    ['chat/completions/zz', 'other'],
    ['models/a/b', 'other'],
    ['models/x:deleteEverything', 'other'],
    ['__proto__', 'other'],
    ['constructor', 'other'],
    ['model/anthropic.claude-3-haiku-20240307-v1%3A0/converse', 'chat'], // Bedrock
    [
      'model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse-stream',
      'chat',
    ],
    ['model/amazon.titan-embed-text-v2%3A0/invoke', 'other'], // no body that says chat
    ['model/m/zz', 'other'],
    [
      'v1/projects/p/locations/l/publishers/google/models/gemini-2.0-flash:generateContent',
      'generate_content',
    ],
  ])('%j → %s', (path, op) => {
    expect(operationOf(path)).toBe(op);
  });

  it("tells Bedrock's InvokeModel chat bodies from others", () => {
    const messages = Buffer.from('{"anthropic_version":"bedrock-2023-05-31","messages":[]}');
    expect(operationOf('model/m/invoke', messages)).toBe('chat');
    expect(operationOf('model/m/invoke-with-response-stream', messages)).toBe('chat');
    expect(operationOf('model/m/invoke', Buffer.from('{"inputText":"x"}'))).toBe('other');
  });

  it('only ever answers one of GENAI_OPERATIONS', () => {
    for (let i = 0; i < 200; i++) {
      const path = Array.from({ length: 1 + (i % 4) }, (_, j) => `seg${i * j}`).join('/');
      expect(GENAI_OPERATIONS).toContain(operationOf(path));
    }
  });
});

describe('modelInPath', () => {
  it.each([
    [
      'model/anthropic.claude-3-haiku-20240307-v1%3A0/converse',
      'anthropic.claude-3-haiku-20240307-v1:0',
    ],
    [
      'model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x/converse',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x',
    ],
    ['v1beta/models/gemini-2.0-flash:streamGenerateContent', 'gemini-2.0-flash'],
    [
      'v1/projects/p/locations/l/publishers/google/models/gemini-2.0-flash:generateContent',
      'gemini-2.0-flash',
    ],
    ['v1/chat/completions', undefined],
    ['model/%E0%A4%A/converse', undefined],
    ['v1/files/x:y', undefined],
  ])('%j → %j', (path, model) => {
    expect(modelInPath(path)).toBe(model);
  });
});
