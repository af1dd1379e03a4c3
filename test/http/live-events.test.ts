import type { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import type { SourceRecord } from '../../src/contracts/source-record.ts';
import { LiveEvents, type LiveMessage } from '../../src/http/live-events.ts';
import { settle, sourceRecord, success } from '../support/machine-ports.ts';
import { testApp, withToken } from './fixtures.ts';

interface Received {
  event: string;
  data: LiveMessage;
}

/** Reads an SSE response until `done` holds for what arrived, or the time is up. */
class StreamReader {
  readonly messages: Received[] = [];
  /** Everything received so far, as sent. */
  raw = '';
  text = '';
  readonly #reader: {
    read(): Promise<{ done: boolean; value?: Uint8Array }>;
    cancel(): Promise<void>;
  };
  readonly #decoder = new TextDecoder();

  constructor(response: Response) {
    if (!response.body) throw new Error('no body');
    this.#reader = response.body.getReader();
  }

  static async open(app: Hono, query: string): Promise<StreamReader> {
    const response = await app.request(`/events${query}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    return new StreamReader(response);
  }

  async until(done: (messages: Received[]) => boolean, timeoutMs = 2_000): Promise<Received[]> {
    const end = Date.now() + timeoutMs;
    while (!done(this.messages) && Date.now() < end) {
      const chunk = await Promise.race([
        this.#reader.read(),
        Bun.sleep(end - Date.now()).then(() => null),
      ]);
      if (!chunk || chunk.done) break;
      this.#take(this.#decoder.decode(chunk.value, { stream: true }));
    }
    return this.messages;
  }

  async close(): Promise<void> {
    await this.#reader.cancel();
  }

  #take(text: string): void {
    this.text += text;
    const blocks = this.text.split('\n\n');
    this.text = blocks.pop() ?? '';
    for (const block of blocks) {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) this.messages.push({ event, data: JSON.parse(data) as LiveMessage });
      this.raw += `${block}\n\n`;
    }
  }
}

const secret = {
  key: 'key-of-alice@example.com',
  text: 'Alice wrote: wire 5000 to account 12345',
  header: 'header-text-that-must-stay-home',
};

function secretRecord(offset: number): SourceRecord {
  const record = sourceRecord(offset, secret.key, { text: secret.text });
  record.headers.set(Buffer.from('x-private'), Buffer.from(secret.header));
  return record;
}

const snapshotsOf = (messages: Received[], id: string) =>
  messages.filter((m) => m.event === 'snapshot' && m.data.id === id);

describe('live events (GET /events)', () => {
  it('starts with the current snapshot of the supervisor and every partition', async () => {
    const { app } = testApp([0, 1]);
    const stream = await StreamReader.open(app, '');
    const messages = await stream.until((m) => m.length >= 3);
    await stream.close();
    expect(messages.slice(0, 3).map((m) => [m.event, m.data.id])).toEqual([
      ['snapshot', 'supervisor'],
      ['snapshot', 'partition-emails-0'],
      ['snapshot', 'partition-emails-1'],
    ]);
  });

  it('sends the transition when an operator pauses a partition', async () => {
    const { app } = testApp([0]);
    await settle();
    const stream = await StreamReader.open(app, '?actor=partition-emails-0');
    await stream.until((m) => m.length >= 1);
    await app.request('/actors/partition-emails-0/pause', { method: 'POST', headers: withToken });

    const messages = await stream.until((m) =>
      snapshotsOf(m, 'partition-emails-0').some(
        (s) => s.data.type === 'snapshot' && s.data.activeStates.includes('running.intake.held'),
      ),
    );
    await stream.close();
    const held = snapshotsOf(messages, 'partition-emails-0').at(-1)?.data;
    expect(held).toMatchObject({
      type: 'snapshot',
      kind: 'partition',
      state: { running: { intake: 'held' } },
      cause: 'partition.pause',
      context: { pausedBy: 'operator' },
    });
    const pauseEvent = messages.find((m) => m.event === 'event');
    expect(pauseEvent?.data).toMatchObject({
      type: 'event',
      id: 'partition-emails-0',
      source: null,
      event: { type: 'partition.pause' },
    });
  });

  it('follows only the actors asked for', async () => {
    const { app } = testApp([0, 1]);
    await settle();
    const stream = await StreamReader.open(app, '?actor=partition-emails-1');
    await app.request('/actors/partition-emails-0/pause', { method: 'POST', headers: withToken });
    await app.request('/actors/partition-emails-1/pause', { method: 'POST', headers: withToken });
    const messages = await stream.until((m) => m.some((x) => x.event === 'event'));
    await stream.close();
    expect(new Set(messages.map((m) => m.data.id))).toEqual(new Set(['partition-emails-1']));
  });

  it("shows record actors on request, and never a record's key, value or headers", async () => {
    const { app, ports } = testApp([0]);
    await settle();
    const stream = await StreamReader.open(app, '?actor=partition-emails-0,partition-emails-0/*');
    ports.get(0)?.feed([secretRecord(0), secretRecord(1)]);
    await settle();
    // One key: the second record starts once the first has settled.
    for (const index of [0, 1]) {
      ports.get(0)?.calls[index]?.answer.resolve(success());
      await settle();
    }

    const messages = await stream.until((m) =>
      m.some(
        (x) =>
          x.data.type === 'snapshot' && x.data.id.endsWith('/record-1') && x.data.status === 'done',
      ),
    );
    await stream.close();
    const records = messages.filter((m) => m.data.id.startsWith('partition-emails-0/record-'));
    expect(records.length).toBeGreaterThan(2);
    expect(records.find((m) => m.event === 'snapshot')?.data).toMatchObject({ kind: 'record' });
    const fetched = messages.find(
      (m) => m.data.type === 'event' && m.data.event.type === 'xstate.done.actor.fetch',
    );
    expect(fetched?.data).toMatchObject({
      event: { output: { records: [{ offset: '0' }, { offset: '1' }] } },
    });
    for (const text of Object.values(secret)) expect(stream.raw).not.toContain(text);
    expect(stream.raw).not.toContain('x-private');
  });

  it('coalesces snapshots that change only context numbers', async () => {
    const { app, ports } = testApp([0]);
    await settle();
    const stream = await StreamReader.open(app, '?actor=partition-emails-0&types=snapshot');
    await stream.until((m) => m.length >= 1);
    const records = Array.from({ length: 200 }, (_, i) => sourceRecord(i, `k${i}`, { text: 't' }));
    ports.get(0)?.feed(records);
    await settle();
    for (const call of ports.get(0)?.calls ?? []) call.answer.resolve(success());
    await settle();
    const inFlight = (m: Received) => (m.data.type === 'snapshot' ? m.data.context.inFlight : -1);
    const messages = await stream.until(
      (m) => m.length > 1 && inFlight(m.at(-1) as Received) === 0,
    );
    await stream.close();
    // 200 admissions and 200 settlements, seen as a handful of summaries.
    expect(messages.length).toBeLessThan(20);
    expect(messages.at(-1)?.data).toMatchObject({ context: { inFlight: 0 } });
  });

  it('stops following when the client goes away', async () => {
    let open = 0;
    const subscribe = LiveEvents.prototype.subscribe;
    const spy = vi.spyOn(LiveEvents.prototype, 'subscribe').mockImplementation(function (
      this: LiveEvents,
      filter,
      deliver,
    ) {
      open++;
      const unsubscribe = subscribe.call(this, filter, deliver);
      return () => {
        open--;
        unsubscribe();
      };
    });
    const { app } = testApp([0]);
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch });
    try {
      const controller = new AbortController();
      const response = await fetch(new URL('/events', server.url), { signal: controller.signal });
      await response.body?.getReader().read();
      expect(open).toBe(1);
      controller.abort();
      const end = Date.now() + 2_000;
      while (open > 0 && Date.now() < end) await Bun.sleep(20);
      expect(open).toBe(0);
    } finally {
      spy.mockRestore();
      await server.stop(true);
    }
  });
});
