import { Producer } from '@platformatic/kafka';
import { Queue } from 'bullmq';
import { type Config, loadConfig, parseConfig } from '../config.ts';
import { createApp } from '../http/app.ts';
import { claimHttpPort } from '../http/listen.ts';
import { createAdmin } from '../kafka/clients.ts';
import { setLogLevel } from '../log.ts';
import { type Email, splitCorpus } from '../replica/corpus.ts';
import { Service } from '../service.ts';
import { recreateTopics } from './demo-topics.ts';
import { emailMessage, senderOf } from './email-records.ts';
import { percentile, progressBar, score, table } from './report.ts';
import { ResultReader } from './result-reader.ts';

interface DemoFlags {
  exitWhenDone: boolean;
  limit: number | undefined;
  partitions: number;
  replicaPort: number;
  slots: number;
  serviceTimeMs: number;
}

/**
 * The main job, end to end: starts the built-in replica, creates the demo topics, publishes
 * the held-out SpamAssassin emails, runs the service until every email has a result, and
 * reports throughput, latency and the classifier's scores against the corpus labels.
 */
export async function runDemo(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(demoUsage);
    return;
  }
  const flags = parseFlags(argv);
  // The demo's own report is the output; the service logs only what needs attention.
  if (!process.env.TOKENLINE_LOG_LEVEL) setLogLevel('warn');
  const emails = splitCorpus().heldOut.slice(0, flags.limit);
  const config = demoConfig(flags);
  const replica = await startReplica(flags);
  const service = new Service(config);
  const reader = new ResultReader({
    brokers: config.kafka.brokers,
    outputTopic: config.topics.output,
    deadLetterTopic: config.topics.deadLetter,
  });
  let prepared = false;
  const stopAll = async () => {
    await reader.close();
    await service.stop();
    replica.kill('SIGTERM');
    if (prepared) await removeRun(config);
  };

  try {
    await prepare(config, flags);
    prepared = true;
    const http = claimHttpPort(config.http);
    const server = http.server;
    await service.start();
    http.serve(createApp(service).fetch);
    await reader.start();
    const started = Date.now();
    await publish(config, emails);
    console.log(`published ${emails.length} held-out emails to ${config.topics.input}`);
    await reader.waitFor(emails.length, 15 * 60_000, (n) => showProgress(n, emails.length));
    process.stderr.write('\n');
    console.log(summary(emails, reader, Date.now() - started));
    if (flags.exitWhenDone) {
      await server.stop(true);
      await stopAll();
      return;
    }
    console.log(
      `\nservice still running; HTTP API on ${server.url} (actors: ${server.url}actors).` +
        ' Ctrl-C stops it.',
    );
    await waitForSignal();
    await server.stop(true);
    await stopAll();
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

const numberFlags = ['--limit', '--partitions', '--replica-port', '--slots', '--service-time-ms'];

export const demoUsage = `usage: bash scripts/demo.sh [--exit] [--limit N] [--partitions N]
       [--replica-port N] [--slots N] [--service-time-ms N]`;

function parseFlags(argv: string[]): DemoFlags {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    if (numberFlags.includes(flag)) i++;
    else if (flag !== '--exit') throw new Error(`unknown flag ${flag}\n${demoUsage}`);
  }
  const value = (name: string) => {
    const index = argv.indexOf(name);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const number = (name: string, fallback: number) => {
    const raw = value(name);
    const parsed = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} expects a whole number`);
    return parsed;
  };
  const limit = value('--limit');
  if (number('--partitions', 6) < 1) throw new Error('--partitions expects at least 1');
  return {
    exitWhenDone: argv.includes('--exit') || process.env.CI === 'true',
    limit: limit === undefined ? undefined : number('--limit', 0),
    partitions: number('--partitions', 6),
    replicaPort: number('--replica-port', 8000),
    slots: number('--slots', 32),
    serviceTimeMs: number('--service-time-ms', 20),
  };
}

// Each run gets topics, a group and a queue of its own, so a demo never touches anything that
// was there before it (another run's topics or a shared queue).
function demoConfig(flags: DemoFlags): Config {
  const base = loadConfig();
  const run = `tokenline-demo-${Date.now().toString(36)}`;
  return parseConfig({
    ...base,
    kafka: { ...base.kafka, groupId: run },
    topics: { input: `${run}.emails` },
    queue: { ...base.queue, name: run },
    replicas: [{ url: `http://127.0.0.1:${flags.replicaPort}`, slots: flags.slots }],
  });
}

