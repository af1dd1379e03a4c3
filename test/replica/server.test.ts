import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitCorpus } from '../../src/replica/corpus.ts';
import type { ReplicaOptions } from '../../src/replica/options.ts';
import { createReplicaApp, type RunningReplica, startReplica } from '../../src/replica/server.ts';

const spam = splitCorpus().heldOut.find((email) => email.label === 'spam');

function post(app: Hono, path: string, body: unknown, init: RequestInit = {}) {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = { 'content-type': 'application/json', ...init.headers };

  return app.request(path, { ...init, method: 'POST', body: payload, headers });
}

function fastApp(options: ReplicaOptions = {}): Hono {
  return createReplicaApp({ serviceTimeMs: 0, ...options });
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe('replica API shapes', () => {
  const app = fastApp();

  it('answers health and lists its one model with the revision', async () => {
    expect((await app.request('/health')).status).toBe(200);
    const models = await json(await app.request('/v1/models'));
    expect(models).toMatchObject({
      object: 'list',
      data: [{ id: 'spam-nb', object: 'model', revision: expect.stringMatching(/^[0-9a-f]{12}$/) }],
    });
  });

  it('classifies like vLLM: a label and [ham, spam] probabilities per input', async () => {
    const response = await post(app, '/classify', { model: 'spam-nb', input: spam?.text });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({
      id: expect.stringMatching(/^classify-/),
      object: 'list',
      model: 'spam-nb',
      revision: expect.stringMatching(/^[0-9a-f]{12}$/),
      data: [{ index: 0, label: 'spam', num_classes: 2 }],
      usage: { completion_tokens: 0 },
    });
    const [first] = body.data as Array<{ probs: number[] }>;
    expect(first?.probs[1]).toBeGreaterThan(0.5);
    const usage = body.usage as { prompt_tokens: number; total_tokens: number };
    expect(usage.prompt_tokens).toBeGreaterThan(10);
    expect(usage.total_tokens).toBe(usage.prompt_tokens);
  });

  it('classifies a batch of inputs in order', async () => {
    const body = await json(await post(app, '/classify', { input: [spam?.text, 'hi Bob'] }));
    const data = body.data as Array<{ index: number; label: string }>;
    expect(data.map((item) => item.index)).toEqual([0, 1]);
    expect(data[0]?.label).toBe('spam');
  });

  it('answers chat completions with the label as the message content', async () => {
    const messages = [{ role: 'user', content: `Classify this email.\n\n${spam?.text}` }];
    const body = await json(
      await post(app, '/v1/chat/completions', { model: 'spam-nb', messages }),
    );
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'spam-nb',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'spam' }, finish_reason: 'stop' },
      ],
      usage: { completion_tokens: 1 },
    });
  });

  it('classifies the last user message of a chat, not the system prompt', async () => {
    const messages = [
      { role: 'system', content: 'You sort mail. Answer spam or ham.' },
      { role: 'user', content: [{ type: 'text', text: spam?.text }] },
    ];
    const body = await json(await post(app, '/v1/chat/completions', { messages }));
    const hamOnly = await json(
      await post(app, '/v1/chat/completions', { messages: [messages[0]] }),
    );
    expect(body).toMatchObject({ choices: [{ message: { content: 'spam' } }] });
    expect((body.usage as { prompt_tokens: number }).prompt_tokens).toBeGreaterThan(
      (hamOnly.usage as { prompt_tokens: number }).prompt_tokens,
    );
  });

  it('answers completions with one choice per prompt', async () => {
    const body = await json(await post(app, '/v1/completions', { prompt: ['one', 'two'] }));
    expect(body).toMatchObject({ object: 'text_completion', usage: { completion_tokens: 2 } });
    expect(body.choices).toHaveLength(2);
  });
});

