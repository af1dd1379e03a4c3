import { describe, expect, it } from 'vitest';
import { embed } from '../../src/replica/embeddings-route.ts';
import { createReplicaApp } from '../../src/replica/server.ts';

const app = createReplicaApp({ serviceTimeMs: 0 });

async function post(path: string, body: unknown, target = app) {
  const response = await target.request(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-event-id': 'emb-test' },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function cosine(a: number[], b: number[]): number {
  return a.reduce((sum, value, i) => sum + value * (b[i] ?? 0), 0);
}

describe('replica embeddings', () => {
  it('answers one unit vector per input in the OpenAI shape, with usage', async () => {
    const { status, body } = await post('/v1/embeddings', {
      model: 'spam-nb',
      input: ['cheap meds online now', 'the quarterly review moves to Friday'],
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      object: 'list',
      model: 'spam-nb',
      data: [
        { object: 'embedding', index: 0 },
        { object: 'embedding', index: 1 },
      ],
      usage: { prompt_tokens: 10, total_tokens: 10 },
    });
    for (const item of body.data as Array<{ embedding: number[] }>) {
      expect(item.embedding).toHaveLength(256);
      expect(Math.hypot(...item.embedding)).toBeCloseTo(1, 6);
    }
  });

  it('honours the requested dimensions and refuses base64', async () => {
    const sized = await post('/v1/embeddings', { input: 'hello there', dimensions: 16 });
    expect((sized.body.data as Array<{ embedding: number[] }>)[0]?.embedding).toHaveLength(16);
    const base64 = await post('/v1/embeddings', { input: 'hi', encoding_format: 'base64' });
    expect(base64.status).toBe(400);
  });

  it('places texts that share words closer than texts that do not', () => {
    const offer = embed('cheap meds online, cheap meds today');
    const similar = embed('buy cheap meds online');
    const unrelated = embed('the quarterly review moves to Friday');
    expect(cosine(offer, similar)).toBeGreaterThan(cosine(offer, unrelated));
    expect(embed('')).toEqual(new Array(256).fill(0));
  });

  it('records embedding requests in the request log', async () => {
    const logged = createReplicaApp({ serviceTimeMs: 0 });
    await post('/v1/embeddings', { input: 'hello' }, logged);
    const log = await logged.request('/admin/requests?eventId=emb-test');
    expect(await log.json()).toMatchObject({ data: [{ path: '/v1/embeddings', status: 200 }] });
  });
});

describe('a replica that reports no usage', () => {
  const quiet = createReplicaApp({ serviceTimeMs: 0, reportUsage: false });

  it('leaves usage out of every inference response', async () => {
    const messages = [{ role: 'user', content: 'hello' }];
    for (const [path, body] of [
      ['/classify', { input: 'hello' }],
      ['/v1/chat/completions', { messages }],
      ['/v1/completions', { prompt: 'hello' }],
      ['/v1/embeddings', { input: 'hello' }],
    ] as const) {
      const answer = await post(path, body, quiet);
      expect(answer.status).toBe(200);
      expect(answer.body).not.toHaveProperty('usage');
    }
  });
});
