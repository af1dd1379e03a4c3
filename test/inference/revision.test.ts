import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/errors.ts';
import { checkModels, resolveRevision } from '../../src/inference/revision.ts';
import { type RunningReplica, startReplica } from '../../src/replica/server.ts';

describe('the model check at start-up', () => {
  let replica: RunningReplica;
  let noModelList: ReturnType<typeof Bun.serve>;
  let takesAnyName: ReturnType<typeof Bun.serve>;

  beforeAll(async () => {
    replica = await startReplica({ port: 0, slots: 2, serviceTimeMs: 0 });
    // An OpenAI-compatible server without GET /v1/models.
    noModelList = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => new Response('', { status: 404 }),
    });
    // Like TGI: lists its real model id, and serves whatever name a request gives.
    takesAnyName = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: async (request) => {
        const url = new URL(request.url);
        if (url.pathname === '/v1/models') {
          return Response.json({ object: 'list', data: [{ id: 'org/real-model' }] });
        }
        const body = (await request.json()) as Record<string, unknown>;
        return fetch(`${replica.url}${url.pathname}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...body, model: replica.modelName }),
        });
      },
    });
  });

  afterAll(async () => {
    await replica.stop();
    await noModelList.stop(true);
    await takesAnyName.stop(true);
  });

  it('stops start-up naming model.name when a replica neither lists nor takes the name', async () => {
    const config = parseConfig({
      model: { name: 'wrong-model' },
      replicas: [{ url: replica.url }],
    });
    const check = checkModels(config);
    await expect(check).rejects.toBeInstanceOf(ConfigError);
    await expect(check).rejects.toThrow(
      new RegExp(
        `^invalid configuration: model\\.name: replica ${replica.url} lists "spam-nb", ` +
          'not "wrong-model", and refused it: replica answered 404',
      ),
    );
  });

  it("names the replica's own model field when that is the one set", async () => {
    const config = parseConfig({
      replicas: [{ url: replica.url }, { url: replica.url, model: 'other' }],
    });
    await expect(checkModels(config)).rejects.toThrow(
      /invalid configuration: replicas\.1\.model: .* lists "spam-nb", not "other", and refused it/,
    );
  });

  it('lets a replica that takes a name it does not list keep it', async () => {
    const config = parseConfig({
      model: { name: 'tgi' },
      replicas: [{ url: `http://127.0.0.1:${takesAnyName.port}` }],
    });
    const listed = await checkModels(config);
    expect(listed).toEqual([[{ id: 'org/real-model' }]]);
    // It names no revision for the model either.
    expect(resolveRevision(config, listed)).toBe('unknown');
  });

  it('takes the revision the replica names for the configured model', async () => {
    const config = parseConfig({ replicas: [{ url: replica.url }] });
    const revision = resolveRevision(config, await checkModels(config));
    expect(revision).toMatch(/^[0-9a-f]{12}$/);
    expect(revision).toBe(replica.revision);
  });

  it('keeps an explicit revision, and checks nothing it cannot ask', async () => {
    const explicit = parseConfig({
      model: { revision: 'r7' },
      replicas: [{ url: replica.url }, { url: `http://127.0.0.1:${noModelList.port}` }],
    });
    expect(resolveRevision(explicit, await checkModels(explicit))).toBe('r7');
    // No model list and no answer at all: nothing to check, and no revision to take.
    const unknown = parseConfig({
      replicas: [{ url: `http://127.0.0.1:${noModelList.port}` }, { url: 'http://127.0.0.1:1' }],
    });
    const listed = await checkModels(unknown);
    expect(listed).toEqual([undefined, undefined]);
    expect(resolveRevision(unknown, listed)).toBe('unknown');
  });
});
