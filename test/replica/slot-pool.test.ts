import { describe, expect, it } from 'vitest';
import { type SlotLease, SlotPool } from '../../src/replica/slot-pool.ts';

const never = new AbortController().signal;

describe('slot pool', () => {
  it('grants free slots at once and queues the rest in arrival order', async () => {
    const pool = new SlotPool(1, 2);
    const first = await pool.acquire(never);
    const order: string[] = [];
    const granted = (name: string) => (lease: SlotLease) => {
      order.push(name);
      return lease;
    };
    const second = pool.acquire(never)?.then(granted('second'));
    const third = pool.acquire(never)?.then(granted('third'));
    expect(pool.queued).toBe(2);

    first?.release();
    (await second)?.release();
    (await third)?.release();
    expect(order).toEqual(['second', 'third']);
    expect(pool.inUse).toBe(0);
  });

  it('turns a request away when the queue is full', async () => {
    const pool = new SlotPool(1, 1);
    await pool.acquire(never);
    void pool.acquire(never);
    expect(pool.acquire(never)).toBeUndefined();
  });

  it('frees the place of a waiter whose client gives up', async () => {
    const pool = new SlotPool(1, 1);
    const held = await pool.acquire(never);
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(pool.queued).toBe(0);

    held?.release();
    expect(pool.inUse).toBe(0);
  });

  it('ignores a second release of the same lease', async () => {
    const pool = new SlotPool(2, 0);
    const lease = await pool.acquire(never);
    await pool.acquire(never);
    lease?.release();
    lease?.release();
    expect(pool.inUse).toBe(1);
  });
});
