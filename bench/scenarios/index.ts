import { backlogMemory } from './backlog-memory.ts';
import { baseline } from './baseline.ts';
import { capacity } from './capacity.ts';
import { latency } from './latency.ts';
import { orchestration } from './orchestration.ts';
import { recovery } from './recovery.ts';
import type { Scenario } from './scenario.ts';

/** Every scenario, in the order a full run takes them. */
export const scenarios: Scenario[] = [
  capacity,
  baseline,
  orchestration,
  latency,
  backlogMemory,
  recovery,
];
