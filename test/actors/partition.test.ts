import { describe, expect, it, vi } from 'vitest';
import { errorCodes, TokenlineError } from '../../src/errors.ts';
import { headerOf, settle, sourceRecord, success } from '../support/machine-ports.ts';
import { email, startPartition } from '../support/partition-actor.ts';

describe('partition machine', () => {
  it('emits each record and commits the offset after the last one on the commit interval', async () => {
    const { actor, clock, ports } = startPartition();
    ports.feed([0, 1, 2].map((o) => sourceRecord(o, `k${o}`, email('hello'))));
    await settle();
    expect(ports.calls).toHaveLength(3);
    for (const call of ports.calls) call.answer.resolve(success());
    await settle();
    expect(ports.produced.map((m) => m.topic)).toEqual(['out', 'out', 'out']);
    expect(ports.commits).toHaveLength(0);

    clock.increment(100);
    await settle();
    expect(ports.commits.map((c) => c.offset)).toEqual([3n]);
    expect(actor.getSnapshot().context.committedOffset).toBe(3n);
  });

  it('never commits past a record that is still in flight', async () => {
    const { clock, ports } = startPartition();
    ports.feed([0, 1, 2].map((o) => sourceRecord(o, `k${o}`, email('x'))));
    await settle();
    ports.calls[1]?.answer.resolve(success());
    ports.calls[2]?.answer.resolve(success());
    await settle();
    clock.increment(500);
    await settle();
    expect(ports.commits).toHaveLength(0);

    ports.calls[0]?.answer.resolve(success());
    await settle();
    clock.increment(100);
    await settle();
    expect(ports.commits.map((c) => c.offset)).toEqual([3n]);
  });

  it('runs records with the same key one after another, in offset order', async () => {
    const { ports } = startPartition();
    ports.feed([
      sourceRecord(0, 'a', email('1')),
      sourceRecord(1, 'a', email('2')),
      sourceRecord(2, 'b', email('3')),
    ]);
    await settle();
    expect(ports.calls.map((c) => c.request.eventId)).toEqual(['e0', 'e2']);

    ports.calls[0]?.answer.resolve(success());
    await settle();
    expect(ports.calls.map((c) => c.request.eventId)).toEqual(['e0', 'e2', 'e1']);
  });

  it('retries a retryable failure after a backoff and counts the attempts', async () => {
    const { clock, ports } = startPartition();
    ports.feed([sourceRecord(0, 'a', email('x'))]);
    await settle();
    ports.calls[0]?.answer.resolve({
      ok: false,
      error: { code: errorCodes.replica, message: '503', retryable: true },
    });
    await settle();
    expect(ports.calls).toHaveLength(1);

    // Full jitter with random() = 0.5 and a 100 ms base: the first backoff is 50 ms.
    clock.increment(50);
    await settle();
    expect(ports.calls).toHaveLength(2);
    ports.calls[1]?.answer.resolve(success());
    await settle();
    const value = JSON.parse(ports.produced[0]?.value?.toString() ?? '{}');
    expect(value.attempts).toBe(2);
  });

  it('dead-letters a poison record at once, with its reason, and keeps committing', async () => {
    const { clock, ports } = startPartition();
    ports.feed([sourceRecord(0, 'a', '{not json'), sourceRecord(1, 'b', email('fine'))]);
    await settle();
    expect(ports.calls).toHaveLength(1);
    ports.calls[0]?.answer.resolve(success());
    await settle();
    clock.increment(100);
    await settle();

    const dead = ports.produced.find((m) => m.topic === 'in.dlq');
    expect(dead?.value?.toString()).toBe('{not json');
    expect(dead && headerOf(dead, 'tl-dlq-reason')).toBe('poison');
    expect(dead && headerOf(dead, 'event-id')).toBe('e0');
    expect(ports.commits.map((c) => c.offset)).toEqual([2n]);
  });

  it('dead-letters with reason retries-exhausted after the last attempt', async () => {
    const { clock, ports } = startPartition();
    ports.feed([sourceRecord(0, 'a', email('x'))]);
    for (let attempt = 0; attempt < 3; attempt++) {
      await settle();
      ports.calls[attempt]?.answer.resolve({
        ok: false,
        error: { code: errorCodes.timeout, message: 'slow', retryable: true },
      });
      await settle();
      clock.increment(1_000);
    }
    await settle();
    expect(ports.calls).toHaveLength(3);
    const dead = ports.produced[0];
    expect(dead && headerOf(dead, 'tl-dlq-reason')).toBe('retries-exhausted');
    expect(dead && headerOf(dead, 'tl-attempts')).toBe('3');
  });

  it('ignores records fetched again after a rebalance', async () => {
    const { ports } = startPartition();
    ports.feed([sourceRecord(0, 'a', email('x'))]);
    ports.feed([sourceRecord(0, 'a', email('x'))]);
    await settle();
    expect(ports.calls).toHaveLength(1);
  });

  it('pauses intake when the window is full and resumes below half of it', async () => {
    const { actor, ports } = startPartition({ window: 4 });
    ports.feed([0, 1, 2, 3].map((o) => sourceRecord(o, `k${o}`, email('x'))));
    await settle();
    expect(actor.getSnapshot().matches({ running: { intake: 'paused' } })).toBe(true);
    expect(actor.getSnapshot().context.pausedBy).toBe('window');
    expect(ports.fetches).toEqual([0n]);
    ports.calls[0]?.answer.resolve(success());
    ports.calls[1]?.answer.resolve(success());
    await settle();
    expect(actor.getSnapshot().matches({ running: { intake: 'paused' } })).toBe(true);
    ports.calls[2]?.answer.resolve(success());
    await settle();
    expect(actor.getSnapshot().matches({ running: { intake: 'fetching' } })).toBe(true);
    expect(ports.fetches).toEqual([0n, 4n]);
  });

  it('stops fetching while the inference queue is deep and resumes when it drains', async () => {
    const { actor, clock, ports } = startPartition();
    ports.queueDeep = true;
    ports.feed([sourceRecord(0, 'a', email('x'))]);
    await settle();
    expect(actor.getSnapshot().context.pausedBy).toBe('queue');
    clock.increment(100);
    await settle();
    expect(ports.fetches).toEqual([]);

    ports.queueDeep = false;
    clock.increment(20);
    await settle();
    expect(actor.getSnapshot().matches({ running: { intake: 'fetching' } })).toBe(true);
    expect(ports.fetches).toEqual([0n, 1n]);
    expect(ports.calls).toHaveLength(1);
  });

  it('drains on revocation: waits for in-flight records, commits, then stops', async () => {
    const { actor, ports } = startPartition();
    ports.feed([sourceRecord(0, 'a', email('x'))]);
    await settle();
    actor.send({ type: 'partition.drain' });
    ports.feed([sourceRecord(1, 'b', email('y'))]);
    await settle();
    expect(ports.calls).toHaveLength(1);
    expect(actor.getSnapshot().value).toBe('draining');

    ports.calls[0]?.answer.resolve(success());
    await settle();
    expect(ports.commits.map((c) => c.offset)).toEqual([1n]);
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('abandons in-flight records after the drain timeout and commits only what completed', async () => {
    const { actor, clock, ports } = startPartition();
    ports.feed([sourceRecord(0, 'a', email('x')), sourceRecord(1, 'b', email('y'))]);
    await settle();
    ports.calls[0]?.answer.resolve(success());
    await settle();
    actor.send({ type: 'partition.drain' });
    clock.increment(1_000);
    await settle();
    expect(ports.calls[1]?.signal.aborted).toBe(true);
    expect(ports.commits.map((c) => c.offset)).toEqual([1n]);
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('aborts its records in flight when it is stopped outright, and produces nothing for them', async () => {
    const { actor, ports } = startPartition();
    ports.feed([sourceRecord(0, 'a', email('x')), sourceRecord(1, 'b', email('y'))]);
    await settle();
    expect(ports.calls).toHaveLength(2);
    actor.stop();
    await settle();
    expect(ports.calls.map((call) => call.signal.aborted)).toEqual([true, true]);
    ports.calls[0]?.answer.resolve(success());
    await settle();
    expect(ports.produced).toEqual([]);
  });

  it('runs its record actors without XState warnings', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const { clock, ports } = startPartition();
      ports.feed([0, 1, 2].map((o) => sourceRecord(o, 'k', email('hello'))));
      for (let i = 0; i < 3; i++) {
        await settle();
        ports.calls[i]?.answer.resolve(success());
      }
      clock.increment(100);
      await settle();
      expect(ports.produced).toHaveLength(3);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('record machine edge cases', () => {
  it('dead-letters a result the output topic would refuse as non-retryable', async () => {
    const { clock, ports } = startPartition();
    ports.produce = async (message) => {
      if (message.topic === 'out') throw new TokenlineError(errorCodes.tooLarge, 'too large');
      ports.produced.push(message);
    };
    ports.feed([sourceRecord(0, 'a', email('x'))]);
    await settle();
    ports.calls[0]?.answer.resolve(success());
    await settle();
    clock.increment(100);
    await settle();
    const dead = ports.produced[0];
    expect(dead?.topic).toBe('in.dlq');
    expect(dead && headerOf(dead, 'tl-dlq-reason')).toBe('non-retryable');
    expect(dead && headerOf(dead, 'tl-error-code')).toBe('TL_TOO_LARGE');
    expect(ports.commits.map((c) => c.offset)).toEqual([1n]);
  });

  it('sends a dead letter without its value when the value makes it too large', async () => {
    const { ports } = startPartition();
    ports.produce = async (message) => {
      if ((message.value?.length ?? 0) > 0) throw new TokenlineError(errorCodes.tooLarge, 'big');
      ports.produced.push(message);
    };
    ports.feed([sourceRecord(0, 'a', '{broken')]);
    await settle();
    const dead = ports.produced[0];
    expect(dead?.value).toBeUndefined();
    expect(dead && headerOf(dead, 'tl-value-dropped-bytes')).toBe('7');
    expect(dead && headerOf(dead, 'tl-dlq-reason')).toBe('poison');
  });

  it('dead-letters a record whose deadline passed before admission, without inferring', async () => {
    const { clock, ports } = startPartition();
    clock.set(10_000);
    const record = sourceRecord(0, 'a', email('x'));
    record.headers.set(Buffer.from('deadline'), Buffer.from('5000'));
    ports.feed([record]);
    await settle();
    expect(ports.calls).toHaveLength(0);
    const dead = ports.produced[0];
    expect(dead && headerOf(dead, 'tl-dlq-reason')).toBe('deadline');
  });

  it('defers a retry by the longest backoff when the retry budget is spent', async () => {
    const { clock, ports } = startPartition();
    ports.retryBudget = { recordAttempt: () => undefined, tryRetry: () => false };
    ports.feed([sourceRecord(0, 'a', email('x'))]);
    await settle();
    ports.calls[0]?.answer.resolve({
      ok: false,
      error: { code: errorCodes.replica, message: '503', retryable: true },
    });
    await settle();
    clock.increment(999);
    await settle();
    expect(ports.calls).toHaveLength(1);
    clock.increment(1);
    await settle();
    expect(ports.calls).toHaveLength(2);
  });
});

describe('operator controls', () => {
  it('holds intake while paused by an operator and fetches again on resume', async () => {
    const { actor, clock, ports } = startPartition();
    await settle();
    actor.send({ type: 'partition.pause' });
    await settle();
    expect(actor.getSnapshot().matches({ running: { intake: 'held' } })).toBe(true);
    expect(actor.getSnapshot().context.pausedBy).toBe('operator');
    ports.feed([sourceRecord(0, 'a', email('x'))]);
    clock.increment(1_000);
    await settle();
    expect(ports.calls).toHaveLength(0);

    actor.send({ type: 'partition.resume' });
    await settle();
    expect(ports.calls).toHaveLength(1);
    expect(actor.getSnapshot().context.pausedBy).toBeNull();
  });

  it('applies a new window size at once', async () => {
    const { actor, ports } = startPartition({ window: 8 });
    actor.send({ type: 'partition.set-window', window: 2 });
    ports.feed([0, 1, 2].map((o) => sourceRecord(o, `k${o}`, email('x'))));
    await settle();
    expect(actor.getSnapshot().context.pausedBy).toBe('window');
  });
});

describe('window bound', () => {
  it('admits no more than the window from one large fetch and fetches the rest again later', async () => {
    const { actor, ports } = startPartition({ window: 4 });
    ports.feed([0, 1, 2, 3, 4, 5, 6, 7].map((o) => sourceRecord(o, `k${o}`, email('x'))));
    await settle();
    expect(ports.calls).toHaveLength(4);
    expect(actor.getSnapshot().context.window.unsettled).toBe(4);
    expect(actor.getSnapshot().context.fetchOffset).toBe(4n);

    for (const call of ports.calls) call.answer.resolve(success());
    await settle();
    expect(ports.fetches).toEqual([0n, 4n]);
  });
});
