import { describe, expect, it } from 'vitest';
import type { ActorSummary } from '../../src/http/summaries.ts';
import { Metrics } from '../../src/metrics.ts';
import { settle, sourceRecord, success } from '../support/machine-ports.ts';
import { appFor, jsonOf, testApp } from './fixtures.ts';

describe('HTTP API: actors', () => {
  it('lists the supervisor and one actor per assigned partition', async () => {
    const response = await testApp([0, 1]).app.request('/actors');
    expect(response.status).toBe(200);
    const body = await jsonOf<{ actors: ActorSummary[] }>(response);
    expect(body.actors.map((a) => [a.id, a.kind])).toEqual([
      ['supervisor', 'supervisor'],
      ['partition-emails-0', 'partition'],
      ['partition-emails-1', 'partition'],
    ]);
    expect(body.actors.every((a) => a.status === 'active')).toBe(true);
    expect(body.actors[0]?.context).toMatchObject({
      owned: ['partition-emails-0', 'partition-emails-1'],
      draining: [],
      failure: null,
    });
  });

  it('summarizes a partition: window, offsets, lag, pause, restarts', async () => {
    const { app, ports } = testApp([3]);
    await settle();
    ports
      .get(3)
      ?.feed([sourceRecord(0, 'a', { text: 'one' }), sourceRecord(1, 'a', { text: 'two' })]);
    await settle();

    const body = await jsonOf<ActorSummary>(await app.request('/actors/partition-emails-3'));
    expect(body.state).toEqual({ running: { intake: 'fetching', commit: 'idle' } });
    expect(body.activeStates).toEqual([
      'running',
      'running.intake',
      'running.intake.fetching',
      'running.commit',
      'running.commit.idle',
    ]);
    expect(body.context).toMatchObject({
      topic: 'emails',
      partition: 3,
      inFlight: 2,
      window: 256,
      fetchOffset: '2',
      highWatermark: '2',
      committedOffset: null,
      // Nothing committed yet: the lag counts from where the actor started (offset 0).
      lag: 2,
      paused: false,
      pausedBy: null,
      lastError: null,
      restarts: 0,
    });
  });

  it('shows one actor in full, with its record actors and no record payload', async () => {
    const { app, ports } = testApp([0]);
    await settle();
    ports.get(0)?.feed([sourceRecord(7, 'secret-key', { text: 'secret text' })]);
    await settle();

    const response = await app.request('/actors/partition-emails-0');
    const text = await response.text();
    const body = JSON.parse(text) as { childCount: number; children: ActorSummary[] };
    expect(body.childCount).toBe(1);
    expect(body.children[0]).toMatchObject({
      id: 'partition-emails-0/record-7',
      kind: 'record',
      state: 'inferring',
      context: { offset: '7', attempts: 1 },
    });
    expect(text).not.toMatch(/secret/);
  });

  it('counts dead letters by reason from the metrics', async () => {
    const { app, supervisor, ports } = testApp([0]);
    const metrics = new Metrics(
      { partitions: () => [], queueDepth: () => 0, breakers: () => [] },
      'r1',
      'emails',
    );
    supervisor.system.inspect(metrics.inspect);
    const withMetrics = appFor(supervisor, { source: { metrics } });
    await settle();
    ports.get(0)?.feed([sourceRecord(0, 'a', '{not json'), sourceRecord(1, 'b', { text: 'ok' })]);
    await settle();
    ports.get(0)?.calls[0]?.answer.resolve(success());
    await settle();

    const counts = await jsonOf(await withMetrics.request('/dead-letters'));
    expect(counts).toMatchObject({
      topic: 'emails.dlq',
      total: 1,
      byReason: { poison: 1, 'non-retryable': 0, 'retries-exhausted': 0, deadline: 0 },
      byPartition: { 'partition-emails-0': 1 },
    });
    // Without metrics the app counts the record.settled events it saw itself.
    expect(await jsonOf(await app.request('/dead-letters'))).toMatchObject({
      byReason: { poison: 1 },
    });
  });
});

describe('HTTP API: health and metrics', () => {
  it('is live, and ready once it owns partitions', async () => {
    expect((await testApp([]).app.request('/health/live')).status).toBe(200);
    const idle = await testApp([]).app.request('/health/ready');
    expect(idle.status).toBe(503);
    expect(await idle.json()).toMatchObject({
      ready: false,
      checks: { supervisor: { ok: false, detail: 'no partition assigned yet' } },
    });
    expect((await testApp([0]).app.request('/health/ready')).status).toBe(200);
  });

  it('is not ready while a revoked partition drains', async () => {
    const { app, supervisor, ports } = testApp([0]);
    await settle();
    ports.get(0)?.feed([sourceRecord(0, 'a', { text: 'held' })]);
    await settle();
    supervisor.send({ type: 'assignment.changed', partitions: [] });
    const response = await app.request('/health/ready');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      checks: { supervisor: { detail: 'rebalancing: revoking partition-emails-0' } },
    });
  });

  it('asks the source for readiness and reuses the answer for a second', async () => {
    let calls = 0;
    const readiness = async () => {
      calls++;
      return { ready: false, checks: { redis: { ok: false, detail: 'Redis: connection end' } } };
    };
    const { app } = testApp([0], { source: { readiness } });
    const first = await app.request('/health/ready');
    await app.request('/health/ready');
    expect(first.status).toBe(503);
    expect(calls).toBe(1);
  });

  it('serves Prometheus text from the registry, 503 before there is one', async () => {
    const { supervisor } = testApp([0]);
    const metrics = new Metrics(
      {
        partitions: () => [],
        queueDepth: () => 4,
        breakers: () => [{ replica: 'http://r0', state: 'open' as const }],
      },
      'r1',
      'emails',
    );
    const response = await appFor(supervisor, { source: { metrics } }).request('/metrics');
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^tokenline_inference_queue_depth 4$/m);
    expect(text).toMatch(/^tokenline_breaker_state\{replica="http:\/\/r0"\} 2$/m);
    const none = await testApp([0]).app.request('/metrics');
    expect(none.status).toBe(503);
    expect(await none.json()).toMatchObject({ error: { code: 'unavailable' } });
  });
});

describe('HTTP API: the page', () => {
  it('serves the page and its script and style sheet with a strict content policy', async () => {
    const { app } = testApp([]);
    const page = await app.request('/');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await page.text()).toMatch(/<script src="\/web\/app.js"/);
    expect((await app.request('/web/app.js')).headers.get('content-type')).toMatch(/javascript/);
    expect((await app.request('/web/app.css')).headers.get('content-type')).toMatch(/text\/css/);
  });
});
