import { schemas } from './openapi-schemas.ts';

/**
 * The OpenAPI 3.1 description of the HTTP API, served at GET /openapi.json. Written by hand;
 * a test checks that every route the app registers is described here.
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(ref('Error')) });

const actorIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description: "'supervisor', a partition actor's id (`partition-<topic>-<n>`) or a breaker's",
  schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,300}$' },
};

const machineNameParameter = {
  name: 'name',
  in: 'path',
  required: true,
  description: 'A machine name listed by GET /machines',
  schema: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' },
};

/** Reads: open unless `http.protectReads`; then the bearer token is needed. */
const readSecurity = [{}, { bearer: [] }];
/** Controls: always the bearer token; 403 while no token is configured. */
const controlSecurity = [{ bearer: [] }];

const readErrors = {
  '401': error('protectReads is on and the bearer token is missing or wrong'),
};

const controlErrors = {
  '400': error('malformed id, bad JSON, invalid body, or not a partition actor'),
  '401': error('missing or wrong bearer token'),
  '403': error('controls are disabled: no http.token configured'),
  '404': error('no such actor'),
  '409': error('the actor is not in a state that takes this control'),
};

function partitionControl(summary: string, description: string, status = '200') {
  return {
    post: {
      summary,
      description,
      tags: ['controls'],
      security: controlSecurity,
      parameters: [actorIdParameter],
      responses: {
        [status]: { description: 'the actor after the control', content: json(ref('ActorDetail')) },
        ...controlErrors,
      },
    },
  };
}

