import { kOptions } from '@platformatic/kafka';
import type { TopicPartition } from '../actors/supervisor.ts';
import { logger } from '../log.ts';
import { withTimeout } from '../timeout.ts';
import type { BufferConsumer } from './clients.ts';

export interface GroupMembershipListeners {
  /** After every (re)join: this member's whole assignment and the generation it belongs to. */
  onAssignment(partitions: TopicPartition[], generationId: number): void;
  /**
   * Before this member rejoins or leaves, with every partition it owns (the group's protocol
   * is eager: a rejoin gives up all partitions, and the new assignment may hand some back).
   * The old generation still stands while it runs, so offsets committed here count.
   */
  beforeRevoke?(revoked: TopicPartition[]): Promise<void>;
}

export interface GroupMembershipOptions {
  /**
   * Longest wait for `beforeRevoke`; the rejoin goes ahead afterwards. Default: 80 % of the
   * smaller of the consumer's session and rebalance timeouts, so that the JoinGroup reaches the
   * broker before the group gives up on this member (heartbeats stop while the hook runs).
   */
  revokeTimeoutMs?: number;
}

type ProtocolsMetadata = () => Promise<Buffer>;

interface Assignment {
  partitions: TopicPartition[];
  generationId: number;
}

// The consumer protocol's user data; the round-robin assignor reads none.
const noUserData = Buffer.alloc(0);

const log = logger('kafka');

/**
 * This member's place in the consumer group (classic protocol), without a messages stream:
 * joins, keeps heartbeating (the consumer's own timer), rejoins when the group rebalances,
 * and reports every assignment. Fetching is left to the partition actors.
 *
 * When it rebalances: the consumer learns of a rebalance from a heartbeat answered with
 * REBALANCE_IN_PROGRESS (so up to one heartbeat interval after another member joined or left),
 * or from a commit refused for that reason, and sends JoinGroup at once: the library has no
 * revocation callback. The one thing it awaits before every JoinGroup is `protocolsMetadata`,
 * which builds the subscription's user data and may return a promise; `beforeRevoke` runs
 * there. The group waits for it (it stays in PreparingRebalance until every member rejoined,
 * up to the rebalance timeout) and the old generation can still commit. The consumer stops
 * heartbeating meanwhile: a hook that outlasts the rebalance or session timeout is left
 * behind (measured: an 8 s hook with 6 s timeouts; the group completed at 6 s without this
 * member). `revokeTimeoutMs` stops waiting in time, but cannot recall the hook's late work, and
 * `Consumer.commit` always sends the consumer's current generation (rejoining and retrying when
 * refused): a late commit lands under the next generation, even for a partition another member
 * now owns. So check `owns()` right before every commit.
 *
 * Listener order: `onAssignment` never overlaps `beforeRevoke`; an assignment reported while
 * the hook runs is delivered once it is done.
 */
export class GroupMembership {
  readonly #consumer: BufferConsumer;
  readonly #listeners: GroupMembershipListeners;
  readonly #revokeTimeoutMs: number;
  #owned: TopicPartition[] = [];
  #generationId = -1;
  #revocation: Promise<void> | null = null;
  #leaving = false;
  // An assignment that arrived while beforeRevoke ran; delivered once it is done.
  #deferred: Assignment | null = null;

  constructor(
    consumer: BufferConsumer,
    listeners: GroupMembershipListeners,
    options: GroupMembershipOptions = {},
  ) {
    this.#consumer = consumer;
    this.#listeners = listeners;
    this.#revokeTimeoutMs = options.revokeTimeoutMs ?? defaultRevokeTimeout(consumer);
  }

  /** Generation of the group this member last joined; -1 before the first join. */
  get generationId(): number {
    return this.#generationId;
  }

