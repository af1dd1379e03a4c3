import type { ConfigInput } from '../../src/config.ts';
import { CommitWatch } from './commit-watch.ts';
import { type Contender, startContender } from './contenders.ts';
import { PacedProducer } from './paced-producer.ts';
import type { Replicas } from './replicas.ts';
import type { RunResources, RunTopics } from './resources.ts';
import { Tally } from './tally.ts';
import type { Workload } from './workload.ts';

export interface LiveRunOptions {
  label: string;
  resources: RunResources;
  replicas: Replicas;
  workload: Workload;
  partitions: number;
  /** Records per second the paced producer sends. */
  rate: number;
  /** Read input append times and watch commits, for the latency split. */
  detailed: boolean;
  /** Tokenline configuration beyond the defaults. */
  extra?: ConfigInput;
}

/**
 * Tokenline under live traffic: topics, a result tally, the service, and a paced producer
 * sending from the moment the service is a member of its group.
 */
export class LiveRun {
  readonly topics: RunTopics;
  readonly tally: Tally;
  readonly contender: Contender;
  readonly producer: PacedProducer;
  readonly commits: CommitWatch | null;

  private constructor(fields: Omit<LiveRun, 'stop' | 'settleAll'>) {
    this.topics = fields.topics;
    this.tally = fields.tally;
    this.contender = fields.contender;
    this.producer = fields.producer;
    this.commits = fields.commits;
  }

  static async start(options: LiveRunOptions): Promise<LiveRun> {
    const { resources, label } = options;
    const topics = await resources.topics(label, options.partitions);
    const tally = new Tally(topics, resources.group(`${label}-tally`), {
      inputTimes: options.detailed,
    });
    await tally.start();
    const contender = await startContender({ kind: 'tokenline', ...options, topics }).catch(
      async (error) => {
        await tally.close();
        throw error;
      },
    );
    const commits = options.detailed ? new CommitWatch(contender.groupId, topics.input) : null;
    commits?.start();
    const producer = new PacedProducer(options.workload, topics.input, options.rate);
    producer.start();

    return new LiveRun({ topics, tally, contender, producer, commits });
  }

  /** Waits until every record sent has a result or a dead letter; false on timeout. */
  settleAll(timeoutMs: number): Promise<boolean> {
    return this.tally.waitFor(this.producer.sent - this.producer.failures, timeoutMs);
  }

  async stop(): Promise<void> {
    await this.producer.stop();
    await this.commits?.stop();
    await this.contender.stop();
    await this.tally.close();
  }
}
