import type { Context, Handler } from 'hono';
import type * as z from 'zod';
import type { Prediction } from './naive-bayes.ts';
import { errorResponse } from './openai-error.ts';
import type { ReplicaState } from './replica-state.ts';
import { readBody, unknownModel } from './request-body.ts';
import { serveInference } from './serve-inference.ts';

/** What sets one inference endpoint apart: its request shape and its response shape. */
export interface InferenceEndpoint<S extends z.ZodType> {
  request: S;
  /** The model the request names, if any, and the texts it asks to classify. */
  read(body: z.output<S>): { model: string | undefined; texts: string[] };
  respond(predictions: Prediction[], body: z.output<S>, state: ReplicaState): unknown;
}

/** Status logged and answered when the client went away before its answer (nginx's 499). */
export const clientClosedRequest = 499;

/**
 * The handler every inference endpoint shares: validate, check the model, run the texts
 * through faults and slots, answer in the endpoint's shape.
 */
export function inferenceRoute<S extends z.ZodType>(
  state: ReplicaState,
  endpoint: InferenceEndpoint<S>,
): Handler {
  return async (c: Context) => {
    const read = await readBody(c, endpoint.request);
    if (!read.ok) return errorResponse(c, read.reply);
    const { model, texts } = endpoint.read(read.body);
    const notFound = unknownModel(state, model);
    if (notFound) return errorResponse(c, notFound);

    const predict = () => texts.map((text) => state.model.predict(text));
    const served = await serveInference(state, c.req.raw.signal, texts.length, predict);
    if (served.kind === 'refused') return errorResponse(c, served.reply);
    if (served.kind === 'aborted') return new Response(null, { status: clientClosedRequest });

    const body = endpoint.respond(served.value, read.body, state);

    return c.json(state.options.reportUsage ? body : withoutUsage(body));
  };
}

function withoutUsage(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const { usage: _, ...rest } = body as Record<string, unknown>;

  return rest;
}

/** The `id` and `created` fields every OpenAI-shaped response starts with. */
export function responseIdentity(prefix: string): { id: string; created: number } {
  const id = `${prefix}-${crypto.randomUUID().replaceAll('-', '')}`;

  return { id, created: Math.floor(Date.now() / 1000) };
}

export function promptTokens(predictions: Prediction[]): number {
  return predictions.reduce((sum, prediction) => sum + prediction.tokens, 0);
}
