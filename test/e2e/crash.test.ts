import { afterEach, describe, expect, it } from 'vitest';
import { type Bench, expectCommittedToEnd, openBench, outputsById } from '../support/pipeline.ts';
import { startServiceProcess } from '../support/service-process.ts';
import { committedOffsets } from '../support/services.ts';

let bench: Bench | undefined;

afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

describe('a crash between inference and commit', () => {
  it('SIGKILL after the results were written but before the commit: the restart reuses every result', async () => {
    bench = await openBench({
      prefix: 'crash',
      partitions: 2,
      emails: 100,
      replica: { slots: 8, serviceTimeMs: 2 },
    });
    // Commits only at shutdown, so the kill lands after the outputs and before any commit.
    const config = bench.config({ partition: { commitIntervalMs: 600_000, commitBatch: 100_000 } });
    const first = await startServiceProcess(config);
    await bench.publish();
    await bench.reader.waitFor(bench.emails.length, 60_000);
    expect(await first.kill('SIGKILL')).not.toBe(0);
    const committed = await committedOffsets(config.kafka.groupId, bench.topics.input);
    expect(committed.every((offset) => offset === undefined || offset < 0n)).toBe(true);
    const callsBefore = bench.replica.requests().length;

    const second = await startServiceProcess({
      ...config,
      partition: { ...config.partition, commitIntervalMs: 200 },
    });
    await expectCommittedToEnd(bench, config.kafka.groupId);
    await Bun.sleep(500);
    await second.kill('SIGTERM');

    // At-least-once: every record's result was written twice, with the same identity.
    const byId = outputsById(bench);
    expect([...byId.keys()].sort()).toEqual(bench.emails.map((e) => e.eventId).sort());
    for (const [id, outputs] of byId) {
      expect(outputs.length, id).toBe(2);
      const [a, b] = outputs;
      expect(b?.output).toEqual(a?.output);
      expect(b?.source).toEqual(a?.source);
      expect(b?.revision).toBe(a?.revision);
    }
    // The known results were reused: the model was not called again.
    expect(bench.replica.requests().length).toBe(callsBefore);
    for (const email of bench.emails) {
      expect(bench.replica.requests(email.eventId).length, email.eventId).toBe(1);
    }
  });
});
