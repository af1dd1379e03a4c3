import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { checkModelsAndRevision } from '../../src/inference/revision.ts';
import { type RunningReplica, startReplica } from '../../src/replica/server.ts';

describe('the model check at start-up', () => {
  let replica: RunningReplica;
  let noModelList: ReturnType<typeof Bun.serve>;

  beforeAll(async () => {
    replica = await startReplica({ port: 0, slots: 2, serviceTimeMs: 0 });
    // An OpenAI-compatible server without GET /v1/models.
    noModelList = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => new Response('', { status: 404 }),
    });
  });

  afterAll(async () => {
    await replica.stop();
    await noModelList.stop(true);
  });

  it('stops start-up naming model.name when a replica serves another model', async () => {
    const config = parseConfig({
      model: { name: 'wrong-model' },
      replicas: [{ url: replica.url }],
    });
    const check = checkModelsAndRevision(config);
    await expect(check).rejects.toBeInstanceOf(ConfigError);
    await expect(check).rejects.toThrow(
      `invalid configuration: model.name: replica ${replica.url} serves "spam-nb", not "wrong-model"`,
    );
  });

  it("names the replica's own model field when that is the one set", async () => {
    const config = parseConfig({
      replicas: [{ url: replica.url }, { url: replica.url, model: 'other' }],
    });
    await expect(checkModelsAndRevision(config)).rejects.toThrow(
      /invalid configuration: replicas\.1\.model: .* serves "spam-nb", not "other"/,
    );
  });

  it('takes the revision the replica names for the configured model', async () => {
    const config = parseConfig({ replicas: [{ url: replica.url }] });
    const revision = await checkModelsAndRevision(config);
    expect(revision).toMatch(/^[0-9a-f]{12}$/);
    expect(revision).toBe(replica.revision);
  });

  it('keeps an explicit revision, and checks nothing it cannot ask', async () => {
    const explicit = parseConfig({
      model: { revision: 'r7' },
      replicas: [{ url: replica.url }, { url: `http://127.0.0.1:${noModelList.port}` }],
    });
    expect(await checkModelsAndRevision(explicit)).toBe('r7');
    // No model list and no answer at all: nothing to check, and no revision to take.
    const unknown = parseConfig({
      replicas: [{ url: `http://127.0.0.1:${noModelList.port}` }, { url: 'http://127.0.0.1:1' }],
    });
    expect(await checkModelsAndRevision(unknown)).toBe('unknown');
  });
});
