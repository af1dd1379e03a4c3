/**
 * The built-in replica for a bench run, as its own process so that its CPU is not the
 * service's: `bun bench/support/replica-child.ts '<json>'` with `{ count, slots,
 * serviceTimeMs, queueLimit? }`. Starts `count` replicas on free ports (sharing one trained
 * model), prints `{"urls": [...]}` on one line once they listen, and stops on SIGTERM.
 */
import { defaultModel } from '../../src/replica/default-model.ts';
import { type RunningReplica, startReplica } from '../../src/replica/server.ts';

export interface ReplicaChildOptions {
  count: number;
  slots: number;
  serviceTimeMs: number;
  /** Requests allowed to wait for a slot. Default 64, the replica's own default. */
  queueLimit?: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ReplicaChildOptions;
  const { model } = defaultModel();
  const replicas: RunningReplica[] = [];
  for (let i = 0; i < options.count; i++) {
    replicas.push(
      await startReplica({
        port: 0,
        slots: options.slots,
        serviceTimeMs: options.serviceTimeMs,
        queueLimit: options.queueLimit ?? 64,
        model,
      }),
    );
  }
  console.log(JSON.stringify({ urls: replicas.map((r) => r.url) }));
  const stop = async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`replica child: ${(error as Error).message}`);
  process.exit(2);
});
