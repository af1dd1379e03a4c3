import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiError, apiErrorCodes } from './errors.ts';

/** Who may do what over HTTP; from the configuration's `http` section. */
export interface HttpAccess {
  /** Bearer token of the controls; without one the controls are disabled. */
  token?: string | undefined;
  /** Reads need the token too. Default false. */
  protectReads?: boolean;
}

const challenge = { 'www-authenticate': 'Bearer realm="tokenline"' };

/**
 * Guards the operator controls: 403 while no token is configured (the controls are off, and
 * no header can turn them on), 401 for a missing or wrong bearer token.
 */
export function requireControlToken(access: HttpAccess): MiddlewareHandler {
  return async (c, next) => {
    if (access.token === undefined) {
      throw new ApiError(
        403,
        apiErrorCodes.controlsDisabled,
        'controls are disabled: configure http.token (TOKENLINE_HTTP_TOKEN) to enable them',
      );
    }
    checkBearer(c.req.header('authorization'), access.token);
    await next();
  };
}

/** Guards the reads when `protectReads` is set; otherwise lets every request through. */
export function requireReadToken(access: HttpAccess): MiddlewareHandler {
  return async (c, next) => {
    if (access.protectReads && access.token !== undefined) {
      checkBearer(c.req.header('authorization'), access.token);
    }
    await next();
  };
}

function checkBearer(header: string | undefined, token: string): void {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) {
    throw new ApiError(
      401,
      apiErrorCodes.unauthorized,
      'expected an Authorization: Bearer <token> header',
      challenge,
    );
  }
  if (!sameSecret(match[1] ?? '', token)) {
    throw new ApiError(401, apiErrorCodes.unauthorized, 'wrong bearer token', challenge);
  }
}

// Digests have equal length whatever was sent, so the comparison takes the same time for a
// token that is wrong early, wrong late, or of another length.
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
