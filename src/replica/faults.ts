import * as z from 'zod';

/** Injected faults, settable at runtime through `PUT /admin/faults`. All off by default. */
export const faultsSchema = z
  .object({
    /** Extra time each inference request holds its slot, in ms. Default 0. */
    latencyMs: z.number().min(0).default(0),
    /** Up to this much more extra time, drawn uniformly per request, in ms. Default 0. */
    jitterMs: z.number().min(0).default(0),
    /** Share of inference requests answered with `errorStatus` instead. Default 0. */
    errorRate: z.number().min(0).max(1).default(0),
    /** Status of an injected error: 429, 500 or 503. Default 503. */
    errorStatus: z.union([z.literal(429), z.literal(500), z.literal(503)]).default(503),
    /**
     * Retry-After, in seconds, sent with injected errors and outages. Default: none for
     * injected errors, the time left for an outage.
     */
    retryAfterSeconds: z.int().min(0).optional(),
    /** Inference requests are never answered until their client gives up. Default false. */
    hang: z.boolean().default(false),
    /** Until this time (epoch ms) every inference request gets 503. Default 0: no outage. */
    outageUntil: z.number().min(0).default(0),
  })
  .strict();

export type Faults = z.output<typeof faultsSchema>;
export type FaultSettings = z.input<typeof faultsSchema>;

/** What the faults make of one inference request, decided before it queues for a slot. */
export type FaultVerdict =
  | { kind: 'serve'; extraMs: number }
  | {
      kind: 'fail';
      status: 429 | 500 | 503;
      reason: 'outage' | 'injected';
      retryAfterSeconds?: number;
    }
  | { kind: 'hang' };

export function decideFault(faults: Faults, now: number, random: () => number): FaultVerdict {
  if (now < faults.outageUntil) {
    const left = Math.ceil((faults.outageUntil - now) / 1000);
    return {
      kind: 'fail',
      status: 503,
      reason: 'outage',
      retryAfterSeconds: faults.retryAfterSeconds ?? left,
    };
  }
  if (faults.hang) return { kind: 'hang' };
  if (faults.errorRate > 0 && random() < faults.errorRate) {
    const { errorStatus: status, retryAfterSeconds } = faults;
    return { kind: 'fail', status, reason: 'injected', retryAfterSeconds };
  }

  return { kind: 'serve', extraMs: faults.latencyMs + random() * faults.jitterMs };
}
