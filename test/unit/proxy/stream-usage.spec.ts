import { askForStreamUsage, UsageChunkFilter } from '../../../src/proxy/stream-usage';
import { chatChunks } from '../../helpers/upstream-double';

describe('askForStreamUsage', () => {
  const ask = (body: unknown) => askForStreamUsage(Buffer.from(JSON.stringify(body)));

  it('adds include_usage to a stream that did not ask, keeping other stream options', () => {
    const out = ask({ model: 'm', stream: true, stream_options: { include_obfuscation: false } });
    expect(JSON.parse(out!.toString())).toEqual({
      model: 'm',
      stream: true,
      stream_options: { include_obfuscation: false, include_usage: true },
    });
  });

  it('leaves alone what needs nothing: no stream, usage already asked, not JSON', () => {
    expect(ask({ model: 'm' })).toBeUndefined();
    expect(ask({ model: 'm', stream: false })).toBeUndefined();
    expect(ask({ stream: true, stream_options: { include_usage: true } })).toBeUndefined();
    expect(askForStreamUsage(Buffer.from('{"stream": tru'))).toBeUndefined();
  });
});

describe('UsageChunkFilter', () => {
  const events = chatChunks('m', ['a', 'b'], 3);
  const whole = Buffer.from(events.join(''));
  const usageOnly = events.find((e) => e.includes('"usage"'))!;

  it('drops only the usage-only chunk, whatever the chunking', () => {
    const expected = events.filter((e) => e !== usageOnly).join('');
    for (const size of [1, 7, 64, whole.length]) {
      const f = new UsageChunkFilter();
      const out: Buffer[] = [];
      for (let i = 0; i < whole.length; i += size) out.push(f.push(whole.subarray(i, i + size)));
      out.push(f.flush());
      expect(Buffer.concat(out).toString()).toBe(expected);
    }
  });

  it('keeps a chunk that has usage and choices, and CRLF-framed events', () => {
    const both = 'data: {"choices":[{"index":0,"delta":{}}],"usage":{"total_tokens":3}}\r\n\r\n';
    const f = new UsageChunkFilter();
    expect(f.push(Buffer.from(both)).toString()).toBe(both);
    expect(f.push(Buffer.from(usageOnly.replace(/\n\n$/, '\r\n\r\n'))).length).toBe(0);
  });
});

describe('UsageChunkFilter holds back nothing that shows a choice', () => {
  it('passes the start of a content event at once, before its end arrives', () => {
    const f = new UsageChunkFilter();
    const head = 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"hel';
    expect(f.push(Buffer.from(head)).toString()).toBe(head);
    // The rest, with the terminator split across two chunks, goes out as it comes.
    expect(f.push(Buffer.from('lo"}}]}\n')).toString()).toBe('lo"}}]}\n');
    const usage = 'data: {"id":"c1","choices":[],"usage":{"total_tokens":3}}\n\n';
    expect(f.push(Buffer.from(`\n${usage.slice(0, 30)}`)).toString()).toBe('\n');
    expect(f.push(Buffer.from(usage.slice(30))).length).toBe(0);
    expect(f.flush().length).toBe(0);
  });
});
