import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * Codes of the HTTP API's JSON errors, `{ error: { code, message } }`. Stable: clients branch
 * on them, and the OpenAPI description lists them.
 */
export const apiErrorCodes = {
  badRequest: 'bad_request',
  badJson: 'bad_json',
  invalidBody: 'invalid_body',
  malformedId: 'malformed_id',
  unauthorized: 'unauthorized',
  controlsDisabled: 'controls_disabled',
  notFound: 'not_found',
  methodNotAllowed: 'method_not_allowed',
  conflict: 'conflict',
  unsupported: 'unsupported',
  unavailable: 'unavailable',
  internal: 'internal',
} as const;

export type ApiErrorCode = (typeof apiErrorCodes)[keyof typeof apiErrorCodes];

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string };
}

/** Thrown by a handler to answer with a JSON error; `onError` turns it into the response. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: ApiErrorCode;
  readonly headers: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    code: ApiErrorCode,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export function errorBody(code: ApiErrorCode, message: string): ApiErrorBody {
  return { error: { code, message } };
}

/** The app's `onError`: known errors keep their status; anything else is a 500, logged. */
export function errorResponse(error: Error, c: Context, onUnexpected: (error: Error) => void) {
  if (error instanceof ApiError) {
    return c.json(errorBody(error.code, error.message), error.status, error.headers);
  }
  // Hono raises these itself, e.g. for a body it cannot parse.
  if (error instanceof HTTPException && error.status < 500) {
    return c.json(errorBody(apiErrorCodes.badRequest, error.message), error.status);
  }
  onUnexpected(error);
  return c.json(errorBody(apiErrorCodes.internal, 'internal error'), 500);
}
