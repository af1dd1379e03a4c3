import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { TokenlineError } from '../../src/errors.ts';
import { type CallOptions, ReplicaClient } from '../../src/inference/replica-client.ts';
import { tokenCounter } from '../../src/inference/token-count.ts';
import { splitCorpus } from '../../src/replica/corpus.ts';
import { type RunningReplica, startReplica } from '../../src/replica/server.ts';

const spam = splitCorpus().heldOut.find((email) => email.label === 'spam')?.text ?? '';

function clientFor(replica: RunningReplica, model: Record<string, unknown>): ReplicaClient {
  const config = parseConfig({ model });
  return new ReplicaClient({ url: replica.url, slots: 4 }, config.model);
}

function call(eventId: string, deadlineInMs = 10_000): CallOptions {
  return { eventId, deadline: Date.now() + deadlineInMs, traceparent: undefined };
}

async function failure(promise: Promise<unknown>): Promise<TokenlineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TokenlineError)) throw new Error(`expected a TokenlineError: ${error}`);
  return error;
}

describe('replica client, one API at a time, against the built-in replica', () => {
  let replica: RunningReplica;
  let quiet: RunningReplica;

  beforeAll(async () => {
    replica = await startReplica({ port: 0, serviceTimeMs: 0 });
    quiet = await startReplica({ port: 0, serviceTimeMs: 0, reportUsage: false });
  });

  afterAll(async () => {
    await replica.stop();
    await quiet.stop();
  });

  it("classifies with vLLM's /classify and carries the server's token usage", async () => {
    const answer = await clientFor(replica, { api: 'classify' }).infer(spam, call('c-1'));
    expect(answer.output).toMatchObject({
      label: 'spam',
      probs: [expect.any(Number), expect.any(Number)],
    });
    expect(answer.usage.promptTokens).toBeGreaterThan(10);
    expect(answer.usage.completionTokens).toBe(0);
    expect(replica.requests('c-1')).toMatchObject([{ path: '/classify', status: 200 }]);
  });

  it('asks chat completions with the prompt template and reads the label and usage', async () => {
    const client = clientFor(replica, { api: 'chat', promptTemplate: 'Spam or ham?\n\n{{text}}' });
    const answer = await client.infer(spam, call('chat-1'));
    expect(answer.output).toEqual({ label: 'spam' });
    expect(answer.usage).toMatchObject({ completionTokens: 1 });
    expect(replica.requests('chat-1')).toMatchObject([{ path: '/v1/chat/completions' }]);
  });

  it('asks legacy completions and reads the label and usage', async () => {
    const answer = await clientFor(replica, { api: 'completions' }).infer(spam, call('cmpl-1'));
    expect(answer.output).toEqual({ label: 'spam' });
    expect(answer.usage.promptTokens).toBeGreaterThan(10);
    expect(answer.usage.completionTokens).toBe(1);
    expect(replica.requests('cmpl-1')).toMatchObject([{ path: '/v1/completions', status: 200 }]);
  });

  it('asks for an embedding and returns the unit vector as the output', async () => {
    const client = clientFor(replica, { api: 'embeddings' });
    const answer = await client.infer(spam, call('emb-1'));
    const { embedding } = answer.output as { embedding: number[] };
    expect(embedding).toHaveLength(256);
    expect(Math.hypot(...embedding)).toBeCloseTo(1, 6);
    expect(answer.usage).toMatchObject({ completionTokens: 0 });
    expect(answer.usage.promptTokens).toBeGreaterThan(10);

    const again = await client.infer(spam, call('emb-2'));
    expect(again.output).toEqual(answer.output);
    expect(replica.requests('emb-1')).toMatchObject([{ path: '/v1/embeddings', status: 200 }]);
  });

  it('counts tokens with the tokenizer when the server reports no usage', async () => {
    const template = 'Classify this email as spam or ham.\n\n{{text}}';
    const count = await tokenCounter('cl100k_base');
    const prompt = template.replace('{{text}}', () => spam);

    const chat = await clientFor(quiet, { api: 'chat', promptTemplate: template }).infer(
      spam,
      call('quiet-chat'),
    );
    expect(chat.usage).toEqual({ promptTokens: count(prompt), completionTokens: count('spam') });

    const completion = await clientFor(quiet, {
      api: 'completions',
      promptTemplate: template,
    }).infer(spam, call('quiet-cmpl'));
    expect(completion.usage).toEqual(chat.usage);

    const embedding = await clientFor(quiet, { api: 'embeddings' }).infer(spam, call('quiet-emb'));
    expect(embedding.usage).toEqual({ promptTokens: count(spam), completionTokens: 0 });

    const o200k = await tokenCounter('o200k_base');
    const classify = await clientFor(quiet, { api: 'classify', tokenizer: 'o200k_base' }).infer(
      spam,
      call('quiet-cls'),
    );
    expect(classify.usage).toEqual({ promptTokens: o200k(spam), completionTokens: 0 });
  });

  it('maps 503 with Retry-After, 429 and an unknown model onto error codes and verdicts', async () => {
    const client = clientFor(replica, { api: 'classify' });
    replica.setFaults({ errorRate: 1, errorStatus: 503, retryAfterSeconds: 2 });
    expect(await failure(client.infer('x', call('e-503')))).toMatchObject({
      code: 'TL_REPLICA',
      retryable: true,
      status: 503,
      retryAfterMs: 2_000,
    });
    replica.setFaults({ errorRate: 1, errorStatus: 429 });
    expect(await failure(client.infer('x', call('e-429')))).toMatchObject({
      code: 'TL_RATE_LIMITED',
      retryable: true,
    });
    replica.setFaults({});

    const wrongModel = clientFor(replica, { api: 'classify', name: 'no-such-model' });
    expect(await failure(wrongModel.infer('x', call('e-404')))).toMatchObject({
      code: 'TL_VALIDATION',
      retryable: false,
      status: 404,
    });
  });

  it('gives up on a hanging replica at the deadline, and the replica sees the client leave', async () => {
    replica.setFaults({ hang: true });
    try {
      const started = Date.now();
      const error = await failure(
        clientFor(replica, { api: 'classify' }).infer('x', call('hang-1', 300)),
      );
      const elapsed = Date.now() - started;
      expect(error).toMatchObject({ code: 'TL_TIMEOUT', retryable: true });
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(1_500);
      await waitForLog(replica, 'hang-1');
      expect(replica.requests('hang-1')).toMatchObject([{ status: 499 }]);
      expect(replica.stats().hanging).toBe(0);
    } finally {
      replica.setFaults({});
    }
  });

  it('aborts a call whose signal is cancelled before the deadline', async () => {
    replica.setFaults({ hang: true });
    try {
      const cancel = new AbortController();
      setTimeout(() => cancel.abort(), 100);
      const error = await failure(
        clientFor(replica, { api: 'chat' }).infer('x', {
          ...call('cancel-1'),
          signal: cancel.signal,
        }),
      );
      expect(error).toMatchObject({ code: 'TL_TIMEOUT', message: 'inference call was cancelled' });
      await waitForLog(replica, 'cancel-1');
      expect(replica.requests('cancel-1')).toMatchObject([{ status: 499 }]);
    } finally {
      replica.setFaults({});
    }
  });

  it('does not call at all once the deadline has passed', async () => {
    const error = await failure(clientFor(replica, {}).infer('x', call('late-1', -1)));
    expect(error).toMatchObject({ code: 'TL_DEADLINE', retryable: false });
    expect(replica.requests('late-1')).toHaveLength(0);
  });
});