describe('replica request validation', () => {
  const app = fastApp();

  it('answers 400 with an OpenAI-style error for a body that is not JSON', async () => {
    const response = await post(app, '/classify', '{"input": ');
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({
      error: {
        message: expect.any(String),
        type: 'invalid_request_error',
        code: 'invalid_json',
        param: null,
      },
    });
  });

  it('answers 400 naming the missing field', async () => {
    const response = await post(app, '/classify', { model: 'spam-nb' });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({
      error: { type: 'invalid_request_error', code: 'missing_input', param: 'input' },
    });
  });

  it('answers 404 for a model it does not serve', async () => {
    const response = await post(app, '/v1/chat/completions', {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(404);
    expect(await json(response)).toMatchObject({ error: { code: 'model_not_found' } });
  });

  it('refuses streaming, which it does not implement', async () => {
    const messages = [{ role: 'user', content: 'hi' }];
    const response = await post(app, '/v1/chat/completions', { messages, stream: true });
    expect(response.status).toBe(400);
  });
});

describe('replica slots', () => {
  it('serves at most `slots` requests at once; the rest wait their turn', async () => {
    const app = fastApp({ slots: 2, serviceTimeMs: 100 });
    const started = performance.now();
    const finished = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const response = await post(app, '/classify', { input: 'hello' });
        expect(response.status).toBe(200);
        return performance.now() - started;
      }),
    );
    const sorted = finished.sort((a, b) => a - b);
    // Three rounds of two: each pair ends about one service time after the one before.
    expect(sorted[1]).toBeLessThan(sorted[2] as number);
    expect(sorted[3]).toBeLessThan(sorted[4] as number);
    expect(sorted[5]).toBeGreaterThanOrEqual(290);
  });

  it('answers 429 with Retry-After once the queue is full', async () => {
    const app = fastApp({ slots: 1, queueLimit: 1, serviceTimeMs: 200 });
    const responses = await Promise.all(
      [1, 2, 3].map(() => post(app, '/classify', { input: 'hello' })),
    );
    expect(responses.map((response) => response.status).sort()).toEqual([200, 200, 429]);
    const refused = responses.find((response) => response.status === 429);
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('frees a queued place when its client gives up', async () => {
    const app = fastApp({ slots: 1, queueLimit: 1, serviceTimeMs: 200 });
    const first = post(app, '/classify', { input: 'hello' });
    const controller = new AbortController();
    const gaveUp = post(app, '/classify', { input: 'hello' }, { signal: controller.signal });
    await Bun.sleep(20);
    controller.abort();
    expect((await gaveUp).status).toBe(499);
    expect((await post(app, '/classify', { input: 'hello' })).status).toBe(200);
    expect((await first).status).toBe(200);
  });
});

describe('replica faults', () => {
  it('answers 503 with Retry-After during an outage set at runtime, then recovers', async () => {
    const app = fastApp();
    const outage = { outageUntil: Date.now() + 60_000 };
    const put = await app.request('/admin/faults', { method: 'PUT', body: JSON.stringify(outage) });
    expect(await json(put)).toMatchObject({ outageUntil: outage.outageUntil, hang: false });

    const refused = await post(app, '/classify', { input: 'hello' });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(50);

    await app.request('/admin/faults', { method: 'PUT', body: '{}' });
    expect((await post(app, '/classify', { input: 'hello' })).status).toBe(200);
  });

  it('injects errors with the configured status', async () => {
    const app = fastApp({ faults: { errorRate: 1, errorStatus: 500 } });
    expect((await post(app, '/classify', { input: 'hello' })).status).toBe(500);
  });

  it('rejects unknown fault settings with 400', async () => {
    const body = JSON.stringify({ errorStatus: 404 });
    const response = await fastApp().request('/admin/faults', { method: 'PUT', body });
    expect(response.status).toBe(400);
  });

  it('hangs until the client aborts, and counts the abort', async () => {
    const app = fastApp({ faults: { hang: true } });
    const controller = new AbortController();
    const hung = post(app, '/classify', { input: 'hello' }, { signal: controller.signal });
    await Bun.sleep(30);
    expect(await json(await app.request('/admin/stats'))).toMatchObject({ hanging: 1 });

    controller.abort();
    expect((await hung).status).toBe(499);
    expect(await json(await app.request('/admin/stats'))).toMatchObject({ hanging: 0, aborted: 1 });
  });
});

describe('replica request log', () => {
  it('records each inference request with its event id, until cleared', async () => {
    const app = fastApp();
    const asEvent = (eventId: string) => ({ headers: { 'x-event-id': eventId } });
    await post(app, '/classify', { input: 'a' }, asEvent('sa-spam-1-00001'));
    await post(app, '/classify', { input: 'a' }, asEvent('sa-spam-1-00001'));
    await post(app, '/classify', { model: 'nope', input: 'a' }, asEvent('sa-ham'));
    await app.request('/health');

    const log = await json(await app.request('/admin/requests?eventId=sa-spam-1-00001'));
    expect(log.data).toEqual([
      expect.objectContaining({ eventId: 'sa-spam-1-00001', path: '/classify', status: 200 }),
      expect.objectContaining({ eventId: 'sa-spam-1-00001', status: 200 }),
    ]);
    const all = await json(await app.request('/admin/requests'));
    expect(all.data).toHaveLength(3);

    const cleared = await app.request('/admin/requests', { method: 'DELETE' });
    expect(await json(cleared)).toEqual({ cleared: 3 });
    expect((await json(await app.request('/admin/requests'))).data).toEqual([]);
  });
});

describe('a started replica', () => {
  let replica: RunningReplica;

  beforeAll(async () => {
    replica = await startReplica({ port: 0, serviceTimeMs: 1 });
  });

  afterAll(async () => {
    await replica.stop();
  });

  it('listens on 127.0.0.1 and serves over HTTP', async () => {
    expect(replica.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${replica.url}/classify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-event-id': 'e-1' },
      body: JSON.stringify({ input: spam?.text }),
    });
    expect(await json(response)).toMatchObject({ revision: replica.revision });
    expect(replica.requests('e-1')).toHaveLength(1);
  });

  it('frees a hung request when its HTTP client disconnects', async () => {
    replica.setFaults({ hang: true });
    const controller = new AbortController();
    const hung = fetch(`${replica.url}/classify`, {
      method: 'POST',
      body: JSON.stringify({ input: 'hello' }),
      signal: controller.signal,
    }).catch((error: Error) => error.name);
    await Bun.sleep(50);
    expect(replica.stats().hanging).toBe(1);

    controller.abort();
    expect(await hung).toBe('AbortError');
    await Bun.sleep(50);
    expect(replica.stats()).toMatchObject({ hanging: 0, aborted: 1 });
    replica.setFaults({});
  });
});
