import { describe, expect, it } from 'vitest';
import { brokerFetch, settle, sourceRecord, success } from '../support/machine-ports.ts';
import { email, startPartition } from '../support/partition-actor.ts';

describe('dead letters in key order', () => {
  it('parks the key after a dead letter until an operator unparks it', async () => {
    const { actor, clock, ports } = startPartition({ onDeadLetter: 'park' });
    ports.feed([
      sourceRecord(0, 'a', '{poison'),
      sourceRecord(1, 'a', email('after poison')),
      sourceRecord(2, 'b', email('other key')),
    ]);
    await settle();
    expect(ports.calls.map((c) => c.request.eventId)).toEqual(['e2']);
    ports.calls[0]?.answer.resolve(success());
    await settle();
    clock.increment(100);
    await settle();
    expect(actor.getSnapshot().context.window.parkedGroups()).toEqual(['a']);
    // The commit stays before the dead letter: a restart reads it again and parks the key again.
    expect(ports.commits).toEqual([]);

    actor.send({ type: 'partition.unpark', key: 'a' });
    await settle();
    expect(ports.calls.map((c) => c.request.eventId)).toEqual(['e2', 'e1']);
    ports.calls[1]?.answer.resolve(success());
    await settle();
    clock.increment(100);
    await settle();
    expect(ports.commits.map((c) => c.offset)).toEqual([3n]);
  });

  it('drains at once past a parked key, committing only what lies before its dead letter', async () => {
    const { actor, clock, ports } = startPartition({ onDeadLetter: 'park' });
    ports.feed([
      sourceRecord(0, 'b', email('before')),
      sourceRecord(1, 'a', '{poison'),
      sourceRecord(2, 'a', email('after poison')),
    ]);
    await settle();
    ports.calls[0]?.answer.resolve(success());
    await settle();
    actor.send({ type: 'partition.drain' });
    await settle();
    // No wait for the drain timeout: what is left waits for an operator, not for the drain.
    expect(actor.getSnapshot().status).toBe('done');
    expect(ports.commits.map((c) => c.offset)).toEqual([1n]);
    expect(ports.calls).toHaveLength(1);
    clock.increment(1_000);
  });

  it('commits past a parked dead letter as soon as it is unparked, with nothing after it', async () => {
    const { actor, clock, ports } = startPartition({ onDeadLetter: 'park' });
    ports.feed([sourceRecord(0, 'b', email('first')), sourceRecord(1, 'a', '{poison')]);
    await settle();
    ports.calls[0]?.answer.resolve(success());
    await settle();
    clock.increment(100);
    await settle();
    expect(ports.commits.map((c) => c.offset)).toEqual([1n]);
    actor.send({ type: 'partition.unpark', key: 'a' });
    await settle();
    clock.increment(100);
    await settle();
    expect(ports.commits.map((c) => c.offset)).toEqual([1n, 2n]);
  });

  it('keeps at most 64 windows of settled records behind a parked dead letter, then pauses', async () => {
    const { actor, ports } = startPartition({ onDeadLetter: 'park', window: 4 });
    const records = [sourceRecord(0, 'a', '{poison')];
    for (let o = 1; o <= 300; o++) records.push(sourceRecord(o, `k${o}`, email('later')));
    ports.fetch = brokerFetch(ports, records);
    for (let round = 0; round < 400; round++) {
      await settle();
      for (const call of ports.calls) call.answer.resolve(success());
      if (actor.getSnapshot().context.pausedBy === 'window' && ports.produced.length >= 256) break;
    }
    await settle();
    const { context } = actor.getSnapshot();
    expect(context.pausedBy).toBe('window');
    expect(context.window.held).toBe(4 * 64);
    expect(context.window.unsettled).toBe(1);
    // The dead letter and the 255 records after it; the rest waits in Kafka.
    expect(ports.produced).toHaveLength(256);
    expect(ports.commits).toEqual([]);
  });

  it('continues with the next record of the key by default', async () => {
    const { ports } = startPartition();
    ports.feed([sourceRecord(0, 'a', '{poison'), sourceRecord(1, 'a', email('next'))]);
    await settle();
    expect(ports.calls.map((c) => c.request.eventId)).toEqual(['e1']);
  });
});
