import { type Context, Hono } from 'hono';
import type { AnyActorRef } from 'xstate';
import * as z from 'zod';
import type { DeadLetterReason } from '../contracts/dead-letter.ts';
import { logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { SupervisorActor } from '../service.ts';
import { ActorDirectory } from './actor-directory.ts';
import { type HttpAccess, requireControlToken, requireReadToken } from './auth.ts';
import type { RedriveReport } from './dead-letter-redrive.ts';
import { ApiError, apiErrorCodes, errorResponse } from './errors.ts';
import { eventStream } from './event-stream.ts';
import { GraphvizUnavailable } from './graphviz.ts';
import { cachedReadiness, type ReadinessReport, reportOf, supervisorCheck } from './health.ts';
import { LiveEvents } from './live-events.ts';
import {
  definitionJson,
  findMachine,
  type MachineEntry,
  machineCatalog,
  mermaidOf,
  svgOf,
} from './machines.ts';
import { methodNotAllowed } from './method-check.ts';
import { openApiDocument } from './openapi.ts';
import { PartitionControls } from './partition-controls.ts';
import { machineIdOf } from './summaries.ts';
import { webAsset } from './web-assets.ts';

/** What the HTTP API reads and steers; the running Service provides all of it. */
export interface AppSource {
  readonly supervisor: SupervisorActor;
  readonly metrics?: Metrics | null;
  /** The configuration's `http` section (token, protectReads) and topic names. */
  readonly config?: {
    readonly http: HttpAccess;
    readonly topics?: { readonly input: string; readonly deadLetter: string };
  };
  /** Readiness beyond the supervisor's own view: group, Kafka, Redis. */
  readiness?(): Promise<ReadinessReport>;
  redriveDeadLetters?(reason?: DeadLetterReason, dropDeadline?: boolean): Promise<RedriveReport>;
  /** Circuit-breaker actors of the replica pool, listed with the other actors. */
  breakers?(): AnyActorRef[];
}

const actorIdPattern = /^[A-Za-z0-9._-]{1,300}$/;
const machineNamePattern = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const deadLetterReasons = ['poison', 'non-retryable', 'retries-exhausted', 'deadline'] as const;

const windowBody = z.strictObject({ window: z.int().min(1).max(100_000) });
const unparkBody = z
  .strictObject({
    key: z.string().max(1_000_000).optional(),
    keyBase64: z.base64().max(1_400_000).optional(),
  })
  .refine((body) => (body.key === undefined) !== (body.keyBase64 === undefined), {
    message: 'give exactly one of key (UTF-8 text) and keyBase64 (the key bytes)',
  });
const redriveBody = z.strictObject({
  reason: z.enum(deadLetterReasons).optional(),
  dropDeadline: z.boolean().optional(),
});

const log = logger('http');

/**
 * The operator's HTTP API and web page: actors and their state, machine definitions and
 * diagrams, live events, dead-letter counts, metrics, health, and controls behind a bearer
 * token. Every error is JSON, `{ error: { code, message } }`.
 */
export function createApp(source: AppSource): Hono {
  const app = new Hono();
  const access: HttpAccess = source.config?.http ?? {};
  const read = requireReadToken(access);
  const control = requireControlToken(access);
  const directory = new ActorDirectory(source.supervisor, () => source.breakers?.() ?? []);
  const live = new LiveEvents(source.supervisor, () => directory.supervisorView());
  const controls = new PartitionControls(source.supervisor);
  const readiness = cachedReadiness(() => readinessOf(source));
  let redriving = false;

  app.get('/', () => webAsset('index.html'));
  app.get('/web/app.js', () => webAsset('app.js'));
  app.get('/web/app.css', () => webAsset('app.css'));
  app.get('/openapi.json', (c) => c.json(openApiDocument));

  app.get('/health/live', (c) => c.json({ live: true }));
  app.get('/health/ready', async (c) => {
    const report = await readiness();
    return c.json(report, report.ready ? 200 : 503);
  });

  app.get('/metrics', read, async (c) => {
    const registry = source.metrics?.registry;
    if (!registry) throw new ApiError(503, apiErrorCodes.unavailable, 'no metrics yet');
    return c.text(await registry.metrics(), 200, { 'content-type': registry.contentType });
  });

  app.get('/actors', read, (c) => c.json({ actors: directory.summaries() }));
  app.get('/actors/:id', read, (c) => {
    const id = actorId(c);
    return c.json(directory.detail(id, existing(directory, id)));
  });
  app.post('/actors/:id/pause', control, (c) =>
    partitionControl(c, directory, (id) => controls.pause(id)),
  );
  app.post('/actors/:id/resume', control, (c) =>
    partitionControl(c, directory, (id) => controls.resume(id)),
  );
  app.post('/actors/:id/restart', control, (c) =>
    partitionControl(c, directory, (id) => controls.restart(id), 202),
  );
  app.post('/actors/:id/window', control, async (c) => {
    const { window } = await jsonBody(c, windowBody);
    return partitionControl(c, directory, (id) => controls.setWindow(id, window));
  });

  app.post('/actors/:id/unpark', control, async (c) => {
    const { key, keyBase64 } = await jsonBody(c, unparkBody);
    const bytes =
      keyBase64 === undefined ? Buffer.from(key ?? '', 'utf8') : Buffer.from(keyBase64, 'base64');
    return partitionControl(c, directory, (id) => controls.unpark(id, bytes));
  });

  app.get('/dead-letters', read, async (c) =>
    c.json(await deadLetterCounts(source, directory, live)),
  );
  app.post('/dead-letters/redrive', control, async (c) => {
    const { reason, dropDeadline } = await jsonBody(c, redriveBody, { allowEmpty: true });
    if (!source.redriveDeadLetters) {
      throw new ApiError(400, apiErrorCodes.unsupported, 'this service cannot redrive');
    }
    if (redriving) throw new ApiError(409, apiErrorCodes.conflict, 'a redrive is running');
    redriving = true;
    try {
      const report = await source.redriveDeadLetters(reason, dropDeadline);
      log.info({ ...report, partitions: report.partitions.length }, 'dead letters redriven');
      return c.json(report);
    } finally {
      redriving = false;
    }
  });

  app.get('/machines', read, (c) => c.json({ machines: machineCatalog.map(machineSummary) }));
  app.get('/machines/:name', read, (c) => c.json(definitionJson(machineOf(c).machine)));
  app.get('/machines/:name/mermaid', read, (c) =>
    c.text(mermaidOf(machineOf(c)), 200, { 'content-type': 'text/vnd.mermaid; charset=utf-8' }),
  );
  app.get('/machines/:name/svg', read, async (c) => {
    const entry = machineOf(c);
    try {
      return c.body(await svgOf(entry), 200, { 'content-type': 'image/svg+xml; charset=utf-8' });
    } catch (error) {
      if (!(error instanceof GraphvizUnavailable)) throw error;
      throw new ApiError(503, apiErrorCodes.unavailable, error.message);
    }
  });

  app.get('/events', read, (c) => {
    for (const { actor } of directory.list()) live.watch(actor);
    return eventStream(c, live, () => directory.list());
  });

  app.notFound((c) => methodNotAllowed(app, c));
  app.onError((error, c) =>
    errorResponse(error, c, (unexpected) =>
      log.error({ err: unexpected, path: c.req.path }, 'request failed'),
    ),
  );

  return app;
}

function actorId(c: Context): string {
  const id = c.req.param('id') ?? '';
  if (!actorIdPattern.test(id)) {
    throw new ApiError(
      400,
      apiErrorCodes.malformedId,
      'an actor id is 1 to 300 letters, digits, ".", "_" or "-"',
    );
  }
  return id;
}

function existing(directory: ActorDirectory, id: string): AnyActorRef {
  const actor = directory.find(id);
  if (!actor) throw new ApiError(404, apiErrorCodes.notFound, `no actor ${id}`);
  return actor;
}

function partitionControl(
  c: Context,
  directory: ActorDirectory,
  act: (id: string) => void,
  status: 200 | 202 = 200,
) {
  const id = actorId(c);
  if (machineIdOf(existing(directory, id)) !== 'partition') {
    throw new ApiError(400, apiErrorCodes.unsupported, `${id} is not a partition actor`);
  }
  act(id);
  return c.json(directory.detail(id, existing(directory, id)), status);
}

function machineOf(c: Context): MachineEntry {
  const name = c.req.param('name') ?? '';
  if (!machineNamePattern.test(name)) {
    throw new ApiError(
      400,
      apiErrorCodes.malformedId,
      'a machine name is a letter, then letters, digits, "_" or "-"',
    );
  }
  const entry = findMachine(name);
  if (!entry) throw new ApiError(404, apiErrorCodes.notFound, `no machine ${name}`);
  return entry;
}

function machineSummary(entry: MachineEntry) {
  const base = `/machines/${entry.name}`;
  return {
    name: entry.name,
    id: entry.machine.id,
    source: { path: entry.path, export: entry.exportName },
    links: { definition: base, mermaid: `${base}/mermaid`, svg: `${base}/svg` },
  };
}

/** Parses a JSON body against a schema; 400 with `bad_json` or `invalid_body` otherwise. */
async function jsonBody<T>(
  c: Context,
  schema: z.ZodType<T>,
  options: { allowEmpty?: boolean } = {},
): Promise<T> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== '' || !options.allowEmpty) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError(400, apiErrorCodes.badJson, 'the request body is not valid JSON');
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : '(body)';
    throw new ApiError(400, apiErrorCodes.invalidBody, `${field}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

async function readinessOf(source: AppSource): Promise<ReadinessReport> {
  if (source.readiness) return source.readiness();
  return reportOf({ supervisor: supervisorCheck(source.supervisor) });
}

/**
 * Dead letters by reason since the service started: from the metrics when there are any,
 * else from the `record.settled` events seen since the app was created. Per partition from
 * the partition actors' own counts (since each actor started).
 */
async function deadLetterCounts(source: AppSource, directory: ActorDirectory, live: LiveEvents) {
  const byReason = Object.fromEntries(deadLetterReasons.map((reason) => [reason, 0])) as Record<
    string,
    number
  >;
  const counted = (await metricCounts(source.metrics)) ?? live.deadLetterCounts();
  for (const [reason, count] of Object.entries(counted)) byReason[reason] = count;
  const byPartition: Record<string, number> = {};
  for (const summary of directory.summaries()) {
    const stats = summary.context.stats as { deadLettered?: number } | undefined;
    if (summary.kind === 'partition' && stats) byPartition[summary.id] = stats.deadLettered ?? 0;
  }
  return {
    topic: source.config?.topics?.deadLetter ?? null,
    total: Object.values(byReason).reduce((sum, count) => sum + count, 0),
    byReason,
    byPartition,
  };
}

async function metricCounts(metrics: Metrics | null | undefined) {
  const metric = metrics?.registry.getSingleMetric('tokenline_records_dead_lettered_total');
  if (!metric) return null;
  const counts: Record<string, number> = {};
  for (const { labels, value } of (await metric.get()).values) {
    const reason = String(labels.reason ?? 'unknown');
    counts[reason] = (counts[reason] ?? 0) + value;
  }
  return counts;
}
