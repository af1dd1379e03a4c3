import { afterEach, describe, expect, it } from 'vitest';
import { emailMessage } from '../../src/cli/email-records.ts';
import { createApp } from '../../src/http/app.ts';
import { Service } from '../../src/service.ts';
import { type Bench, expectCommittedToEnd, openBench } from '../support/pipeline.ts';
import { committedOffsets, eventually, produce } from '../support/services.ts';

const token = 'park-test-operator-token';
let bench: Bench | undefined;
const services: Service[] = [];

afterEach(async () => {
  for (const service of services.splice(0)) await service.stop();
  await bench?.close();
  bench = undefined;
});

describe('a key parked after a dead letter, on the real broker', () => {
  it('stays parked across a restart and goes on only when an operator unparks it', async () => {
    bench = await openBench({
      prefix: 'park',
      partitions: 1,
      emails: 6,
      replica: { slots: 4, serviceTimeMs: 2 },
    });
    const config = bench.config({
      partition: { onDeadLetter: 'park', commitIntervalMs: 50 },
      http: { token },
    });
    const { input } = bench.topics;
    const key = Buffer.from('parked-sender');
    const [held, ...others] = bench.emails;
    if (!held) throw new Error('the corpus gave no email');
    const poison = {
      topic: input,
      key,
      value: Buffer.from('{"text": '),
      headers: new Map([[Buffer.from('event-id'), Buffer.from('park-poison')]]),
    };
    const behind = { ...emailMessage(held, input), key };
    await produce([poison, behind, ...others.map((email) => emailMessage(email, input))]);
    const poisonCopies = () => bench?.reader.deadLetters.filter((d) => d.eventId === 'park-poison');
    const emitted = (id: string) => bench?.reader.outputs.some((o) => o.eventId === id) ?? false;

    const first = new Service(config);
    services.push(first);
    await first.start();
    await bench.reader.waitFor(1 + others.length, 60_000);
    expect(poisonCopies()).toHaveLength(1);
    expect(emitted(held.eventId)).toBe(false);
    await first.stop();
    services.splice(0);
    // The commit stayed before the dead letter.
    const committed = await committedOffsets(config.kafka.groupId, input);
    expect(committed[0] === undefined || committed[0] <= 0n).toBe(true);

    const second = new Service(config);
    services.push(second);
    await second.start();
    // The new owner reads the dead letter again, writes it again and parks the key again.
    await eventually(
      async () => poisonCopies()?.length ?? 0,
      (copies) => copies === 2,
    );
    await Bun.sleep(300);
    expect(emitted(held.eventId)).toBe(false);

    const app = createApp(second);
    const response = await app.request(`/actors/partition-${input}-0/unpark`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'parked-sender' }),
    });
    expect(response.status).toBe(200);
    await eventually(
      async () => emitted(held.eventId),
      (seen) => seen,
    );
    await expectCommittedToEnd(bench, config.kafka.groupId);
    expect(poisonCopies()).toHaveLength(2);
  });
});
