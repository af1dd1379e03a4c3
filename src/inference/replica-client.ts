import type { Config, ReplicaConfig } from '../config.ts';
import type { TokenUsage } from '../contracts/inference.ts';
import { errorCodes, errorMessage, TokenlineError } from '../errors.ts';
import { type ApiReply, modelApis } from './model-apis.ts';
import { tokenCounter } from './token-count.ts';

export interface ReplicaAnswer {
  output: unknown;
  usage: TokenUsage;
}

export interface CallOptions {
  eventId: string;
  deadline: number;
  traceparent: string | undefined;
  /** Aborts the call, e.g. when the job is cancelled or its worker closes. */
  signal?: AbortSignal;
}

type ModelConfig = Config['model'];

/** One entry of a replica's model list. */
export interface ServedModel {
  id: string;
  revision?: string;
}

/**
 * Speaks to one replica over HTTP in the configured API (vLLM's classification, or OpenAI's
 * chat completions, completions or embeddings). Every call is bounded by the record's
 * remaining deadline, which the server is told too, and every failure becomes a
 * TokenlineError whose code carries the retry verdict.
 */
export class ReplicaClient {
  readonly url: string;
  readonly #model: ModelConfig;
  readonly modelName: string;

  constructor(replica: ReplicaConfig, model: ModelConfig) {
    this.url = replica.url.replace(/\/+$/, '');
    this.#model = model;
    this.modelName = replica.model ?? model.name;
  }

  async infer(text: string, options: CallOptions): Promise<ReplicaAnswer> {
    const api = modelApis[this.#model.api];
    const request = api.request(text, this.modelName, this.#model);
    const json = await this.#post(request.path, request.body, options);
    const reply = api.read(json);

    return { output: reply.output, usage: await this.#usage(request.prompt, reply) };
  }

  /**
   * The models the replica lists on `GET /v1/models`, with the revision where the server names
   * one (the built-in replica does; OpenAI's schema has no such field). Undefined when the
   * replica has no such route or answers something else.
   */
  async models(timeoutMs: number): Promise<ServedModel[] | undefined> {
    const response = await fetch(`${this.url}/v1/models`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return undefined;
    // A body that is not JSON means no model list; a body cut short by the timeout is a failure.
    const json = (await response.json().catch((error: unknown) => {
      if (error instanceof Error && /abort|timeout/i.test(error.name)) throw error;
      return null;
    })) as { data?: unknown } | null;
    if (!Array.isArray(json?.data)) return undefined;
    const models: ServedModel[] = [];
    for (const entry of json.data as Array<{ id?: unknown; revision?: unknown }>) {
      if (typeof entry?.id !== 'string') continue;
      const revision = typeof entry.revision === 'string' ? entry.revision : undefined;
      models.push(revision === undefined ? { id: entry.id } : { id: entry.id, revision });
    }
    return models;
  }

  /** The server's own counts where it gave them, else the configured tokenizer's. */
  async #usage(prompt: string, reply: ApiReply): Promise<TokenUsage> {
    const { promptTokens, completionTokens } = reply;
    if (promptTokens !== undefined && completionTokens !== undefined) {
      return { promptTokens, completionTokens };
    }
    const count = await tokenCounter(this.#model.tokenizer);

    return {
      promptTokens: promptTokens ?? count(prompt),
      completionTokens: completionTokens ?? count(reply.completion),
    };
  }

  async #post(path: string, body: unknown, options: CallOptions): Promise<unknown> {
    const remaining = options.deadline - Date.now();
    if (remaining <= 0)
      throw new TokenlineError(errorCodes.deadline, 'deadline passed before the call');
    const timeout = AbortSignal.timeout(remaining);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-event-id': headerSafe(options.eventId),
      'x-request-deadline': String(options.deadline),
    };
    if (options.traceparent) headers.traceparent = options.traceparent;

    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal,
      });
    } catch (error) {
      throw callError(error, timeout.aborted, this.url);
    }
    if (!response.ok) throw await statusError(response);
    try {
      return await response.json();
    } catch (error) {
      // The deadline or a cancellation can also cut the body short while it is being read.
      if (signal.aborted) throw callError(error, timeout.aborted, this.url);
      throw new TokenlineError(errorCodes.badResponse, 'replica answered with invalid JSON', {
        cause: error,
      });
    }
  }
}

function callError(error: unknown, timedOut: boolean, url: string): TokenlineError {
  if (timedOut) {
    return new TokenlineError(errorCodes.timeout, 'inference call ran past the record deadline', {
      cause: error,
    });
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return new TokenlineError(errorCodes.timeout, 'inference call was cancelled', { cause: error });
  }
  const detail = errorMessage(error);
  return new TokenlineError(errorCodes.connection, `cannot reach replica ${url}: ${detail}`, {
    cause: error,
  });
}

async function statusError(response: Response): Promise<TokenlineError> {
  const text = await response.text().catch(() => '');
  const message = `replica answered ${response.status}: ${text.slice(0, 200)}`;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const options = {
    status: response.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
  if (response.status === 429) return new TokenlineError(errorCodes.rateLimited, message, options);
  if (response.status === 408) return new TokenlineError(errorCodes.timeout, message, options);
  if (response.status >= 500) return new TokenlineError(errorCodes.replica, message, options);

  return new TokenlineError(errorCodes.validation, message, options);
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110, section 10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

// HTTP header values must be visible ASCII; an event id with other bytes travels percent-encoded
// rather than failing the call as if the replica were unreachable.
function headerSafe(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value);
}
