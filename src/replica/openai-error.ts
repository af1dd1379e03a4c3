import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** OpenAI's error body, which vLLM and most OpenAI-compatible servers also answer with. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

export interface ErrorReply {
  status: ContentfulStatusCode;
  message: string;
  type: string;
  code: string;
  param?: string;
  /** Sent as the Retry-After header (delay-seconds), which clients read to pace retries. */
  retryAfterSeconds?: number;
}

export function invalidRequest(message: string, code: string, param?: string): ErrorReply {
  return { status: 400, message, type: 'invalid_request_error', code, param };
}

export function errorResponse(c: Context, reply: ErrorReply): Response {
  if (reply.retryAfterSeconds !== undefined) {
    c.header('Retry-After', String(reply.retryAfterSeconds));
  }
  const body: OpenAIErrorBody = {
    error: {
      message: reply.message,
      type: reply.type,
      code: reply.code,
      param: reply.param ?? null,
    },
  };

  return c.json(body, reply.status);
}