  /** Partitions this member owns now; empty while a revocation is being handled. */
  get assignment(): TopicPartition[] {
    return [...this.#owned];
  }

  owns(topic: string, partition: number): boolean {
    return this.#owned.some((tp) => tp.topic === topic && tp.partition === partition);
  }

  /** Subscribes the topics and joins; resolves with the first assignment reported. */
  async join(topics: string[]): Promise<void> {
    const consumer = this.#consumer;
    const beforeJoin: ProtocolsMetadata = () => this.#beforeJoin();
    // Every join path must run the hook, including the rejoin the consumer starts by itself
    // after a refused commit, which reads the consumer's options rather than ours.
    Object.assign(consumer[kOptions], { protocolsMetadata: beforeJoin });
    consumer.on('consumer:group:join', (payload) => {
      const partitions = (payload.assignments ?? []).flatMap((a) =>
        a.partitions.map((partition) => ({ topic: a.topic, partition })),
      );
      this.#assigned({ partitions, generationId: payload.generationId ?? consumer.generationId });
    });
    // A failed rejoin is emitted as 'error'; unhandled, it would crash the process.
    consumer.on('error', (error: Error) => log.error({ err: error }, 'consumer group error'));
    consumer.on('consumer:heartbeat:stalled', (stall) =>
      log.warn({ stalledMs: stall.stalledFor }, 'heartbeats stalled'),
    );
    // The subscription: joinGroup advertises consumer.topics; no messages stream is created.
    consumer.topics.trackAll(...topics);
    await consumer.joinGroup({ protocolsMetadata: beforeJoin });
  }

  /** Runs `beforeRevoke` for what this member owns, then leaves the group and closes. */
  async leave(): Promise<void> {
    this.#leaving = true;
    // A rebalance's revocation may be under way; what it revoked is not revoked twice.
    await this.#revocation;
    await this.#revoke(this.#owned);
    await this.#consumer.close();
  }

  async #beforeJoin(): Promise<Buffer> {
    // The hook also runs for a rejoin started by a commit inside beforeRevoke: that one must
    // not wait for the revocation it is part of.
    if (this.#revocation !== null || this.#leaving) return noUserData;
    await this.#revoke(this.#owned);
    return noUserData;
  }

  #revoke(revoked: TopicPartition[]): Promise<void> {
    const hook = this.#listeners.beforeRevoke;
    if (revoked.length === 0 || !hook) {
      this.#owned = [];
      return Promise.resolve();
    }
    const running = withTimeout(hook(revoked), this.#revokeTimeoutMs, () => {
      return new Error(`beforeRevoke did not finish within ${this.#revokeTimeoutMs} ms`);
    });
    this.#revocation = running
      .catch((error: unknown) => {
        // The rejoin must go on regardless: a member that never rejoins stalls the whole group.
        log.warn({ err: error, partitions: revoked.length }, 'beforeRevoke failed');
      })
      .finally(() => this.#revoked());
    return this.#revocation;
  }

  #revoked(): void {
    this.#revocation = null;
    this.#owned = [];
    const deferred = this.#deferred;
    this.#deferred = null;
    if (deferred) this.#assigned(deferred);
  }

  #assigned(assignment: Assignment): void {
    if (this.#leaving) return;
    // Only when beforeRevoke outlasted the rebalance timeout: a commit inside it was refused,
    // and the consumer rejoined by itself to retry it. The caller sees the revocation end first.
    if (this.#revocation !== null) {
      this.#deferred = assignment;
      return;
    }
    // A rejoin started by a refused commit and one already under way can report one generation
    // twice; the caller hears it once.
    if (assignment.generationId === this.#generationId && this.#owned.length > 0) return;
    this.#owned = assignment.partitions;
    this.#generationId = assignment.generationId;
    this.#listeners.onAssignment(this.assignment, assignment.generationId);
  }
}

function defaultRevokeTimeout(consumer: BufferConsumer): number {
  const options = consumer[kOptions] as { sessionTimeout?: number; rebalanceTimeout?: number };
  const session = options.sessionTimeout ?? 10_000;
  return Math.floor(0.8 * Math.min(session, options.rebalanceTimeout ?? session));
}
