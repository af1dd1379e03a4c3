import type { Config } from '../config.ts';
import { logger } from '../log.ts';
import { ReplicaClient } from './replica-client.ts';

const log = logger('service');

/**
 * The model revision that goes into job ids and outputs: `model.revision`, or with 'auto' the
 * one the first replica names in `/v1/models`; 'unknown' when it does not answer in 3 s or
 * names one unfit for a job id.
 */
export async function resolveRevision(config: Config): Promise<string> {
  if (config.model.revision !== 'auto') return config.model.revision;
  const first = config.replicas[0];
  if (!first) return 'unknown';
  try {
    const revision = await new ReplicaClient(first, config.model).revision(3_000);
    return revision && /^[A-Za-z0-9._-]+$/.test(revision) ? revision : 'unknown';
  } catch (error) {
    // The message only: a timeout's DOMException would print its every constant.
    const reason = error instanceof Error ? error.message : String(error);
    log.warn({ replica: first.url, reason }, 'could not read the model revision; using "unknown"');
    return 'unknown';
  }
}