async function prepare(config: Config, flags: DemoFlags): Promise<void> {
  const admin = createAdmin(config.kafka);
  try {
    await recreateTopics(admin, [
      { name: config.topics.input, partitions: flags.partitions },
      { name: config.topics.output, partitions: flags.partitions },
      { name: config.topics.deadLetter, partitions: 1 },
    ]);
  } finally {
    await admin.close();
  }
}

/** Removes what the run created: its three topics and its queue. */
async function removeRun(config: Config): Promise<void> {
  const { input, output, deadLetter } = config.topics;
  const admin = createAdmin(config.kafka);
  try {
    await admin.deleteTopics({ topics: [input, output, deadLetter] });
  } finally {
    await admin.close();
  }
  const queue = new Queue(config.queue.name, {
    connection: { url: config.redis.url },
    prefix: config.redis.prefix,
  });
  await queue.obliterate({ force: true });
  await queue.close();
  console.log(`removed the run's topics (${input}, ${output}, ${deadLetter}) and its queue`);
}

async function publish(config: Config, emails: Email[]): Promise<void> {
  const producer = new Producer({
    clientId: 'tokenline-demo-publisher',
    bootstrapBrokers: config.kafka.brokers,
  });
  try {
    for (let i = 0; i < emails.length; i += 200) {
      const messages = emails.slice(i, i + 200).map((e) => emailMessage(e, config.topics.input));
      await producer.send({ messages });
    }
  } finally {
    await producer.close();
  }
}

async function startReplica(flags: DemoFlags) {
  const url = `http://127.0.0.1:${flags.replicaPort}/health`;
  if (
    await fetch(url).then(
      () => true,
      () => false,
    )
  ) {
    throw new Error(
      `port ${flags.replicaPort} is already in use; choose another with --replica-port`,
    );
  }
  const child = Bun.spawn(
    [
      process.execPath,
      'src/replica/main.ts',
      '--port',
      String(flags.replicaPort),
      '--slots',
      String(flags.slots),
      '--service-time-ms',
      String(flags.serviceTimeMs),
    ],
    { stdout: 'inherit', stderr: 'inherit' },
  );
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    if (child.exitCode !== null) throw new Error(`replica exited with code ${child.exitCode}`);
    await Bun.sleep(200);
  }
  child.kill('SIGTERM');
  throw new Error(`replica did not answer on ${url} within 60 s`);
}

let lastDrawn = -1;
function showProgress(done: number, total: number): void {
  if (process.stderr.isTTY) {
    process.stderr.write(`\r  ${progressBar(done, total)}`);
    return;
  }
  const decile = Math.floor((done / Math.max(1, total)) * 10);
  if (decile === lastDrawn) return;
  lastDrawn = decile;
  process.stderr.write(`  ${progressBar(done, total)}\n`);
}

function summary(emails: Email[], reader: ResultReader, elapsedMs: number): string {
  const labels = new Map(emails.map((e) => [e.eventId, e.label] as const));
  const pairs = reader.outputs
    .filter((o) => labels.has(o.eventId))
    .map((o) => ({
      predicted: String((o.output as { label?: unknown })?.label ?? ''),
      actual: labels.get(o.eventId) as string,
    }));
  const scores = score(pairs);
  const latencies = reader.outputs.map((o) => o.timings.endToEndMs);
  const ms = (v: number) => `${Math.round(v)} ms`;
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const settledCount = reader.outputs.length + reader.deadLetters.length;
  return `\nTokenline demo: spam classification of held-out SpamAssassin emails\n${table([
    ['records in', String(emails.length)],
    ['records out', String(reader.outputs.length)],
    ['dead letters', String(reader.deadLetters.length)],
    ['elapsed', `${(elapsedMs / 1000).toFixed(1)} s`],
    ['throughput', `${(settledCount / (elapsedMs / 1000)).toFixed(1)} records/s`],
    ['end-to-end p50', ms(percentile(latencies, 50))],
    ['end-to-end p99', ms(percentile(latencies, 99))],
    ['longest key chain', longestChain(emails)],
    ['accuracy', pct(scores.accuracy)],
    ['precision (spam)', pct(scores.precision)],
    ['recall (spam)', pct(scores.recall)],
  ])}`;
}

// Records of one key run one after another, so the busiest sender bounds the run's length.
function longestChain(emails: Email[]): string {
  const counts = new Map<string, number>();
  for (const e of emails) counts.set(senderOf(e.text), (counts.get(senderOf(e.text)) ?? 0) + 1);
  const [sender, count] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
  return `${count} emails from ${sender} (processed in order, one at a time)`;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
