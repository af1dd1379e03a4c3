import { parseArgs } from 'node:util';
import type { ReplicaOptions } from './options.ts';

/** Each command-line flag, the environment variable behind it, and whether it is a number. */
const settings = {
  port: { flag: 'port', env: 'REPLICA_PORT', numeric: true },
  host: { flag: 'host', env: 'REPLICA_HOST', numeric: false },
  slots: { flag: 'slots', env: 'REPLICA_SLOTS', numeric: true },
  serviceTimeMs: { flag: 'service-time-ms', env: 'REPLICA_SERVICE_TIME_MS', numeric: true },
  queueLimit: { flag: 'queue-limit', env: 'REPLICA_QUEUE_LIMIT', numeric: true },
  modelName: { flag: 'model-name', env: 'REPLICA_MODEL_NAME', numeric: false },
} as const;

type Setting = keyof typeof settings;

/**
 * Replica options from the command line, falling back to the environment; a flag wins over
 * its variable. Values are not checked here: `replicaOptionsSchema` does that in one place.
 */
export function replicaOptionsFromArgs(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): ReplicaOptions {
  const flagOptions = Object.fromEntries(
    Object.values(settings).map(({ flag }) => [flag, { type: 'string' as const }]),
  );
  const { values } = parseArgs({ args: argv, options: flagOptions, strict: true });
  const options: Record<string, string | number> = {};
  for (const [name, setting] of Object.entries(settings) as [
    Setting,
    (typeof settings)[Setting],
  ][]) {
    const raw = values[setting.flag] ?? env[setting.env];
    if (typeof raw !== 'string') continue;
    options[name] = setting.numeric ? Number(raw) : raw;
  }

  return options as ReplicaOptions;
}

/** The flags and their variables, for `--help`. */
export function replicaUsage(): string {
  const lines = Object.values(settings).map(
    ({ flag, env, numeric }) => `  --${flag} ${numeric ? 'N' : 'TEXT'}`.padEnd(28) + env,
  );
  return [
    'usage: bun src/replica/main.ts [flags]   (each flag can also come from its variable)',
    ...lines,
  ].join('\n');
}
