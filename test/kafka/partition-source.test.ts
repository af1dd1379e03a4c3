import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../src/contracts/source-record.ts';
import type { BufferConsumer } from '../../src/kafka/clients.ts';
import { PartitionSource } from '../../src/kafka/partition-source.ts';
import { uniqueName } from '../support/services.ts';
import {
  commitOffset,
  createTopic,
  deleteGroup,
  deleteRecordsBefore,
  deleteTopic,
  type Produced,
  produceBatch,
  produceTransactions,
  testConsumer,
} from './fixtures.ts';

const bytes = (...values: number[]) => Buffer.from(values);
const text = (value: string) => Buffer.from(value);
const wait = { maxWaitMs: 200, maxBytes: 1_048_576 };

/** What a record must look like byte for byte, whatever the broker and client did. */
function shape(record: Pick<SourceRecord, 'key' | 'value' | 'headers' | 'timestamp'>) {
  return {
    key: record.key?.toString('hex') ?? null,
    value: record.value?.toString('hex') ?? null,
    headers: [...record.headers].map(([k, v]) => [k.toString('hex'), v.toString('hex')]),
    timestamp: record.timestamp,
  };
}

function message(partition: number, fields: Partial<Produced>, index: number): Produced {
  return { topic: '', partition, timestamp: 1_700_000_000_000n + BigInt(index), ...fields };
}

