#!/usr/bin/env bun
/**
 * Tokenline's command line.
 *   bun src/main.ts run      the service (configuration: TOKENLINE_CONFIG and TOKENLINE_* env)
 *   bun src/main.ts worker   replica workers only, next to a GPU server, sharing Redis
 *   bun src/main.ts demo     the end-to-end demo on the SpamAssassin corpus
 */
import { loadConfig } from './config.ts';
import { errorMessage, TokenlineError } from './errors.ts';
import { createApp } from './http/app.ts';
import { claimHttpPort } from './http/listen.ts';
import { checkModels } from './inference/revision.ts';
import { WorkerPool } from './inference/worker.ts';
import { connectRedis } from './redis.ts';
import { Service } from './service.ts';

async function run(): Promise<void> {
  const config = loadConfig();
  const http = claimHttpPort(config.http);
  const server = http.server;
  const service = new Service(config);
  try {
    await service.start();
  } catch (error) {
    await server.stop(true);
    throw error;
  }
  http.serve(createApp(service).fetch);
  console.log(`tokenline: consuming ${config.topics.input}; HTTP API on ${server.url}`);
  onSignal(async () => {
    await service.stop();
    // Closes open connections too: a live-events stream (GET /events) never ends by itself.
    await server.stop(true);
  });
}

async function worker(): Promise<void> {
  const config = loadConfig();
  // The same check as the service's: an unreachable or evicting Redis stops start-up here.
  const redis = await connectRedis(config.redis.url, config.kafka.connectTimeoutMs);
  redis.disconnect();
  // The workers are what call the replicas: a model name they refuse stops start-up here too.
  await checkModels(config);
  const pool = new WorkerPool({
    connection: { url: config.redis.url, maxRetriesPerRequest: null },
    prefix: config.redis.prefix,
    queueName: config.queue.name,
    replicas: config.replicas,
    model: config.model,
    breaker: config.breaker,
    lockDurationMs: config.queue.lockDurationMs,
    stalledIntervalMs: config.queue.stalledIntervalMs,
  });
  await pool.start();
  console.log(
    `tokenline: workers for ${config.replicas.length} replica(s) pulling ${config.queue.name}`,
  );
  onSignal(() => pool.shutdown());
}

function onSignal(shutdown: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`tokenline: ${signal}, draining`);
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`tokenline: shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'run';
  if (command === 'run') return run();
  if (command === 'worker') return worker();
  if (command === 'demo') {
    const { runDemo } = await import('./cli/demo.ts');
    return runDemo(process.argv.slice(3));
  }
  throw new TokenlineError('TL_CONFIG', `unknown command "${command}" (run, worker, demo)`);
}

main().catch((error: unknown) => {
  console.error(`tokenline: ${errorMessage(error)}`);
  process.exit(1);
});
