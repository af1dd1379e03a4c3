import type { Config } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { logger } from '../log.ts';
import { ReplicaClient, type ServedModel } from './replica-client.ts';

const log = logger('service');
const listTimeoutMs = 3_000;

/**
 * Checks at start-up that every replica that lists its models (`GET /v1/models`) lists the one
 * Tokenline will ask it for: a wrong name would otherwise only show as every record
 * dead-lettered with the replica's 404. A replica that does not answer is not checked (it may
 * come up later; its breaker handles it then).
 *
 * Returns the model revision that goes into job ids and outputs: `model.revision`, or with
 * 'auto' the one the first replica names for the model in `/v1/models`; 'unknown', with a
 * warning, when it names none fit for a job id.
 */
export async function checkModelsAndRevision(config: Config): Promise<string> {
  const listed = await Promise.all(config.replicas.map((replica) => listModels(replica, config)));
  config.replicas.forEach((replica, index) => {
    const models = listed[index];
    const name = replica.model ?? config.model.name;
    if (!models || models.length === 0 || models.some((model) => model.id === name)) return;
    const field = replica.model === undefined ? 'model.name' : `replicas.${index}.model`;
    const served = models.map((model) => JSON.stringify(model.id)).join(', ');
    throw new ConfigError(field, `replica ${replica.url} serves ${served}, not "${name}"`);
  });

  if (config.model.revision !== 'auto') return config.model.revision;
  const first = config.replicas[0];
  const name = first?.model ?? config.model.name;
  const revision = listed[0]?.find((model) => model.id === name)?.revision;
  if (revision !== undefined && /^[A-Za-z0-9._-]+$/.test(revision)) return revision;
  log.warn(
    { replica: first?.url ?? null, model: name },
    'model.revision is "auto" and the replica names no usable revision; using "unknown". ' +
      'A record seen again within queue.retainSeconds reuses the result kept for its event id, ' +
      'even after the model changed: set model.revision',
  );
  return 'unknown';
}

async function listModels(
  replica: Config['replicas'][number],
  config: Config,
): Promise<ServedModel[] | undefined> {
  try {
    return await new ReplicaClient(replica, config.model).models(listTimeoutMs);
  } catch (error) {
    // The message only: a timeout's DOMException would print its every constant.
    const reason = error instanceof Error ? error.message : String(error);
    log.warn({ replica: replica.url, reason }, "could not list the replica's models");
    return undefined;
  }
}
