import type { Redis } from 'ioredis';
import type { BufferProducer } from '../kafka/clients.ts';
import type { SupervisorActor } from '../service.ts';
import { withTimeout } from '../timeout.ts';

export interface ReadinessCheck {
  ok: boolean;
  /** Why it is not ok, or what was seen. */
  detail?: string;
}

/** GET /health/ready's answer: ready only when every check is. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

/** How long one readiness answer is reused: probes may come often, the checks cost a round trip. */
export const readinessCacheMs = 1_000;

/**
 * Wraps a readiness check so that calls within `ttlMs` share one answer, and calls while a
 * check runs wait for it instead of starting another.
 */
export function cachedReadiness(
  check: () => Promise<ReadinessReport>,
  ttlMs = readinessCacheMs,
): () => Promise<ReadinessReport> {
  let last: { at: number; report: Promise<ReadinessReport> } | null = null;
  return () => {
    const now = Date.now();
    if (last && now - last.at < ttlMs) return last.report;
    const report = check().catch(
      (error: unknown): ReadinessReport => ({
        ready: false,
        checks: { readiness: { ok: false, detail: (error as Error).message } },
      }),
    );
    last = { at: now, report };
    return report;
  };
}

/**
 * What the supervisor alone tells: it runs, owns partitions, and none is being revoked. The
 * service adds the group, Kafka and Redis (`Service.readiness`).
 */
export function supervisorCheck(supervisor: SupervisorActor): ReadinessCheck {
  const snapshot = supervisor.getSnapshot();
  if (snapshot.status !== 'active' || snapshot.value !== 'running') {
    return { ok: false, detail: `supervisor is ${snapshot.status} (${String(snapshot.value)})` };
  }
  const draining = Object.keys(snapshot.context.draining);
  if (draining.length > 0) {
    return { ok: false, detail: `rebalancing: revoking ${draining.join(', ')}` };
  }
  const owned = Object.keys(snapshot.context.owned).length;
  if (owned === 0) return { ok: false, detail: 'no partition assigned yet' };
  return { ok: true, detail: `${owned} partition(s) assigned` };
}

export function reportOf(checks: Record<string, ReadinessCheck>): ReadinessReport {
  return { ready: Object.values(checks).every((check) => check.ok), checks };
}

/** Kafka answers a metadata request for `topic` within `timeoutMs`. */
export async function probeKafka(
  producer: BufferProducer | null,
  topic: string,
  timeoutMs: number,
): Promise<ReadinessCheck> {
  if (!producer) return { ok: false, detail: 'Kafka: not connected' };
  try {
    const request = producer.metadata({ topics: [topic], forceUpdate: true });
    await withTimeout(request, timeoutMs, () => new Error('no answer in time'));
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: `Kafka: ${(error as Error).message}` };
  }
}

/** Redis is connected and answers PING within `timeoutMs`. */
export async function probeRedis(redis: Redis | null, timeoutMs: number): Promise<ReadinessCheck> {
  // A command sent while disconnected waits in ioredis's queue: answer from the status.
  if (redis?.status !== 'ready') {
    return { ok: false, detail: `Redis: connection ${redis?.status ?? 'not open'}` };
  }
  try {
    await withTimeout(redis.ping(), timeoutMs, () => new Error('no answer in time'));
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: `Redis: ${(error as Error).message}` };
  }
}
