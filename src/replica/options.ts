import * as z from 'zod';
import { faultsSchema } from './faults.ts';
import type { Classifier } from './naive-bayes.ts';

/** How a replica serves: its capacity, its emulated GPU time and the faults it starts with. */
export const replicaOptionsSchema = z.object({
  /** TCP port; 0 picks a free one. Default 0. */
  port: z.int().min(0).max(65_535).default(0),
  /** Interface to listen on. Default '127.0.0.1'. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Requests served at once, like a GPU server's batch slots. Default 8. */
  slots: z.int().min(1).default(8),
  /** Least time a request holds its slot, emulating GPU time, in ms. Default 20. */
  serviceTimeMs: z.number().min(0).default(20),
  /**
   * Service time each extra input of a batched request adds, as a share of `serviceTimeMs`:
   * a batch shares one forward pass, so it costs less than separate requests. Default 0.25.
   */
  batchItemCost: z.number().min(0).default(0.25),
  /** Requests allowed to wait for a slot; more are answered as overloaded. Default 64. */
  queueLimit: z.int().min(0).default(64),
  /** Status for a request that finds the queue full: 429 (TGI) or 503. Default 429. */
  overloadStatus: z.union([z.literal(429), z.literal(503)]).default(429),
  /** The one model name this replica serves; any other is 404. Default 'spam-nb'. */
  modelName: z.string().min(1).default('spam-nb'),
  /**
   * Token usage in every response. False emulates servers that leave `usage` out, so that
   * clients must count tokens themselves. Default true.
   */
  reportUsage: z.boolean().default(true),
  /** Inference requests kept in the request log, newest last. Default 100000. */
  requestLogLimit: z.int().min(1).default(100_000),
  /** Faults in force from the start. Default: none. */
  faults: faultsSchema.prefault({}),
});

export type ReplicaOptions = z.input<typeof replicaOptionsSchema> & {
  /** The model to serve. Default: Naive Bayes trained on the corpus's training split. */
  model?: Classifier;
};

export type ResolvedReplicaOptions = z.output<typeof replicaOptionsSchema>;
