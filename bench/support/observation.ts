import { CpuBudget, type CpuShare, type EventLoopShare } from './cpu-budget.ts';
import type { Replicas } from './replicas.ts';
import { type StageReport, StageSampler, withEventLoop } from './stages.ts';
import type { TokenlineProcess } from './tokenline.ts';

/** What a running Tokenline did over an interval: where records waited, and the CPU. */
export interface Observation {
  stages: StageReport;
  cpu: CpuShare[];
  eventLoop: EventLoopShare | null;
}

/**
 * Starts watching a running Tokenline: its stages once a second, and the CPU of it, the
 * replica, the broker and Redis. The function returned ends the interval and reports it.
 */
export async function observe(
  service: TokenlineProcess,
  replicas: Replicas,
  queueName: string,
): Promise<() => Promise<Observation>> {
  const sampler = new StageSampler(service, replicas, queueName);
  const budget = await new CpuBudget()
    .watch('tokenline', service.pid, true)
    .watch('tokenline workers', service.workers?.pid ?? null)
    .watch('replica', replicas.child.pid)
    .watchInfrastructure();
  const from = budget.snapshot();
  sampler.start();

  return async () => {
    const to = budget.snapshot();
    const eventLoop = CpuBudget.eventLoops(from, to)[0] ?? null;
    const stages = withEventLoop(await sampler.stop(), eventLoop);
    return { stages, cpu: CpuBudget.between(from, to), eventLoop };
  };
}
