import type { Redis } from 'ioredis';
import { logger } from '../log.ts';

/** The events of a BullMQ queue that end a gateway's wait for a job. */
export type JobEvent =
  | { event: 'completed'; jobId: string; returnvalue: string }
  | { event: 'failed'; jobId: string; failedReason: string }
  | { event: 'duplicated'; jobId: string };

export interface JobEventsOptions {
  /** A connection for this reader alone: a blocking XREAD holds it. */
  redis: Redis;
  /** The queue's event stream, `<prefix>:<queue>:events`. */
  key: string;
  /** Pause after a read that brought events, so that the next read brings more. */
  lingerMs: number;
  onEvent(event: JobEvent): void;
}

/** Longest a read waits for the first event; a closing reader is interrupted at once. */
const blockMs = 5_000;
const maxEventsPerRead = 1_000;
const retryAfterErrorMs = 500;

const log = logger('inference');

/**
 * Follows a queue's event stream (BullMQ writes one entry per job state change) and hands on
 * the events that end a wait. BullMQ's QueueEvents reads again the moment an event arrives,
 * so with few jobs in flight every job's `waiting`, `active` and `completed` entries cost a
 * round trip each; lingering a moment after each read lets them arrive together instead.
 */
export class JobEvents {
  readonly #options: JobEventsOptions;
  #lastId = '0-0';
  #closing = false;
  #loop: Promise<void> | null = null;

  constructor(options: JobEventsOptions) {
    this.#options = options;
    // Failures surface as rejected reads below; the connection's own error events add nothing.
    options.redis.on('error', () => undefined);
  }

  /** Starts after the newest entry there is now: older ones ended earlier waits. */
  async start(): Promise<void> {
    const { redis, key } = this.#options;
    const [newest] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
    this.#lastId = newest?.[0] ?? '0-0';
    this.#loop = this.#follow();
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#options.redis.disconnect();
    await this.#loop;
  }

  async #follow(): Promise<void> {
    const { redis, key, lingerMs } = this.#options;
    while (!this.#closing) {
      let entries: Array<[string, string[]]> = [];
      try {
        const reply = await redis.xread(
          'COUNT',
          maxEventsPerRead,
          'BLOCK',
          blockMs,
          'STREAMS',
          key,
          this.#lastId,
        );
        entries = reply?.[0]?.[1] ?? [];
      } catch (error) {
        if (this.#closing) return;
        log.warn({ err: error }, 'reading queue events failed; reading again');
        await Bun.sleep(retryAfterErrorMs);
        continue;
      }
      for (const [id, fields] of entries) {
        this.#lastId = id;
        this.#dispatch(fields);
      }
      if (entries.length > 0 && lingerMs > 0) await Bun.sleep(lingerMs);
    }
  }

  #dispatch(fields: string[]): void {
    // Four entries per job reach here, and only one ends a wait: read the fields in place.
    let event: string | undefined;
    let jobId: string | undefined;
    let detail = '';
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i];
      if (name === 'event') event = fields[i + 1];
      else if (name === 'jobId') jobId = fields[i + 1];
      else if (name === 'returnvalue' || name === 'failedReason') detail = fields[i + 1] ?? '';
    }
    if (jobId === undefined) return;
    if (event === 'completed') {
      this.#options.onEvent({ event, jobId, returnvalue: detail });
    } else if (event === 'failed') {
      this.#options.onEvent({ event, jobId, failedReason: detail });
    } else if (event === 'duplicated') {
      this.#options.onEvent({ event, jobId });
    }
  }
}
