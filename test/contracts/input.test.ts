import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { decodeRecord } from '../../src/contracts/input.ts';
import type { SourceRecord } from '../../src/contracts/source-record.ts';
import { sourceRecord } from '../support/machine-ports.ts';

const task = parseConfig({}).task;

/** Offset 7 of in/0, with only the headers given (no event-id unless named). */
function record(value: string, headers = new Map<string, Buffer>()): SourceRecord {
  const withHeaders = new Map([...headers].map(([k, v]) => [Buffer.from(k), v]));
  return { ...sourceRecord(7, 'k', value), headers: withHeaders };
}

describe('decoding an event id', () => {
  it('makes a record poison whose id field holds a lone surrogate', () => {
    // The JSON escape is valid JSON; the string it makes is not valid Unicode.
    const decoded = decodeRecord(record('{"id":"\\ud800","text":"x"}'), task, 0);
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.error.code).toBe('TL_DECODE');
    expect(decoded.error.message).toBe('field "id" is not valid Unicode (a lone surrogate)');
    expect(decoded.eventId).toBe('in/0/7');
  });

  it('takes a well-formed pair, and ignores the field when the header names the id', () => {
    const pair = decodeRecord(record('{"id":"\\ud83d\\ude00","text":"x"}'), task, 0);
    expect(pair.ok && pair.record.eventId).toBe('😀');
    const headed = decodeRecord(
      record('{"id":"\\udc00","text":"x"}', new Map([['event-id', Buffer.from('e-1')]])),
      task,
      0,
    );
    expect(headed.ok && headed.record.eventId).toBe('e-1');
  });
});
