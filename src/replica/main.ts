import * as z from 'zod';
import { logger } from '../log.ts';
import { replicaOptionsFromArgs, replicaUsage } from './cli-options.ts';
import { defaultModel } from './default-model.ts';
import { startReplica } from './server.ts';

/**
 * The built-in replica as a process:
 *   bun src/replica/main.ts --port 8000 --slots 64 --service-time-ms 50
 * Flags: --port, --host, --slots, --service-time-ms, --queue-limit, --model-name; each is
 * also read from REPLICA_PORT, REPLICA_HOST, REPLICA_SLOTS, REPLICA_SERVICE_TIME_MS,
 * REPLICA_QUEUE_LIMIT, REPLICA_MODEL_NAME. The port defaults to 8000 here, where clients
 * expect a replica, rather than to a random one.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(replicaUsage());
    return;
  }
  const options = replicaOptionsFromArgs(args);
  const built = defaultModel();
  const replica = await startReplica({ port: 8000, ...options, model: built.model });
  const { corpusLoadMs, trainMs, trainingEmails } = built;
  logger('replica').debug({ corpusLoadMs, trainMs, trainingEmails }, 'model trained');
  const model = `model ${replica.modelName} rev ${replica.revision}`;
  console.log(`replica listening on ${replica.url} (${model}, slots ${replica.stats().slots})`);

  const shutdown = async () => {
    await replica.stop();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  const message = error instanceof z.ZodError ? z.prettifyError(error) : String(error);
  process.stderr.write(`replica: ${message}\n`);
  process.exit(2);
});
