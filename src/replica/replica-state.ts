import { defaultModel } from './default-model.ts';
import { type FaultSettings, type Faults, faultsSchema } from './faults.ts';
import type { Classifier } from './naive-bayes.ts';
import {
  type ReplicaOptions,
  type ResolvedReplicaOptions,
  replicaOptionsSchema,
} from './options.ts';
import { RequestLog } from './request-log.ts';
import { SlotPool } from './slot-pool.ts';

/** Counts since start: what `GET /admin/stats` answers. */
export interface ReplicaStats {
  slots: number;
  queueLimit: number;
  /** Requests holding a slot now. */
  inFlight: number;
  /** Requests waiting for a slot now. */
  queued: number;
  /** Requests held by the `hang` fault now. */
  hanging: number;
  /** Inference requests answered 2xx. */
  served: number;
  /** Requests turned away because the queue was full. */
  rejected: number;
  /** Requests answered with an injected error or an outage. */
  failed: number;
  /** Requests whose client gave up before the answer. */
  aborted: number;
}

type Counter = 'served' | 'rejected' | 'failed' | 'aborted' | 'hanging';

/** Everything one replica holds while it runs: its model, slots, faults, log and counters. */
export class ReplicaState {
  readonly options: ResolvedReplicaOptions;
  readonly model: Classifier;
  readonly slots: SlotPool;
  readonly requests: RequestLog;
  #faults: Faults;
  readonly #counts: Record<Counter, number> = {
    served: 0,
    rejected: 0,
    failed: 0,
    aborted: 0,
    hanging: 0,
  };

  constructor(options: ReplicaOptions = {}) {
    this.options = replicaOptionsSchema.parse(options);
    this.model = options.model ?? defaultModel().model;
    this.slots = new SlotPool(this.options.slots, this.options.queueLimit);
    this.requests = new RequestLog(this.options.requestLogLimit);
    this.#faults = this.options.faults;
  }

  get faults(): Faults {
    return this.#faults;
  }

  /** Replaces every fault: a setting left out goes back to its default (off). */
  setFaults(settings: FaultSettings): Faults {
    this.#faults = faultsSchema.parse(settings);

    return this.#faults;
  }

  count(counter: Counter, by = 1): void {
    this.#counts[counter] += by;
  }

  stats(): ReplicaStats {
    const { slots, queueLimit } = this.options;
    const { hanging, served, rejected, failed, aborted } = this.#counts;
    const { inUse: inFlight, queued } = this.slots;

    return { slots, queueLimit, inFlight, queued, hanging, served, rejected, failed, aborted };
  }
}