describe('PartitionSource on a real broker', () => {
  let name: string;
  let topic: string;
  let consumer: BufferConsumer;
  let source: PartitionSource;

  beforeEach(async () => {
    name = uniqueName('partition-source');
    topic = `${name}.in`;
    await createTopic(topic, 2);
    consumer = testConsumer(`${name}-group`);
    source = new PartitionSource(consumer);
  });

  afterEach(async () => {
    await source.close();
    await consumer.close();
    await deleteGroup(`${name}-group`);
    await deleteTopic(topic);
  });

  const produce = (partition: number, fields: Partial<Produced>[]) =>
    produceBatch(fields.map((f, i) => ({ ...message(partition, f, i), topic })));

  it('returns the produced records in order, bytes intact, starting in the middle of a batch', async () => {
    const produced: Partial<Produced>[] = [
      { key: text('k0'), value: text('v0'), headers: new Map([[text('event-id'), text('e0')]]) },
      { value: text('a record without a key') },
      { key: text('tombstone') },
      {
        key: bytes(0x00, 0xff, 0x80),
        value: bytes(0xde, 0xad, 0xbe, 0xef, 0x00),
        headers: new Map([
          [bytes(0xff, 0xfe, 0x00), bytes(0x01)],
          [text('dup'), text('first')],
          [text('dup'), text('second')],
          [text('empty'), Buffer.alloc(0)],
        ]),
      },
      { key: Buffer.alloc(0), value: Buffer.alloc(0) },
      { key: text('large'), value: Buffer.alloc(10_000, 7) },
    ];
    // One send: the six records land in one batch, so a fetch from offset 2 gets it whole.
    await produce(0, produced);

    const result = await source.fetch(topic, 0, 2n, wait);

    expect(result.records.map((r) => r.offset)).toEqual([2n, 3n, 4n, 5n]);
    expect(result.records.map(shape)).toEqual(
      produced.slice(2).map((p, i) =>
        shape({
          key: p.key,
          value: p.value,
          headers: (p.headers as Map<Buffer, Buffer>) ?? new Map(),
          timestamp: 1_700_000_000_002n + BigInt(i),
        }),
      ),
    );
    expect(result.records.every((r) => r.topic === topic && r.partition === 0)).toBe(true);
    expect(result.records.every((r) => r.leaderEpoch >= 0)).toBe(true);
    expect(result).toMatchObject({ nextOffset: 6n, highWatermark: 6n });
    expect(result.resetFrom).toBeUndefined();
  });

  it('reads a partition end to end in small fetches with no gap and no duplicate', async () => {
    const values = Array.from({ length: 3_000 }, (_, i) => ({ value: text(`record ${i}`) }));
    for (let i = 0; i < values.length; i += 500) await produce(1, values.slice(i, i + 500));

    const offsets: bigint[] = [];
    let offset = 0n;
    let fetches = 0;
    while (offset < 3_000n) {
      // 4 KiB is far less than a batch: the broker cuts batches, which must be read again.
      const result = await source.fetch(topic, 1, offset, { maxWaitMs: 200, maxBytes: 4_096 });
      offsets.push(...result.records.map((r) => r.offset));
      expect(result.records.map((r) => r.value?.toString())).toEqual(
        result.records.map((r) => `record ${r.offset}`),
      );
      offset = result.nextOffset;
      fetches++;
    }

    expect(offsets).toEqual(Array.from({ length: 3_000 }, (_, i) => BigInt(i)));
    expect(fetches).toBeGreaterThan(1);
  });

  it('starts from the earliest offset, or from the offset the group committed', async () => {
    await produce(
      0,
      Array.from({ length: 10 }, (_, i) => ({ value: text(`${i}`) })),
    );
    expect(await source.startOffset(topic, 0)).toBe(0n);

    await deleteRecordsBefore(topic, 0, 3n);
    expect(await source.startOffset(topic, 0)).toBe(3n);

    await commitOffset(`${name}-group`, topic, 0, 7n);
    expect(await source.startOffset(topic, 0)).toBe(7n);
    expect(await source.startOffset(topic, 1)).toBe(0n);
  });

  it('restarts from the earliest offset when the offset is out of range, and says so', async () => {
    await produce(
      0,
      Array.from({ length: 10 }, (_, i) => ({ value: text(`${i}`) })),
    );
    await deleteRecordsBefore(topic, 0, 5n);

    const deleted = await source.fetch(topic, 0, 2n, wait);
    expect(deleted.resetFrom).toBe(2n);
    expect(deleted.records.map((r) => r.offset)).toEqual([5n, 6n, 7n, 8n, 9n]);

    const beyond = await source.fetch(topic, 0, 50n, wait);
    expect(beyond.resetFrom).toBe(50n);
    expect(beyond.records[0]?.offset).toBe(5n);
  });

  it('answers a partition with data at once while another partition long-polls', async () => {
    await produce(1, [{ value: text('a') }, { value: text('b') }]);
    const started = performance.now();
    const idle = source
      .fetch(topic, 0, 0n, { maxWaitMs: 3_000, maxBytes: 1_048_576 })
      .then((r) => ({ r, ms: performance.now() - started }));
    await Bun.sleep(100);

    const busyStart = performance.now();
    const busy = await source.fetch(topic, 1, 0n, { maxWaitMs: 3_000, maxBytes: 1_048_576 });
    const busyMs = performance.now() - busyStart;

    expect(busy.records).toHaveLength(2);
    expect(busyMs).toBeLessThan(1_000);
    const { r, ms } = await idle;
    expect(r.records).toHaveLength(0);
    expect(ms).toBeGreaterThanOrEqual(2_900);
  });

  it('answers a long poll as soon as a record arrives, while another partition waits', async () => {
    const idle = source.fetch(topic, 0, 0n, { maxWaitMs: 4_000, maxBytes: 1_048_576 });
    const started = performance.now();
    const polled = source.fetch(topic, 1, 0n, { maxWaitMs: 4_000, maxBytes: 1_048_576 });
    await Bun.sleep(300);
    await produce(1, [{ value: text('late') }]);

    const result = await polled;
    expect(result.records.map((r) => r.value?.toString())).toEqual(['late']);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect((await idle).records).toHaveLength(0);
  });

  it('ends a long poll at once when aborted, and fetches again afterwards', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const polled = source.fetch(topic, 0, 0n, {
      maxWaitMs: 10_000,
      maxBytes: 1_048_576,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('revoked')), 100);

    await expect(polled).rejects.toThrow('revoked');
    expect(performance.now() - started).toBeLessThan(1_000);

    await produce(0, [{ value: text('after') }]);
    const again = await source.fetch(topic, 0, 0n, wait);
    expect(again.records.map((r) => r.value?.toString())).toEqual(['after']);
  });

  it('neither fails nor loses a record when the connection is closed mid-poll', async () => {
    const polled = source.fetch(topic, 0, 0n, { maxWaitMs: 3_000, maxBytes: 1_048_576 });
    await Bun.sleep(100);
    await source.release(topic, 0);
    await produce(0, [{ value: text('after reconnect') }]);

    // Mostly the close cuts the request and the fetch is sent again on a fresh connection,
    // which finds the record. Once, in a CI run on a freshly formatted broker, the call came
    // back empty after its whole maxWait (3.47 s), most likely because the socket closed only
    // after the broker had answered the long poll: the next fetch from the offset it returned
    // must then find the record.
    const result = await polled;
    const seen = result.records.map((r) => r.value?.toString());
    if (seen.length === 0) {
      expect(result.nextOffset).toBe(0n);
      const again = await source.fetch(topic, 0, result.nextOffset, wait);
      seen.push(...again.records.map((r) => r.value?.toString()));
    }
    expect(seen).toEqual(['after reconnect']);
  });

  it('skips aborted transactions and transaction markers, reading committed', async () => {
    const values = (...v: string[]) =>
      v.map((value) => ({ topic, partition: 0, value: text(value) }));
    await produceTransactions(
      [
        { messages: values('a', 'b'), commit: true },
        { messages: values('aborted'), commit: false },
        { messages: values('c'), commit: true },
      ],
      `${name}-tx`,
    );

    const committed = await source.fetch(topic, 0, 0n, wait);
    expect(committed.records.map((r) => r.value?.toString())).toEqual(['a', 'b', 'c']);
    // Three data batches and three markers: the next offset passes the last marker.
    expect(committed.nextOffset).toBe(committed.highWatermark);

    const uncommitted = new PartitionSource(consumer, { readCommitted: false });
    const all = await uncommitted.fetch(topic, 0, 0n, wait);
    await uncommitted.close();
    expect(all.records.map((r) => r.value?.toString())).toEqual(['a', 'b', 'aborted', 'c']);
  });
});
