import type { ConfigInput } from '../../src/config.ts';
import { Child } from './child.ts';
import type { Replicas } from './replicas.ts';
import { brokers, type RunResources, type RunTopics } from './resources.ts';
import { TokenlineProcess } from './tokenline.ts';

/** What takes records from the input topic to the output topic in a measurement. */
export interface Contender {
  name: string;
  pid: number;
  /** The consumer group it reads the input topic with. */
  groupId: string;
  /** Tokenline's replica workers, when they run in a process of their own. */
  workerPid: number | null;
  /** Set for Tokenline: its process, for gauges. */
  tokenline: TokenlineProcess | null;
  queueName: string | null;
  stop(): Promise<void>;
}

export type ContenderKind = 'tokenline' | 'baseline' | 'pipe';

export interface ContenderSetup {
  kind: ContenderKind;
  label: string;
  resources: RunResources;
  topics: RunTopics;
  replicas: Replicas;
  /** Tokenline configuration beyond the defaults, if any. */
  extra?: ConfigInput;
}

export function startContender(setup: ContenderSetup): Promise<Contender> {
  if (setup.kind === 'tokenline') return startTokenline(setup);
  if (setup.kind === 'baseline') return startBaseline(setup);
  return startPipe(setup);
}

async function startTokenline(setup: ContenderSetup): Promise<Contender> {
  const queueName = setup.resources.queue(`${setup.label}-inference`);
  const groupId = setup.resources.group(`${setup.label}-tokenline`);
  const service = await TokenlineProcess.start({
    topics: setup.topics,
    groupId,
    queueName,
    replicaUrls: setup.replicas.urls,
    slots: setup.replicas.options.slots,
    extra: setup.extra,
  });
  return {
    name: 'tokenline',
    pid: service.pid,
    groupId,
    workerPid: service.workers?.pid ?? null,
    tokenline: service,
    queueName,
    stop: () => service.stop(),
  };
}

async function startBaseline(setup: ContenderSetup): Promise<Contender> {
  const options = {
    brokers,
    groupId: setup.resources.group(`${setup.label}-baseline`),
    input: setup.topics.input,
    output: setup.topics.output,
    replicaUrl: setup.replicas.urls[0],
    model: 'spam-nb',
  };
  return childContender('baseline', 'bench/contenders/baseline-loop.ts', options);
}

async function startPipe(setup: ContenderSetup): Promise<Contender> {
  const options = {
    brokers,
    groupId: setup.resources.group(`${setup.label}-pipe`),
    input: setup.topics.input,
    output: setup.topics.output,
  };
  return childContender('pipe', 'bench/contenders/plain-pipe.ts', options);
}

async function childContender(
  name: string,
  script: string,
  options: { groupId: string },
): Promise<Contender> {
  const child = new Child(name, [script, JSON.stringify(options)]);
  await child.waitFor(/^ready$/m, 60_000);
  const { groupId } = options;
  return {
    name,
    pid: child.pid,
    workerPid: null,
    groupId,
    tokenline: null,
    queueName: null,
    stop: () => child.stop(),
  };
}
