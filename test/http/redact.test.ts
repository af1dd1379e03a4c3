import { describe, expect, it } from 'vitest';
import { redact, redactedMarker } from '../../src/http/redact.ts';
import { sourceRecord, success } from '../support/machine-ports.ts';

describe('redact', () => {
  it('shrinks a source record to its coordinates', () => {
    const record = sourceRecord(12, 'customer-42', { text: 'my card number is 4111' });
    expect(redact(record)).toEqual({ topic: 'in', partition: 0, offset: '12', timestamp: '0' });
  });

  it('keeps no bytes, header maps, texts or model outputs, wherever they sit', () => {
    const outcome = success('spam');
    const event = {
      type: 'xstate.done.actor.fetch',
      output: {
        records: [sourceRecord(1, 'k', 'v')],
        nextOffset: 2n,
        raw: Buffer.from('payload bytes'),
        headers: new Map([[Buffer.from('a'), Buffer.from('b')]]),
      },
      request: { text: 'hello there', prompt: 'classify: hello there', eventId: 'e1' },
      result: outcome.ok ? outcome.result : null,
    };
    const shown = JSON.stringify(redact(event));
    expect(shown).not.toMatch(/payload bytes|hello there|"spam"/);
    expect(redact(event)).toMatchObject({
      output: {
        records: [{ offset: '1' }],
        nextOffset: '2',
        raw: { redacted: 'bytes', length: 13 },
        headers: redactedMarker,
      },
      request: { text: redactedMarker, prompt: redactedMarker, eventId: 'e1' },
      result: { output: redactedMarker, model: 'spam-nb', usage: { promptTokens: 3 } },
    });
  });

  it('drops functions and ports, bounds depth, arrays and strings', () => {
    const deep = { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } };
    const shown = redact({
      ports: { infer: () => undefined },
      fn: () => 1,
      deep,
      list: Array.from({ length: 60 }, (_, i) => i),
      long: 'x'.repeat(600),
    }) as Record<string, unknown>;
    expect(shown).not.toHaveProperty('ports');
    expect(shown).not.toHaveProperty('fn');
    expect(JSON.stringify(shown.deep)).toContain('"[…]"');
    expect(shown.list).toMatchObject({ total: 60 });
    expect((shown.long as string).length).toBe(501);
  });
});
