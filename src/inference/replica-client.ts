import type { Config, ReplicaConfig } from '../config.ts';
import type { TokenUsage } from '../contracts/inference.ts';
import { errorCodes, TokenlineError } from '../errors.ts';

export interface ReplicaAnswer {
  output: unknown;
  usage: TokenUsage;
  revision: string | undefined;
}

export interface CallOptions {
  eventId: string;
  deadline: number;
  traceparent: string | undefined;
  signal?: AbortSignal;
}

type ModelConfig = Config['model'];

/**
 * Speaks to one replica over HTTP: vLLM's classification endpoint or OpenAI chat completions.
 * Every call is bounded by the record's remaining deadline, and every failure becomes a
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
    const body =
      this.#model.api === 'classify'
        ? { model: this.modelName, input: text }
        : {
            model: this.modelName,
            messages: [
              { role: 'user', content: this.#model.promptTemplate.replace('{{text}}', text) },
            ],
            max_tokens: 8,
            temperature: 0,
          };
    const path = this.#model.api === 'classify' ? '/classify' : '/v1/chat/completions';
    const json = await this.#post(path, body, options);

    return this.#model.api === 'classify' ? readClassify(json) : readChat(json);
  }

  /** Asks the replica which revision of the model it serves (`revision` on /v1/models). */
  async revision(timeoutMs: number): Promise<string | undefined> {
    const response = await fetch(`${this.url}/v1/models`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return undefined;
    const json = (await response.json()) as { data?: Array<{ id?: string; revision?: string }> };
    const entry = json.data?.find((m) => m.id === this.modelName) ?? json.data?.[0];
    return entry?.revision;
  }

  async #post(path: string, body: unknown, options: CallOptions): Promise<unknown> {
    const remaining = options.deadline - Date.now();
    if (remaining <= 0)
      throw new TokenlineError(errorCodes.deadline, 'deadline passed before the call');
    const timeout = AbortSignal.timeout(remaining);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-event-id': options.eventId,
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
  const detail = error instanceof Error ? error.message : String(error);
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

interface ClassifyResponse {
  data?: Array<{ label?: unknown; probs?: unknown }>;
  usage?: { prompt_tokens?: number };
  revision?: string;
}

function readClassify(json: unknown): ReplicaAnswer {
  const body = json as ClassifyResponse;
  const first = body?.data?.[0];
  if (!first || typeof first.label !== 'string') {
    throw new TokenlineError(errorCodes.badResponse, 'classify response has no label');
  }
  return {
    output: { label: first.label, probs: first.probs },
    usage: { promptTokens: body.usage?.prompt_tokens ?? 0, completionTokens: 0 },
    revision: body.revision,
  };
}

interface ChatResponse {
  choices?: Array<{ message?: { content?: unknown } }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

function readChat(json: unknown): ReplicaAnswer {
  const body = json as ChatResponse;
  const content = body?.choices?.[0]?.message?.content;
  if (typeof content !== 'string') {
    throw new TokenlineError(errorCodes.badResponse, 'chat response has no message content');
  }
  return {
    output: { label: content.trim().toLowerCase() },
    usage: {
      promptTokens: body.usage?.prompt_tokens ?? 0,
      completionTokens: body.usage?.completion_tokens ?? 0,
    },
    revision: undefined,
  };
}
