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
 * Tokenline under live traffic: topics, the service, and a paced producer sending from the
 * moment the service is a member of its group. The result tally starts reading only when
 * `settleAll` is called, after the traffic: the topics keep the broker's append times, and a
 * tally reading three topics live took CPU from the service it measures (on two cores).
 */
export class LiveRun {
  readonly topics: RunTopics;
  readonly tally: Tally;
  readonly contender: Contender;
  readonly producer: PacedProducer;
  readonly commits: CommitWatch | null;
  #tallying = false;

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
    const contender = await startContender({ kind: 'tokenline', ...options, topics });
    const commits = options.detailed ? new CommitWatch(contender.groupId, topics.input) : null;
    commits?.start();
    const producer = new PacedProducer(options.workload, topics.input, options.rate);
    producer.start();

    return new LiveRun({ topics, tally, contender, producer, commits });
  }

  /**
   * Starts the tally (reading the topics from the start) and waits until every record sent
   * has a result or a dead letter; false on timeout. Call it once the traffic stopped.
   */
  async settleAll(timeoutMs: number): Promise<boolean> {
    if (!this.#tallying) {
      this.#tallying = true;
      await this.tally.start();
    }
    return this.tally.waitFor(this.producer.sent - this.producer.failures, timeoutMs);
  }

  async stop(): Promise<void> {
    await this.producer.stop();
    await this.commits?.stop();
    await this.contender.stop();
    if (this.#tallying) await this.tally.close();
  }
}
