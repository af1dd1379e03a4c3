import type { MessageToProduce } from '@platformatic/kafka';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailMessage } from '../../src/cli/email-records.ts';
import { ResultReader } from '../../src/cli/result-reader.ts';
import { createApp } from '../../src/http/app.ts';
import { type Email, splitCorpus } from '../../src/replica/corpus.ts';
import { startReplica } from '../../src/replica/server.ts';
import { Service } from '../../src/service.ts';
import {
  brokers,
  createTestTopics,
  deleteTestTopics,
  eventually,
  produce,
  removeQueue,
  type TestTopics,
  testConfig,
  uniqueName,
} from '../support/services.ts';

const token = 'metrics-test-token-0123456789';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format strictly enough to fail on anything malformed. */
function parseMetrics(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type =
      /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(
      line,
    );
    if (!sample) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
    )) {
      labels[key as string] = value as string;
    }
    samples.push({ name: sample[1] as string, labels, value: Number(sample[3]) });
  }
  return { samples, types };
}

function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

async function scrape(app: Hono): Promise<Sample[]> {
  const response = await app.request('/metrics', { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await response.text()).samples;
}

function poison(topic: string, id: string): MessageToProduce<Buffer, Buffer, Buffer, Buffer> {
  return {
    topic,
    key: Buffer.from(`poison-${id}`),
    value: Buffer.from('{"text": '),
    headers: new Map([[Buffer.from('event-id'), Buffer.from(id)]]),
  };
}

describe('metrics scraped during and after an end-to-end run', () => {
  const name = uniqueName('metrics');
  const emails: Email[] = splitCorpus().heldOut.slice(0, 200);
  const poisonIds = ['bad-1', 'bad-2', 'bad-3'];
  let topics: TestTopics;
  let replica: Awaited<ReturnType<typeof startReplica>>;
  let service: Service;
  let reader: ResultReader;
  let app: Hono;
  let during: Sample[];
  let after: Sample[];
  let text: string;

  beforeAll(async () => {
    topics = await createTestTopics(name, 3);
    replica = await startReplica({ port: 0, slots: 8, serviceTimeMs: 20 });
    service = new Service(
      testConfig(name, topics, {
        replicas: [{ url: replica.url, slots: 8 }],
        http: { token, protectReads: true },
      }),
    );
    await service.start();
    app = createApp(service);
    reader = new ResultReader({
      brokers,
      outputTopic: topics.output,
      deadLetterTopic: topics.deadLetter,
    });
    await reader.start();
    const messages = emails.map((email) => emailMessage(email, topics.input));
    for (const [i, id] of poisonIds.entries()) {
      messages.splice(40 * (i + 1), 0, poison(topics.input, id));
    }
    await produce(messages);
    // While records are in flight: consumed, not all of them finished yet.
    during = await eventually(
      () => scrape(app),
      (s) => total(s, 'tokenline_records_consumed_total') > 0,
      10_000,
    );
    await reader.waitFor(emails.length + poisonIds.length, 90_000);
    // The counters move when the broker acknowledged; the reader may see a record first.
    after = await eventually(
      () => scrape(app),
      (s) => total(s, 'tokenline_records_produced_total') >= emails.length,
      10_000,
    );
    const response = await app.request('/metrics', {
      headers: { authorization: `Bearer ${token}` },
    });
    text = await response.text();
  });

  afterAll(async () => {
    await reader?.close();
    await service?.stop();
    await replica?.stop();
    if (topics) await deleteTestTopics(topics);
    if (service) await removeQueue(service.config);
  });

  it('serves well-formed Prometheus text with a type for every family', () => {
    const { samples, types } = parseMetrics(text);
    expect(samples.length).toBeGreaterThan(20);
    for (const family of [
      'tokenline_records_consumed_total',
      'tokenline_records_produced_total',
      'tokenline_records_dead_lettered_total',
      'tokenline_retries_total',
      'tokenline_goodput_records_total',
      'tokenline_tokens_total',
      'tokenline_in_flight_records',
      'tokenline_paused_partitions',
      'tokenline_consumer_lag_records',
      'tokenline_inference_queue_depth',
    ]) {
      expect(types.has(family), family).toBe(true);
    }
    for (const histogram of ['queue_time', 'service_time', 'end_to_end']) {
      expect(types.get(`tokenline_${histogram}_seconds`)).toBe('histogram');
    }
  });

  it('counts as many results as the output topic holds, and dead letters as the DLQ', () => {
    expect(new Set(reader.outputs.map((o) => o.eventId)).size).toBe(emails.length);
    expect(reader.outputs).toHaveLength(emails.length);
    expect(total(after, 'tokenline_records_produced_total')).toBe(reader.outputs.length);
    expect(total(after, 'tokenline_records_produced_total', { revision: service.revision })).toBe(
      reader.outputs.length,
    );

    expect(reader.deadLetters.map((d) => d.eventId).sort()).toEqual([...poisonIds].sort());
    const poisoned = reader.deadLetters.filter((d) => d.reason === 'poison');
    expect(total(after, 'tokenline_records_dead_lettered_total')).toBe(reader.deadLetters.length);
    expect(total(after, 'tokenline_records_dead_lettered_total', { reason: 'poison' })).toBe(
      poisoned.length,
    );
    expect(total(after, 'tokenline_records_consumed_total', { topic: topics.input })).toBe(
      emails.length + poisonIds.length,
    );
  });

  it('agrees with itself: histograms count the records, goodput and tokens fit the results', () => {
    const produced = total(after, 'tokenline_records_produced_total');
    expect(total(after, 'tokenline_queue_time_seconds_count')).toBe(produced);
    expect(total(after, 'tokenline_service_time_seconds_count')).toBe(produced);
    expect(total(after, 'tokenline_end_to_end_seconds_count')).toBe(produced + poisonIds.length);
    expect(total(after, 'tokenline_end_to_end_seconds_count', { outcome: 'dead-lettered' })).toBe(
      poisonIds.length,
    );
    const goodput = total(after, 'tokenline_goodput_records_total');
    expect(goodput).toBeGreaterThan(0);
    expect(goodput).toBeLessThanOrEqual(produced);
    expect(total(after, 'tokenline_tokens_total', { direction: 'in' })).toBeGreaterThan(0);
    const serviceSamples = after.filter((s) => s.name === 'tokenline_service_time_seconds_count');
    expect(serviceSamples.every((s) => s.labels.replica === replica.url)).toBe(true);
  });

  it('only grows between the scrape during the run and the one after', () => {
    expect(total(during, 'tokenline_records_consumed_total')).toBeGreaterThan(0);
    for (const name of [
      'tokenline_records_consumed_total',
      'tokenline_records_produced_total',
      'tokenline_records_dead_lettered_total',
    ]) {
      expect(total(during, name), name).toBeLessThanOrEqual(total(after, name));
    }
  });

  it('drains to no lag and nothing in flight once everything is committed', async () => {
    const settled = await eventually(
      () => scrape(app),
      (s) =>
        total(s, 'tokenline_consumer_lag_records') === 0 &&
        total(s, 'tokenline_in_flight_records') === 0,
    );
    expect(settled.filter((s) => s.name === 'tokenline_consumer_lag_records')).toHaveLength(3);
    expect(total(settled, 'tokenline_consumer_lag_records')).toBe(0);
    expect(total(settled, 'tokenline_paused_partitions')).toBe(0);
  });

  it('shows the same dead-letter counts at /dead-letters, and is ready', async () => {
    const headers = { authorization: `Bearer ${token}` };
    const counts = (await (await app.request('/dead-letters', { headers })).json()) as {
      total: number;
      byReason: Record<string, number>;
    };
    expect(counts.total).toBe(reader.deadLetters.length);
    expect(counts.byReason.poison).toBe(poisonIds.length);

    const ready = await app.request('/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      checks: { group: { ok: true }, kafka: { ok: true }, redis: { ok: true } },
    });
  });

  it('counts a redrive: poison records sent back are dead-lettered again', async () => {
    const response = await app.request('/dead-letters/redrive', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'poison' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ redriven: poisonIds.length, skipped: 0 });

    const end = Date.now() + 30_000;
    while (reader.deadLetters.length < 2 * poisonIds.length && Date.now() < end)
      await Bun.sleep(100);
    expect(reader.deadLetters).toHaveLength(2 * poisonIds.length);
    const samples = await eventually(
      () => scrape(app),
      (s) => total(s, 'tokenline_records_dead_lettered_total') === 2 * poisonIds.length,
      10_000,
    );
    expect(total(samples, 'tokenline_records_dead_lettered_total', { reason: 'poison' })).toBe(
      2 * poisonIds.length,
    );
    expect(total(samples, 'tokenline_records_produced_total')).toBe(emails.length);
  });
});
