import type { InferenceOutcome, InferenceRequest } from '../contracts/inference.ts';

/** Data of an inference job in Redis: everything a worker on another host needs. */
export interface InferenceJobData extends InferenceRequest {
  revision: string;
}

export type InferenceJobResult = InferenceOutcome;

/** Name of every inference job; BullMQ requires one. */
export const jobName = 'infer';
