import type { Context } from 'hono';
import type * as z from 'zod';
import { type ErrorReply, invalidRequest } from './openai-error.ts';
import type { ReplicaState } from './replica-state.ts';

export type BodyResult<T> = { ok: true; body: T } | { ok: false; reply: ErrorReply };

/**
 * Reads a JSON request body against a schema. Failures become OpenAI-style 400 replies whose
 * code names the first field at fault: `missing_<field>` or `invalid_<field>`.
 */
export async function readBody<S extends z.ZodType>(
  c: Context,
  schema: S,
): Promise<BodyResult<z.output<S>>> {
  let json: unknown;
  try {
    json = JSON.parse(await c.req.text());
  } catch {
    return { ok: false, reply: invalidRequest('request body is not valid JSON', 'invalid_json') };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, body: parsed.data };

  return { ok: false, reply: schemaReply(parsed.error, json) };
}

/** The model a request names must be the one this replica serves; naming none means it. */
export function unknownModel(state: ReplicaState, model: string | undefined): ErrorReply | null {
  if (model === undefined || model === state.options.modelName) return null;

  return {
    status: 404,
    message: `The model \`${model}\` does not exist.`,
    type: 'invalid_request_error',
    code: 'model_not_found',
    param: 'model',
  };
}

function schemaReply(error: z.ZodError, json: unknown): ErrorReply {
  const issue = error.issues[0];
  const field = issue?.path.join('.') || 'body';
  const missing = issue !== undefined && valueAt(json, issue.path) === undefined;
  const message = missing ? `${field} is required` : `${field}: ${issue?.message ?? 'invalid'}`;

  return invalidRequest(message, `${missing ? 'missing' : 'invalid'}_${field}`, field);
}

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let value = json;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }

  return value;
}
