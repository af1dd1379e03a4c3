import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/metrics.ts';
import { settle } from '../support/machine-ports.ts';
import { appFor, runningSupervisor, testToken } from './fixtures.ts';

/** Values each path parameter is tried with: malformed, unknown, oversized, encoded tricks. */
const parameterValues = [
  'bad id!',
  'partition-nope-9',
  'x'.repeat(400),
  '..',
  '%00',
  'supervisor',
  'partition-emails-0',
  'partition',
];

const authorizations: Array<Record<string, string>> = [
  {},
  { authorization: 'Bearer wrong-token-0000000000' },
  { authorization: `Bearer ${testToken}` },
];
const bodies = [undefined, '{"window": ', '[]', '{}', 'null', '{"window": 4, "reason": "poison"}'];

function sweepApp() {
  const { supervisor } = runningSupervisor([0]);
  const metrics = new Metrics(
    { partitions: () => [], queueDepth: () => 0, breakers: () => [] },
    'r1',
    'emails',
  );
  const redriveDeadLetters = async () => ({
    deadLetterTopic: 'emails.dlq',
    inputTopic: 'emails',
    reason: null,
    dropDeadline: false,
    redriven: 0,
    skipped: 0,
    valueDropped: 0,
    partitions: [],
  });
  return appFor(supervisor, { source: { metrics, redriveDeadLetters } });
}

function concretePaths(path: string): string[] {
  if (!path.includes(':')) return [path];
  return parameterValues.map((value) =>
    path.replace(/:[A-Za-z]+/g, encodeURIComponent(value).replaceAll('.', '%2E')),
  );
}

async function expectJsonError(response: Response, label: string): Promise<void> {
  expect(response.status, label).toBeGreaterThanOrEqual(400);
  expect(response.status, label).toBeLessThan(500);
  const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code, label).toBe('string');
  expect(typeof body.error?.message, label).toBe('string');
}

describe('errors on every route', () => {
  it('answers every registered route, whatever the id, token or body, without a 5xx', async () => {
    const app = sweepApp();
    await settle();
    const routes = app.routes.filter((route) => route.method !== 'ALL');
    expect(routes.length).toBeGreaterThan(15);

    for (const route of routes) {
      for (const path of concretePaths(route.path)) {
        for (const headers of authorizations) {
          for (const body of route.method === 'GET' ? [undefined] : bodies) {
            const label = `${route.method} ${path} ${JSON.stringify(headers)} ${body}`;
            const init: RequestInit = { method: route.method, headers };
            if (body !== undefined) init.body = body;
            const response = await app.request(path, init);
            if (response.status >= 400) await expectJsonError(response, label);
            else await response.body?.cancel();
            expect(response.status, label).toBeLessThan(500);
          }
        }
      }
    }
  });

  it('answers 405 with Allow for a known path under another method', async () => {
    const app = sweepApp();
    for (const [method, path, allow] of [
      ['DELETE', '/actors/partition-emails-0', 'GET, HEAD'],
      ['PUT', '/actors/partition-emails-0/window', 'POST'],
      ['GET', '/actors/partition-emails-0/pause', 'POST'],
      ['POST', '/machines/partition', 'GET, HEAD'],
      ['PATCH', '/health/ready', 'GET, HEAD'],
      ['GET', '/dead-letters/redrive', 'POST'],
    ] as const) {
      const response = await app.request(path, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow')).toBe(allow);
      expect(await response.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
    }
  });

  it('answers 404 with a JSON error for an unknown route, actor or machine', async () => {
    const app = sweepApp();
    for (const path of [
      '/nowhere',
      '/actors/partition-nope-9',
      '/machines/nope',
      '/actors/a/b/c',
    ]) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });

  it('answers 400 malformed_id for an id with characters no actor id has', async () => {
    const app = sweepApp();
    for (const path of ['/actors/bad%20id', `/actors/${'x'.repeat(301)}`, '/machines/1abc']) {
      const response = await app.request(path);
      expect(response.status, path).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'malformed_id' } });
    }
  });

  it('answers 400 for a malformed live-events filter', async () => {
    const app = sweepApp();
    for (const query of ['actor=%3Cscript%3E', 'types=everything', 'types=']) {
      const response = await app.request(`/events?${query}`);
      expect(response.status, query).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'bad_request' } });
    }
  });
});
