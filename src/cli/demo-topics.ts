import type { Admin } from '@platformatic/kafka';

export interface TopicSpec {
  name: string;
  partitions: number;
}

/** Deletes the given topics if they exist and creates them afresh, so a demo starts empty. */
export async function recreateTopics(admin: Admin, specs: TopicSpec[]): Promise<void> {
  const existing = await admin.listTopics();
  const stale = specs.map((s) => s.name).filter((name) => existing.includes(name));
  if (stale.length > 0) {
    await admin.deleteTopics({ topics: stale });
    await waitUntil(async () => {
      const now = await admin.listTopics();
      return stale.every((name) => !now.includes(name));
    }, 30_000);
  }
  for (const spec of specs) {
    await retry(() =>
      admin.createTopics({ topics: [spec.name], partitions: spec.partitions, replicas: 1 }),
    );
  }
  await waitForTopics(
    admin,
    specs.map((s) => s.name),
  );
}

/** Waits until the broker lists every topic: creation is acknowledged before metadata spreads. */
export async function waitForTopics(admin: Admin, names: string[]): Promise<void> {
  await waitUntil(async () => {
    const now = await admin.listTopics();
    return names.every((name) => now.includes(name));
  }, 30_000);
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await Bun.sleep(200);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

// A topic just deleted can still be marked for deletion for a moment; creation then fails.
async function retry<T>(action: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await action();
    } catch (error) {
      if (i >= attempts) throw error;
      await Bun.sleep(250);
    }
  }
}
