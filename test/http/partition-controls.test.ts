import { describe, expect, it } from 'vitest';
import type { PartitionContext } from '../../src/actors/partition.ts';
import type { RedriveReport } from '../../src/http/dead-letter-redrive.ts';
import { settle, sourceRecord, success } from '../support/machine-ports.ts';
import { jsonOf, testApp, withToken } from './fixtures.ts';

const post = (body?: unknown) => ({
  method: 'POST',
  headers: { ...withToken, 'content-type': 'application/json' },
  ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
});

describe('partition controls', () => {
  it('pauses a partition into held and resumes it to fetching', async () => {
    const { app } = testApp([0]);
    await settle();

    const paused = await app.request('/actors/partition-emails-0/pause', post());
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({
      state: { running: { intake: 'held' } },
      context: { paused: true, pausedBy: 'operator' },
    });

    const resumed = await app.request('/actors/partition-emails-0/resume', post());
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({
      state: { running: { intake: 'fetching' } },
      context: { paused: false, pausedBy: null },
    });
  });

  it('refuses to resume a partition no operator paused (409)', async () => {
    const { app } = testApp([0]);
    await settle();
    const response = await app.request('/actors/partition-emails-0/resume', post());
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({
      error: { code: 'conflict', message: 'partition-emails-0 is not paused' },
    });
  });

  it('unparks a key held back by a dead letter, and refuses keys that are not parked', async () => {
    const { app, ports } = testApp([0], { partition: { onDeadLetter: 'park' } });
    await settle();
    const own = ports.get(0);
    own?.feed([
      sourceRecord(0, 'clé-a', '{poison'),
      sourceRecord(1, 'clé-a', { text: 'after the poison' }),
      sourceRecord(2, 'b', { text: 'other key' }),
    ]);
    await settle();
    expect(own?.calls.map((c) => c.request.eventId)).toEqual(['e2']);
    const summary = await jsonOf<{
      context: { parkedKeys: number; inFlight: number; waitingForOperator: number };
    }>(await app.request('/actors/partition-emails-0', { headers: withToken }));
    expect(summary.context).toMatchObject({ parkedKeys: 1, inFlight: 1, waitingForOperator: 2 });

    const wrong = await app.request('/actors/partition-emails-0/unpark', post({ key: 'b' }));
    expect(wrong.status).toBe(409);
    expect(await wrong.json()).toMatchObject({ error: { code: 'conflict' } });
    const bad = await app.request('/actors/partition-emails-0/unpark', post({ key: 7 }));
    expect(bad.status).toBe(400);
    const neither = await app.request('/actors/partition-emails-0/unpark', post({}));
    expect(neither.status).toBe(400);
    expect(await neither.json()).toMatchObject({
      error: { message: expect.stringMatching(/exactly one of key .* and keyBase64/) },
    });

    const unparked = await app.request('/actors/partition-emails-0/unpark', post({ key: 'clé-a' }));
    expect(unparked.status).toBe(200);
    expect(await unparked.json()).toMatchObject({ context: { parkedKeys: 0 } });
    await settle();
    expect(own?.calls.map((c) => c.request.eventId)).toEqual(['e2', 'e1']);
  });

  it('unparks a key that is not UTF-8 by its bytes in base64', async () => {
    const { app, ports } = testApp([0], { partition: { onDeadLetter: 'park' } });
    await settle();
    const own = ports.get(0);
    const binary = (offset: number, value: unknown) => ({
      ...sourceRecord(offset, 'x', value),
      key: Buffer.from([0xff, 0x41]),
    });
    own?.feed([binary(0, '{poison'), binary(1, { text: 'after the poison' })]);
    await settle();
    expect(own?.calls).toHaveLength(0);

    const asText = await app.request('/actors/partition-emails-0/unpark', post({ key: '\u00ffA' }));
    expect(asText.status).toBe(409);
    const both = post({ key: 'x', keyBase64: '/0E=' });
    expect((await app.request('/actors/partition-emails-0/unpark', both)).status).toBe(400);

    const unparked = await app.request(
      '/actors/partition-emails-0/unpark',
      post({ keyBase64: Buffer.from([0xff, 0x41]).toString('base64') }),
    );
    expect(unparked.status).toBe(200);
    await settle();
    expect(own?.calls.map((c) => c.request.eventId)).toEqual(['e1']);
  });

  it('changes the in-flight window of a running partition', async () => {
    const { app, supervisor } = testApp([0]);
    const response = await app.request('/actors/partition-emails-0/window', post({ window: 3 }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ context: { window: 3 } });
    const child = supervisor.getSnapshot().children['partition-emails-0'];
    const context = child?.getSnapshot().context as PartitionContext | undefined;
    expect(context?.options.window).toBe(3);
  });

  it('rejects a bad window body with 400 and a reason', async () => {
    const { app } = testApp([0]);
    const cases: Array<[unknown, string]> = [
      ['{"window": ', 'bad_json'],
      ['', 'bad_json'],
      [{}, 'invalid_body'],
      [{ window: 0 }, 'invalid_body'],
      [{ window: 2.5 }, 'invalid_body'],
      [{ window: '8' }, 'invalid_body'],
      [{ window: 8, extra: true }, 'invalid_body'],
      [[8], 'invalid_body'],
    ];
    for (const [body, code] of cases) {
      const response = await app.request('/actors/partition-emails-0/window', post(body));
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code } });
    }
  });

  it('restarts a partition actor: it drains, commits, and a fresh one takes its place', async () => {
    const { app, supervisor, ports } = testApp([0, 1]);
    await settle();
    const partition = ports.get(0);
    partition?.feed([sourceRecord(0, 'a', { text: 'one' })]);
    await settle();
    partition?.calls[0]?.answer.resolve(success());
    await settle();
    const before = supervisor.getSnapshot().children['partition-emails-0'];

    const response = await app.request('/actors/partition-emails-0/restart', post());
    expect(response.status).toBe(202);
    await settle();

    const after = supervisor.getSnapshot().children['partition-emails-0'];
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect(partition?.commits.at(-1)?.offset).toBe(1n);
    expect(supervisor.getSnapshot().context).toMatchObject({ draining: {}, restarts: {} });
    expect(Object.keys(supervisor.getSnapshot().context.owned)).toEqual([
      'partition-emails-0',
      'partition-emails-1',
    ]);
  });

  it('refuses controls on the supervisor (400) and on unknown actors (404)', async () => {
    const { app } = testApp([0]);
    const supervisor = await app.request('/actors/supervisor/pause', post());
    expect(supervisor.status).toBe(400);
    expect(await supervisor.json()).toMatchObject({ error: { code: 'unsupported' } });
    const unknown = await app.request('/actors/partition-emails-9/restart', post());
    expect(unknown.status).toBe(404);
  });

  it('refuses to steer a partition that is draining (409)', async () => {
    const { app, supervisor, ports } = testApp([0]);
    await settle();
    ports.get(0)?.feed([sourceRecord(0, 'a', { text: 'held' })]);
    await settle();
    supervisor.getSnapshot().children['partition-emails-0']?.send({ type: 'partition.drain' });
    const response = await app.request('/actors/partition-emails-0/pause', post());
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ error: { message: /not running/ } });
  });
});

