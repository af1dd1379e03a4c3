import { describe, expect, it } from 'vitest';
import { keyFreeTimes, keyOrderFloor } from '../../bench/support/latency-split.ts';
import type { Settled } from '../../bench/support/tally.ts';

function settled(eventId: string, appendedAt: number): Settled {
  return {
    eventId,
    appendedAt,
    result: null,
    reason: 'poison',
    sourcePartition: 0,
    sourceOffset: 0n,
  };
}

describe('keyFreeTimes', () => {
  it("gives each record the first settle time of its key's previous record, per partition", () => {
    const keyed = [
      { eventId: 'a1', key: 'a', partition: 0 },
      { eventId: 'b1', key: 'b', partition: 0 },
      { eventId: 'a2', key: 'a', partition: 0 },
      { eventId: 'a1-elsewhere', key: 'a', partition: 1 },
      { eventId: 'a3', key: 'a', partition: 0 },
      { eventId: 'b2', key: 'b', partition: 0 },
    ];
    // a1 settled twice (a redelivery): the first append counts. b1 never settled.
    const free = keyFreeTimes(keyed, [
      settled('a1', 120),
      settled('a1', 300),
      settled('a2', 180),
      settled('a1-elsewhere', 50),
    ]);

    expect(free.get('a2')).toBe(120);
    expect(free.get('a3')).toBe(180);
    expect(free.has('a1')).toBe(false);
    expect(free.has('a1-elsewhere')).toBe(false);
    expect(free.has('b2')).toBe(false);
  });
});

describe('keyOrderFloor', () => {
  it('chains records of a key one service time after another, from when each was appended', () => {
    const keyed = [
      { eventId: 'a1', key: 'a', partition: 0 },
      { eventId: 'b1', key: 'b', partition: 0 },
      { eventId: 'a2', key: 'a', partition: 0 },
      { eventId: 'a3', key: 'a', partition: 0 },
      { eventId: 'a4', key: 'a', partition: 0 },
    ];
    const inputAt = new Map([
      ['a1', 1_000],
      ['b1', 1_005],
      ['a2', 1_020],
      ['a3', 1_030],
      ['a4', 1_200],
    ]);
    const floors = keyOrderFloor(keyed, inputAt, 50);

    expect(floors.get('a1')).toBe(0);
    expect(floors.get('b1')).toBe(0);
    // a1 ends at 1050: a2 starts then, 30 ms after it was appended, and ends at 1100.
    expect(floors.get('a2')).toBe(30);
    expect(floors.get('a3')).toBe(70);
    // a3 ends at 1150, before a4 is appended: a4 waits for nothing.
    expect(floors.get('a4')).toBe(0);
  });
});
