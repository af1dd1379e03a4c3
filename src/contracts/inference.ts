import type { ErrorInfo } from '../errors.ts';

/** What a partition actor asks of the replica pool for one record. */
export interface InferenceRequest {
  eventId: string;
  text: string;
  /** Epoch ms; the call's timeout is what remains of it. */
  deadline: number;
  traceparent: string | undefined;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** A model answer, as a worker stores it in the job's return value. */
export interface InferenceResult {
  /** The task's output, e.g. { label: 'spam', probs: { ham: 0.01, spam: 0.99 } }. */
  output: unknown;
  model: string;
  revision: string;
  usage: TokenUsage;
  /** Time the job waited in the queue before a worker took it. */
  queueMs: number;
  /** Time the replica took to answer. */
  serviceMs: number;
  replica: string;
}

export type InferenceOutcome =
  | { ok: true; result: InferenceResult }
  | { ok: false; error: ErrorInfo };
