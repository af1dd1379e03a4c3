import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TopicPartition } from '../../src/actors/supervisor.ts';
import type { BufferConsumer } from '../../src/kafka/clients.ts';
import {
  GroupMembership,
  type GroupMembershipListeners,
} from '../../src/kafka/group-membership.ts';
import { committedOffsets, uniqueName } from '../support/services.ts';
import { createTopic, deleteGroup, deleteTopic, testConsumer, until } from './fixtures.ts';

interface Member {
  membership: GroupMembership;
  consumer: BufferConsumer;
  assignments: { partitions: number[]; generationId: number }[];
  /** Every listener call in order, to check that a revocation precedes the next assignment. */
  calls: string[];
}

const partitionsOf = (tps: TopicPartition[]) => tps.map((tp) => tp.partition).sort();

describe('GroupMembership on a real broker', () => {
  let name: string;
  let topic: string;
  let groupId: string;
  let members: Member[];

  beforeEach(async () => {
    name = uniqueName('membership');
    topic = `${name}.in`;
    groupId = `${name}-group`;
    members = [];
    await createTopic(topic, 4);
  });

  afterEach(async () => {
    await Promise.all(members.map((m) => m.membership.leave().catch(() => undefined)));
    await deleteGroup(groupId);
    await deleteTopic(topic);
  });

  function member(id: string, beforeRevoke?: GroupMembershipListeners['beforeRevoke']): Member {
    const consumer = testConsumer(groupId, `tokenline-test-${id}`);
    const created: Member = {
      membership: undefined as never,
      consumer,
      assignments: [],
      calls: [],
    };
    created.membership = new GroupMembership(consumer, {
      onAssignment(partitions, generationId) {
        created.assignments.push({ partitions: partitionsOf(partitions), generationId });
        created.calls.push(`assigned ${partitionsOf(partitions).join(',')}`);
      },
      beforeRevoke: async (revoked) => {
        created.calls.push(`revoking ${partitionsOf(revoked).join(',')}`);
        await beforeRevoke?.(revoked);
      },
    });
    members.push(created);
    return created;
  }

  const last = (m: Member) => m.assignments.at(-1);

  it('gives a lone member every partition', async () => {
    const a = member('a');
    await a.membership.join([topic]);

    expect(last(a)?.partitions).toEqual([0, 1, 2, 3]);
    expect(a.membership.generationId).toBeGreaterThan(0);
    expect(a.membership.owns(topic, 3)).toBe(true);
    expect(a.membership.owns(topic, 4)).toBe(false);
  });

  it('splits the partitions when a second member joins, and tells both', async () => {
    const a = member('a');
    await a.membership.join([topic]);
    const b = member('b');
    await b.membership.join([topic]);
    await until(() => last(a)?.generationId === last(b)?.generationId);

    const split = [...(last(a)?.partitions ?? []), ...(last(b)?.partitions ?? [])].sort();
    expect(split).toEqual([0, 1, 2, 3]);
    expect(last(a)?.partitions).toHaveLength(2);
    expect(last(b)?.partitions).toHaveLength(2);
    expect(a.calls).toEqual([
      'assigned 0,1,2,3',
      'revoking 0,1,2,3',
      expect.stringMatching(/^assigned/),
    ]);
    expect(b.membership.owns(topic, last(a)?.partitions[0] ?? -1)).toBe(false);
  });

  it('hands its partitions back to the group when it leaves', async () => {
    const a = member('a');
    await a.membership.join([topic]);
    const b = member('b');
    await b.membership.join([topic]);
    await until(() => last(a)?.partitions.length === 2);

    await b.membership.leave();
    members = members.filter((m) => m !== b);

    await until(() => last(a)?.partitions.length === 4);
    expect(b.calls.at(-1)).toMatch(/^revoking/);
    expect(last(a)?.generationId).toBeGreaterThan(last(b)?.generationId ?? 0);
  });

  it('waits for beforeRevoke before rejoining, and a commit made in it counts', async () => {
    let ownedDuringRevoke: boolean | null = null;
    let generationDuringRevoke = -1;
    const a: Member = member('a', async (revoked) => {
      ownedDuringRevoke = revoked.every((tp) => a.membership.owns(tp.topic, tp.partition));
      generationDuringRevoke = a.consumer.generationId;
      // Draining in-flight work takes a while; the group must wait for it.
      await Bun.sleep(1_000);
      const offsets = revoked.map((tp) => ({ ...tp, offset: 5n, leaderEpoch: -1 }));
      await a.consumer.commit({ offsets });
    });
    await a.membership.join([topic]);
    const firstGeneration = a.membership.generationId;

    const b = member('b');
    const joining = performance.now();
    await b.membership.join([topic]);
    const joinMs = performance.now() - joining;
    await until(() => a.membership.generationId > firstGeneration);

    expect(ownedDuringRevoke).toBe(true);
    expect(generationDuringRevoke).toBe(firstGeneration);
    expect(joinMs).toBeGreaterThanOrEqual(1_000);
    expect(await committedOffsets(groupId, topic)).toEqual([5n, 5n, 5n, 5n]);
  });
});