const paths = {
  '/': {
    get: {
      summary: 'The operator page: live partition grid, machine diagrams, breakers, dead letters',
      tags: ['page'],
      responses: { '200': { description: 'HTML page', content: { 'text/html': {} } } },
    },
  },
  '/web/app.js': {
    get: {
      summary: "The page's script",
      tags: ['page'],
      responses: { '200': { description: 'JavaScript', content: { 'text/javascript': {} } } },
    },
  },
  '/web/app.css': {
    get: {
      summary: "The page's style sheet",
      tags: ['page'],
      responses: { '200': { description: 'CSS', content: { 'text/css': {} } } },
    },
  },
  '/openapi.json': {
    get: {
      summary: 'This description',
      tags: ['meta'],
      responses: { '200': { description: 'OpenAPI 3.1 document', content: json({}) } },
    },
  },
  '/health/live': {
    get: {
      summary: 'Liveness: the process answers',
      tags: ['health'],
      responses: {
        '200': {
          description: 'alive',
          content: json({ type: 'object', properties: { live: { const: true } } }),
        },
      },
    },
  },
  '/health/ready': {
    get: {
      summary: 'Readiness: partitions assigned, no rebalance under way, Kafka and Redis answer',
      description: 'Checked at most once a second; each check has a short timeout.',
      tags: ['health'],
      responses: {
        '200': { description: 'ready', content: json(ref('Readiness')) },
        '503': {
          description: 'not ready, with the failing checks',
          content: json(ref('Readiness')),
        },
      },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics (text exposition format)',
      tags: ['metrics'],
      security: readSecurity,
      responses: {
        '200': { description: 'metrics', content: { 'text/plain': {} } },
        ...readErrors,
        '503': error('the service has not started its metrics yet'),
      },
    },
  },
  '/actors': {
    get: {
      summary: 'Every actor: supervisor, partition actors, breakers, with state and context',
      tags: ['actors'],
      security: readSecurity,
      responses: {
        '200': {
          description: 'actor summaries',
          content: json({
            type: 'object',
            properties: { actors: { type: 'array', items: ref('ActorSummary') } },
          }),
        },
        ...readErrors,
      },
    },
  },
  '/actors/{id}': {
    get: {
      summary: 'One actor in full: summary, options, and its children (record actors)',
      tags: ['actors'],
      security: readSecurity,
      parameters: [actorIdParameter],
      responses: {
        '200': { description: 'the actor', content: json(ref('ActorDetail')) },
        '400': error('malformed id'),
        ...readErrors,
        '404': error('no such actor'),
      },
    },
  },
  '/actors/{id}/pause': partitionControl(
    'Pause a partition: no more fetches; records in flight finish and commit',
    'The partition actor moves to running.intake.held.',
  ),
  '/actors/{id}/resume': partitionControl(
    'Resume a partition an operator paused',
    '409 when the partition is not paused by an operator (e.g. paused by its window).',
  ),
  '/actors/{id}/restart': partitionControl(
    'Restart a partition actor: drain, commit, and start afresh from the committed offset',
    'Answers at once (202); GET /actors/{id} shows the new actor once the old one stopped.',
    '202',
  ),
  '/actors/{id}/window': {
    post: {
      ...partitionControl('Change the in-flight window of a partition', '').post,
      description: 'Records the partition holds at once; takes effect at its next fetch.',
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          additionalProperties: false,
          required: ['window'],
          properties: { window: { type: 'integer', minimum: 1, maximum: 100_000 } },
        }),
      },
    },
  },
  '/actors/{id}/unpark': {
    post: {
      ...partitionControl('Let a key parked after a dead letter go on', '').post,
      description:
        'With partition.onDeadLetter "park", a dead letter holds back the later records of its ' +
        'key (and the commit) until this call. Give the key as UTF-8 text (`key`) or as its ' +
        'bytes in base64 (`keyBase64`, for keys that are not UTF-8). 200 with the actor; 409 ' +
        'when that key is not parked. The partition summary counts parked keys (parkedKeys).',
      requestBody: {
        required: true,
        content: json({
          type: 'object',
          additionalProperties: false,
          properties: {
            key: { type: 'string' },
            keyBase64: { type: 'string', contentEncoding: 'base64' },
          },
        }),
      },
    },
  },
  '/dead-letters': {
    get: {
      summary: 'Dead letters written since the service started, by reason and by partition',
      tags: ['dead letters'],
      security: readSecurity,
      responses: {
        '200': { description: 'counts', content: json(ref('DeadLetterCounts')) },
        ...readErrors,
      },
    },
  },
  '/dead-letters/redrive': {
    post: {
      summary: 'Copy dead letters back to the input topic, in offset order',
      description:
        'Every record in the dead-letter topic when the call starts (or those of one reason) ' +
        'goes back to its source partition with its original key, value and headers; the ' +
        'tl-* headers are stripped. Dead letters stay in their topic. The body may be empty. ' +
        'With dropDeadline the deadline header is left out too, so that the records get ' +
        'task.defaultTtlMs again (deadline dead letters would otherwise come straight back).',
      tags: ['controls', 'dead letters'],
      security: controlSecurity,
      requestBody: {
        required: false,
        content: json({
          type: 'object',
          additionalProperties: false,
          properties: { reason: ref('DeadLetterReason'), dropDeadline: { type: 'boolean' } },
        }),
      },
      responses: {
        '200': { description: 'what was redriven', content: json(ref('RedriveReport')) },
        '400': error('bad JSON or invalid body'),
        '401': error('missing or wrong bearer token'),
        '403': error('controls are disabled: no http.token configured'),
        '409': error('a redrive is already running'),
      },
    },
  },
  '/machines': {
    get: {
      summary: 'The machines the service runs, with where their source lives',
      tags: ['machines'],
      security: readSecurity,
      responses: {
        '200': {
          description: 'machines',
          content: json({
            type: 'object',
            properties: { machines: { type: 'array', items: ref('MachineSummary') } },
          }),
        },
        ...readErrors,
      },
    },
  },
  '/machines/{name}': {
    get: {
      summary: "A machine's definition as JSON (XState's, with the always transitions added)",
      tags: ['machines'],
      security: readSecurity,
      parameters: [machineNameParameter],
      responses: {
        '200': { description: 'state node definition', content: json({ type: 'object' }) },
        '400': error('malformed name'),
        ...readErrors,
        '404': error('no such machine'),
      },
    },
  },
  '/machines/{name}/mermaid': {
    get: {
      summary: 'A Mermaid stateDiagram-v2 of the machine',
      tags: ['machines'],
      security: readSecurity,
      parameters: [machineNameParameter],
      responses: {
        '200': { description: 'Mermaid text', content: { 'text/vnd.mermaid': {} } },
        '400': error('malformed name'),
        ...readErrors,
        '404': error('no such machine'),
      },
    },
  },
  '/machines/{name}/svg': {
    get: {
      summary: 'The machine diagram as SVG, rendered by Graphviz; states carry id="state:<path>"',
      tags: ['machines'],
      security: readSecurity,
      parameters: [machineNameParameter],
      responses: {
        '200': { description: 'SVG', content: { 'image/svg+xml': {} } },
        '400': error('malformed name'),
        ...readErrors,
        '404': error('no such machine'),
        '503': error('Graphviz is not installed'),
      },
    },
  },
  '/events': {
    get: {
      summary: 'Server-Sent Events: actor state changes (snapshot) and events (event)',
      description:
        'Starts with the current snapshot of every followed actor. Record payloads are ' +
        'redacted. Snapshots that change only context numbers are coalesced (250 ms per ' +
        'actor). A client that falls 1000 messages behind loses the oldest and gets ' +
        '`event: dropped`.',
      tags: ['actors'],
      security: readSecurity,
      parameters: [
        {
          name: 'actor',
          in: 'query',
          required: false,
          description:
            'Actor ids to follow (repeat or comma-separate); a trailing * matches a prefix, ' +
            'e.g. partition-emails-0/* for its record actors. Default: all but record actors.',
          schema: { type: 'string' },
        },
        {
          name: 'types',
          in: 'query',
          required: false,
          description: 'snapshot, event, or both comma-separated (default both)',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': { description: 'event stream', content: { 'text/event-stream': {} } },
        '400': error('malformed filter'),
        ...readErrors,
      },
    },
  },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Tokenline operator API',
    version: '1',
    description:
      'Actor state, machine definitions and diagrams, live events, dead letters, metrics, ' +
      'health, and operator controls of a Tokenline service. Errors are ' +
      '`{ "error": { "code", "message" } }`; a path served under another method answers 405.',
  },
  paths,
  components: {
    schemas,
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'http.token (TOKENLINE_HTTP_TOKEN) from the configuration',
      },
    },
  },
} as const;