describe('replica client headers', () => {
  it('sends the event id, the deadline and the trace context with each call', async () => {
    let seen: Headers | undefined;
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (req) => {
        seen = req.headers;
        return Response.json({ data: [{ label: 'ham', probs: [0.9, 0.1] }] });
      },
    });
    try {
      const config = parseConfig({});
      const client = new ReplicaClient(
        { url: `http://127.0.0.1:${server.port}/`, slots: 1 },
        config.model,
      );
      const deadline = Date.now() + 5_000;
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      await client.infer('hello', { eventId: 'h-1', deadline, traceparent });
      expect(seen?.get('x-event-id')).toBe('h-1');
      expect(seen?.get('x-request-deadline')).toBe(String(deadline));
      expect(seen?.get('traceparent')).toBe(traceparent);
    } finally {
      await server.stop(true);
    }
  });
});

async function waitForLog(replica: RunningReplica, eventId: string): Promise<void> {
  const end = Date.now() + 2_000;
  while (replica.requests(eventId).length === 0 && Date.now() < end) await Bun.sleep(10);
}

describe('replica client with an event id that is not header-safe', () => {
  it('sends it percent-encoded instead of failing the call', async () => {
    const replica = await startReplica({ port: 0, serviceTimeMs: 0 });
    try {
      const id = Buffer.from([0xff, 0xfe, 0x3a]).toString('utf8');
      const answer = await clientFor(replica, { api: 'classify' }).infer('hello', call(id));
      expect(answer.output).toMatchObject({ label: expect.any(String) });
      expect(replica.requests(encodeURIComponent(id))).toHaveLength(1);
    } finally {
      await replica.stop();
    }
  });
});
