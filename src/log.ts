import pino from 'pino';

/** Components that log; each logger carries one of these as its `component` field. */
export type Component =
  | 'service'
  | 'supervisor'
  | 'partition'
  | 'inference'
  | 'worker'
  | 'kafka'
  | 'http'
  | 'replica';

export type Logger = pino.Logger;

// Record payloads never reach the log by default: every field that could hold one is redacted.
const redactedPaths = [
  'value',
  'key',
  'text',
  'payload',
  '*.value',
  '*.key',
  '*.text',
  '*.payload',
];

const levels = [...Object.keys(pino.levels.values), 'silent'];
// Empty counts as unset, as it does for the demo's own default.
const level = process.env.TOKENLINE_LOG_LEVEL || 'info';
if (!levels.includes(level)) {
  // Read when the first module logs, before any command can catch: stop here, as a bad
  // configuration value stops start-up everywhere else.
  const given = JSON.stringify(level.slice(0, 40));
  process.stderr.write(
    'tokenline: invalid configuration: TOKENLINE_LOG_LEVEL: ' +
      `${given} is not one of ${levels.join(', ')}\n`,
  );
  process.exit(1);
}

const root = pino({
  level,
  base: undefined,
  redact: { paths: redactedPaths, censor: '[redacted]' },
});

export function logger(component: Component): Logger {
  return root.child({ component });
}

export function setLogLevel(level: string): void {
  root.level = level;
}

/**
 * A warning that repeats (a lost Redis connection reports every reconnect attempt) is logged
 * at most once per `intervalMs`, with the number of repeats left out since the last line.
 */
export function throttledWarning(
  log: Logger,
  message: string,
  intervalMs = 10_000,
): (error: unknown, fields?: Record<string, unknown>) => void {
  let last = 0;
  let suppressed = 0;
  return (error, fields = {}) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    log.warn({ ...fields, err: error, suppressed }, message);
    last = now;
    suppressed = 0;
  };
}
