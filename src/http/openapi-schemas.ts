import { apiErrorCodes } from './errors.ts';

/** The component schemas of the OpenAPI description (src/http/openapi.ts). */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const schemas = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { enum: Object.values(apiErrorCodes) },
          message: { type: 'string' },
        },
      },
    },
  },
  ActorSummary: {
    type: 'object',
    required: ['id', 'kind', 'status', 'state', 'activeStates', 'context'],
    properties: {
      id: { type: 'string' },
      kind: { type: 'string', description: "the machine's id: supervisor, partition, record…" },
      machine: { type: ['string', 'null'] },
      status: { enum: ['active', 'done', 'error', 'stopped'] },
      state: { description: "the snapshot's state value" },
      activeStates: { type: 'array', items: { type: 'string' } },
      context: {
        type: 'object',
        description:
          'Partition: topic, partition, inFlight, waitingForOperator, window, fetchOffset, ' +
          'completedOffset, committedOffset, highWatermark, lag, paused, pausedBy, parkedKeys, ' +
          'lastError, restarts, lastFailure, stats. Supervisor: owned, draining, restarts, ' +
          'restartBudget, lastFailures, failure. Offsets are decimal strings.',
      },
    },
  },
  ActorDetail: {
    allOf: [
      ref('ActorSummary'),
      {
        type: 'object',
        properties: {
          options: { type: ['object', 'null'] },
          childCount: { type: 'integer' },
          children: { type: 'array', items: ref('ActorSummary') },
        },
      },
    ],
  },
  DeadLetterReason: { enum: ['poison', 'non-retryable', 'retries-exhausted', 'deadline'] },
  DeadLetterCounts: {
    type: 'object',
    properties: {
      topic: { type: ['string', 'null'] },
      total: { type: 'integer' },
      byReason: { type: 'object', additionalProperties: { type: 'integer' } },
      byPartition: { type: 'object', additionalProperties: { type: 'integer' } },
    },
  },
  RedriveReport: {
    type: 'object',
    properties: {
      deadLetterTopic: { type: 'string' },
      inputTopic: { type: 'string' },
      reason: { oneOf: [ref('DeadLetterReason'), { type: 'null' }] },
      dropDeadline: { type: 'boolean' },
      redriven: { type: 'integer' },
      skipped: { type: 'integer', description: 'dead letters of another reason' },
      valueDropped: { type: 'integer', description: 'dead letters written without their value' },
      partitions: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            partition: { type: 'integer' },
            fromOffset: { type: 'string' },
            toOffset: { type: 'string' },
          },
        },
      },
    },
  },
  MachineSummary: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      id: { type: 'string' },
      source: {
        type: 'object',
        properties: { path: { type: 'string' }, export: { type: 'string' } },
      },
      links: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
  Readiness: {
    type: 'object',
    properties: {
      ready: { type: 'boolean' },
      checks: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          properties: { ok: { type: 'boolean' }, detail: { type: 'string' } },
        },
      },
    },
  },
};
