import type { Config } from '../config.ts';
import { ConfigError, errorCodes, errorMessage, TokenlineError } from '../errors.ts';
import { logger } from '../log.ts';
import { ReplicaClient, type ServedModel } from './replica-client.ts';

const log = logger('service');
const checkTimeoutMs = 3_000;

/**
 * Checks at start-up that each replica takes the model name Tokenline will send it: a wrong
 * name would otherwise only show as every record dead-lettered with the replica's 404. A
 * replica that lists the name on `GET /v1/models` passes. One that lists other models may
 * still take the name (TGI takes any; Ollama takes `llama3` for `llama3:latest`), so it is
 * asked once for a one-word inference: a 4xx answer stops start-up naming the field, any other
 * failure only warns. A replica that does not answer is not checked (it may come up later; its
 * breaker handles it then).
 *
 * Returns each replica's model list (undefined where there was none) for `resolveRevision`.
 */
export async function checkModels(config: Config): Promise<Array<ServedModel[] | undefined>> {
  const clients = config.replicas.map((replica) => new ReplicaClient(replica, config.model));
  const listed = await Promise.all(clients.map(listModels));
  await Promise.all(
    clients.map(async (client, index) => {
      const models = listed[index];
      const name = client.modelName;
      if (!models || models.length === 0 || models.some((model) => model.id === name)) return;
      const refusal = await probe(client);
      if (refusal === null) return;
      const own = config.replicas[index]?.model !== undefined;
      const field = own ? `replicas.${index}.model` : 'model.name';
      const served = models.map((model) => JSON.stringify(model.id)).join(', ');
      throw new ConfigError(
        field,
        `replica ${client.url} lists ${served}, not "${name}", and refused it: ${refusal}`,
      );
    }),
  );
  return listed;
}

/**
 * The model revision that goes into job ids and outputs: `model.revision`, or with 'auto' the
 * one the first replica names for the model in `/v1/models`; 'unknown', with a warning, when
 * it names none fit for a job id.
 */
export function resolveRevision(
  config: Config,
  listed: ReadonlyArray<ServedModel[] | undefined>,
): string {
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

async function listModels(client: ReplicaClient): Promise<ServedModel[] | undefined> {
  try {
    return await client.models(checkTimeoutMs);
  } catch (error) {
    log.warn(
      { replica: client.url, reason: errorMessage(error) },
      "could not list the replica's models",
    );
    return undefined;
  }
}

/** The replica's refusal of the model name (a 4xx answer), or null when it took it. */
async function probe(client: ReplicaClient): Promise<string | null> {
  try {
    await client.infer('hello', {
      eventId: 'tokenline-start-up-check',
      deadline: Date.now() + checkTimeoutMs,
      traceparent: undefined,
    });
    return null;
  } catch (error) {
    if (error instanceof TokenlineError && error.code === errorCodes.validation) {
      return error.message;
    }
    log.warn(
      { replica: client.url, model: client.modelName, reason: errorMessage(error) },
      'the replica does not list the model, and a check call to it failed',
    );
    return null;
  }
}