describe('dead-letter redrive route', () => {
  const report: RedriveReport = {
    deadLetterTopic: 'emails.dlq',
    inputTopic: 'emails',
    reason: 'poison',
    dropDeadline: false,
    redriven: 2,
    skipped: 1,
    valueDropped: 0,
    partitions: [{ partition: 0, fromOffset: '0', toOffset: '3' }],
  };

  it('passes the reason and dropDeadline to the service and answers its report', async () => {
    const asked: unknown[] = [];
    const { app } = testApp([0], {
      source: {
        redriveDeadLetters: async (reason, dropDeadline) => {
          asked.push([reason, dropDeadline]);
          return report;
        },
      },
    });
    const response = await app.request('/dead-letters/redrive', post({ reason: 'poison' }));
    expect(response.status).toBe(200);
    expect(await jsonOf(response)).toEqual(report);
    const all = await app.request('/dead-letters/redrive', post());
    expect(all.status).toBe(200);
    const fresh = await app.request(
      '/dead-letters/redrive',
      post({ reason: 'deadline', dropDeadline: true }),
    );
    expect(fresh.status).toBe(200);
    const wrong = await app.request('/dead-letters/redrive', post({ dropDeadline: 'yes' }));
    expect(wrong.status).toBe(400);
    expect(asked).toEqual([
      ['poison', undefined],
      [undefined, undefined],
      ['deadline', true],
    ]);
  });

  it('rejects an unknown reason, and a second redrive while one runs', async () => {
    let finish: () => void = () => undefined;
    const { app } = testApp([0], {
      source: {
        redriveDeadLetters: () =>
          new Promise((resolve) => {
            finish = () => resolve(report);
          }),
      },
    });
    const bad = await app.request('/dead-letters/redrive', post({ reason: 'everything' }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_body', message: /reason/ } });

    const first = app.request('/dead-letters/redrive', post({}));
    await settle();
    const second = await app.request('/dead-letters/redrive', post({}));
    expect(second.status).toBe(409);
    finish();
    expect((await first).status).toBe(200);
  });
});
