import { GENAI_OPERATIONS } from '../../../src/metrics/labels';
import { operationOf } from '../../../src/proxy/proxy-target';

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
  ])('%j → %s', (path, op) => {
    expect(operationOf(path)).toBe(op);
  });

  it('only ever answers one of GENAI_OPERATIONS', () => {
    for (let i = 0; i < 200; i++) {
      const path = Array.from({ length: 1 + (i % 4) }, (_, j) => `seg${i * j}`).join('/');
      expect(GENAI_OPERATIONS).toContain(operationOf(path));
    }
  });
});
