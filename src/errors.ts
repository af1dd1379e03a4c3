/**
 * Every error Tokenline raises carries a stable code and a retry verdict. Machines decide
 * between retry and dead letter by reading `retryable`, never by matching a message.
 *
 * Codes (stable; documented in docs/errors.md):
 * - TL_CONFIG        invalid configuration (start-up stops)
 * - TL_UNREACHABLE   Kafka or Redis did not answer at start-up
 * - TL_DECODE        the record's value cannot be decoded per the task (poison)
 * - TL_VALIDATION    the decoded record or the replica rejected the request (4xx)
 * - TL_TIMEOUT       the inference call ran past its deadline or timeout
 * - TL_CONNECTION    the replica refused or reset the connection
 * - TL_RATE_LIMITED  the replica answered 429
 * - TL_REPLICA       the replica answered 5xx
 * - TL_DEADLINE      the record's deadline passed before it could be completed
 * - TL_BAD_RESPONSE  the replica answered 2xx with a body we cannot read
 * - TL_PRODUCE       writing to the output or dead-letter topic failed
 * - TL_TOO_LARGE     a result or dead letter is larger than the topic accepts
 * - TL_COMMIT        committing offsets failed
 * - TL_INTERNAL      a bug or an unexpected failure
 */
export const errorCodes = {
  config: 'TL_CONFIG',
  unreachable: 'TL_UNREACHABLE',
  decode: 'TL_DECODE',
  validation: 'TL_VALIDATION',
  timeout: 'TL_TIMEOUT',
  connection: 'TL_CONNECTION',
  rateLimited: 'TL_RATE_LIMITED',
  replica: 'TL_REPLICA',
  deadline: 'TL_DEADLINE',
  badResponse: 'TL_BAD_RESPONSE',
  produce: 'TL_PRODUCE',
  tooLarge: 'TL_TOO_LARGE',
  commit: 'TL_COMMIT',
  internal: 'TL_INTERNAL',
} as const;

export type ErrorCode = (typeof errorCodes)[keyof typeof errorCodes];

const retryableCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  errorCodes.timeout,
  errorCodes.connection,
  errorCodes.rateLimited,
  errorCodes.replica,
  errorCodes.produce,
  errorCodes.commit,
]);

/** Plain-data form of an error, safe to send through Redis and to put in headers. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  /** Delay the server asked for (Retry-After), in milliseconds. */
  retryAfterMs?: number;
  /** HTTP status from the replica, when there was one. */
  status?: number;
}

export class TokenlineError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterMs?: number; status?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'TokenlineError';
    this.code = code;
    this.retryable = retryableCodes.has(code);
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }

  toInfo(): ErrorInfo {
    const info: ErrorInfo = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.retryAfterMs !== undefined) info.retryAfterMs = this.retryAfterMs;
    if (this.status !== undefined) info.status = this.status;
    return info;
  }
}

export class ConfigError extends TokenlineError {
  readonly field: string;

  constructor(field: string, message: string) {
    super(errorCodes.config, `invalid configuration: ${field}: ${message}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}

/**
 * The message of anything thrown. The message only: a timeout's DOMException, logged whole,
 * would print its every constant.
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Turns anything thrown into an ErrorInfo; unknown failures are internal and not retryable. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof TokenlineError) return error.toInfo();
  return { code: errorCodes.internal, message: errorMessage(error), retryable: false };
}

export function isRetryableCode(code: ErrorCode): boolean {
  return retryableCodes.has(code);
}
