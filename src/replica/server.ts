import { Hono } from 'hono';
import { logger } from '../log.ts';
import { adminRoutes } from './admin-routes.ts';
import { classifyEndpoint } from './classify-route.ts';
import { embeddingsEndpoint } from './embeddings-route.ts';
import type { FaultSettings, Faults } from './faults.ts';
import { inferenceRoute } from './inference-route.ts';
import { logRequests } from './log-requests.ts';
import { errorResponse } from './openai-error.ts';
import { chatEndpoint, completionEndpoint, modelList } from './openai-routes.ts';
import type { ReplicaOptions } from './options.ts';
import { ReplicaState, type ReplicaStats } from './replica-state.ts';
import type { RequestLogEntry } from './request-log.ts';

/** A replica serving on a port, with in-process access to what the admin endpoints expose. */
export interface RunningReplica {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:41234. */
  url: string;
  port: number;
  modelName: string;
  revision: string;
  app: Hono;
  setFaults(settings: FaultSettings): Faults;
  faults(): Faults;
  stats(): ReplicaStats;
  requests(eventId?: string): RequestLogEntry[];
  /** Stops listening and cuts open connections, which aborts every request still waiting. */
  stop(): Promise<void>;
}

const inferencePaths = ['/classify', '/v1/chat/completions', '/v1/completions', '/v1/embeddings'];

/** The replica's HTTP API as a Hono app, for in-process use with `app.request()`. */
export function createReplicaApp(options: ReplicaOptions = {}): Hono {
  return routes(new ReplicaState(options));
}

/** Serves a replica with Bun on `options.host` (127.0.0.1 by default). */
export function startReplica(options: ReplicaOptions = {}): Promise<RunningReplica> {
  const state = new ReplicaState(options);
  const app = routes(state);
  const server = Bun.serve({
    hostname: state.options.host,
    port: state.options.port,
    fetch: app.fetch,
    // Bun closes a connection idle for 10 s by default; a queued or hung request sends nothing
    // while it waits, and must last until its client gives up, as it would on a real server.
    idleTimeout: 0,
  });
  const port = server.port ?? state.options.port;

  return Promise.resolve({
    url: `http://${state.options.host}:${port}`,
    port,
    modelName: state.options.modelName,
    revision: state.model.revision,
    app,
    setFaults: (settings) => state.setFaults(settings),
    faults: () => state.faults,
    stats: () => state.stats(),
    requests: (eventId) => state.requests.entries(eventId),
    stop: () => server.stop(true),
  });
}

function routes(state: ReplicaState): Hono {
  const app = new Hono();
  const log = logger('replica');

  for (const path of inferencePaths) app.use(path, logRequests(state.requests));
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/v1/models', (c) => c.json(modelList(state)));
  app.post('/classify', inferenceRoute(state, classifyEndpoint));
  app.post('/v1/chat/completions', inferenceRoute(state, chatEndpoint));
  app.post('/v1/completions', inferenceRoute(state, completionEndpoint));
  app.post('/v1/embeddings', inferenceRoute(state, embeddingsEndpoint));
  app.route('/admin', adminRoutes(state));

  app.notFound((c) => {
    const message = `no route for ${c.req.method} ${c.req.path}`;
    return errorResponse(c, {
      status: 404,
      message,
      type: 'invalid_request_error',
      code: 'not_found',
    });
  });
  app.onError((error, c) => {
    log.error({ err: error, path: c.req.path }, 'request failed');
    return errorResponse(c, {
      status: 500,
      message: 'internal error',
      type: 'server_error',
      code: 'internal_error',
    });
  });

  return app;
}
