import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AnyActorRef, AnyStateMachine } from 'xstate';
import { partitionMachine } from '../../src/actors/partition.ts';
import { recordMachine } from '../../src/actors/record.ts';
import { allNodes, machineGraph } from '../../src/http/machine-graph.ts';
import { machineCatalog } from '../../src/http/machines.ts';
import { settle, sourceRecord } from '../support/machine-ports.ts';
import { testApp, withToken } from './fixtures.ts';

type Json = Record<string, unknown>;

/** The served JSON without the `always` lists the API adds to XState's definition. */
function withoutAlways(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(withoutAlways);
  if (!json || typeof json !== 'object') return json;
  const copy: Json = {};
  for (const [key, value] of Object.entries(json))
    if (key !== 'always') copy[key] = withoutAlways(value);
  return copy;
}

/** Dotted paths of every state node in a served definition. */
function statePaths(json: Json, prefix = ''): string[] {
  const states = (json.states ?? {}) as Record<string, Json>;
  return Object.entries(states).flatMap(([key, child]) => [
    prefix + key,
    ...statePaths(child, `${prefix}${key}.`),
  ]);
}

function nodeAt(json: Json, path: string): Json {
  return path
    .split('.')
    .reduce((node, key) => (node.states as Record<string, Json>)[key] as Json, json);
}

describe('machine definitions', () => {
  it('lists each machine with the file and export its source lives in', async () => {
    const body = (await (await testApp([]).app.request('/machines')).json()) as {
      machines: Array<{ name: string; id: string; source: { path: string; export: string } }>;
    };
    expect(body.machines.map((m) => m.name)).toEqual([
      'supervisor',
      'partition',
      'record',
      'breaker',
    ]);
    for (const machine of body.machines) {
      const source = readFileSync(machine.source.path, 'utf8');
      expect(source).toMatch(new RegExp(`export const ${machine.source.export} = setup\\(`));
      expect(source).toContain(`id: '${machine.id}'`);
    }
  });

  it("serves XState's definition of each machine, plus its always transitions", async () => {
    const { app } = testApp([]);
    for (const { name, machine } of machineCatalog) {
      const served = (await (await app.request(`/machines/${name}`)).json()) as Json;
      expect(withoutAlways(served)).toEqual(JSON.parse(JSON.stringify(machine.definition)));
    }
    const partition = (await (await app.request('/machines/partition')).json()) as Json;
    const fetching = nodeAt(partition, 'running.intake.fetching');
    expect(fetching.always).toEqual([
      expect.objectContaining({
        guard: 'windowFull',
        target: ['#partition.running.intake.paused'],
      }),
      expect.objectContaining({ guard: 'queueDeep', target: ['#partition.running.intake.paused'] }),
    ]);
    expect(nodeAt(partition, 'finalCommit').always).toEqual([
      expect.objectContaining({ guard: 'nothingToCommit', target: ['#partition.stopped'] }),
    ]);
  });

  it('matches the running actors: same machine, and every active state exists in it', async () => {
    const { app, supervisor, ports } = testApp([0]);
    await settle();
    const served = (await (await app.request('/machines/partition')).json()) as Json;
    const known = new Set(statePaths(served));
    const actor = supervisor.getSnapshot().children['partition-emails-0'] as AnyActorRef;
    const running = (actor as unknown as { logic: AnyStateMachine }).logic;
    expect(running).toBe(partitionMachine);
    expect(withoutAlways(served)).toEqual(JSON.parse(JSON.stringify(running.definition)));

    const seen: string[] = [];
    const look = async () => {
      const summary = (await (await app.request('/actors/partition-emails-0')).json()) as {
        activeStates: string[];
      };
      seen.push(...summary.activeStates);
    };
    await look();
    await app.request('/actors/partition-emails-0/pause', { method: 'POST', headers: withToken });
    await look();
    // A record in flight keeps the revoked partition draining long enough to be looked at.
    await app.request('/actors/partition-emails-0/resume', { method: 'POST', headers: withToken });
    ports.get(0)?.feed([sourceRecord(0, 'a', { text: 'one' })]);
    await settle();
    supervisor.send({ type: 'assignment.changed', partitions: [] });
    await look();
    expect(seen).toContain('running.intake.held');
    expect(seen).toContain('draining');
    for (const path of seen) expect(known, path).toContain(path);
  });
});

describe('machine diagrams', () => {
  it('writes a Mermaid stateDiagram-v2 with nested, parallel, always and after transitions', async () => {
    const response = await testApp([]).app.request('/machines/partition/mermaid');
    expect(response.headers.get('content-type')).toMatch(/^text\/vnd\.mermaid/);
    const text = await response.text();
    const lines = text.split('\n').map((line) => line.trim());
    expect(lines[0]).toBe('stateDiagram-v2');
    for (const expected of [
      '[*] --> running',
      'state running {',
      'state intake {',
      '--',
      'state commit {',
      '[*] --> locating',
      'fetching --> paused : always [windowFull] / markPausedByWindow',
      'paused --> fetching : always [mayResume] / clearPaused',
      'fetchBackoff --> fetching : after fetchRetry [knowsOffset]',
      'fetchBackoff --> locating : after fetchRetry',
      'idle --> committing : after commitInterval [commitPending]',
      'draining --> finalCommit : always [nothingInFlight]',
      'finalCommit --> stopped : always [nothingToCommit]',
      'locating --> fetching : done locateStart / setStartOffset',
      'held --> fetching : partition.resume / clearPaused',
      'running --> draining : partition.drain',
      'stopped --> [*]',
    ]) {
      expect(lines, expected).toContain(expected);
    }
  });

  it('draws every transition of every machine in Mermaid', async () => {
    const { app } = testApp([]);
    for (const { name, machine } of machineCatalog) {
      const text = await (await app.request(`/machines/${name}/mermaid`)).text();
      const edges = machineGraph(machine).edges;
      const arrows = text.split('\n').filter((line) => / --> /.test(line) && / : /.test(line));
      const targets = edges.reduce((sum, edge) => sum + edge.targets.length, 0);
      expect(arrows.length, name).toBe(targets);
    }
  });

  it('finds every always and after transition in the state nodes', () => {
    for (const machine of [partitionMachine, recordMachine]) {
      const graph = machineGraph(machine);
      const nodes = allNodes(graph.root);
      const always = nodes.flatMap((node) => {
        const stateNode = machine.getStateNodeById(
          `${machine.id}${node.path ? `.${node.path}` : ''}`,
        );
        return stateNode.always ?? [];
      });
      const edges = [...graph.edges, ...nodes.flatMap((node) => node.internal)];
      expect(edges.filter((edge) => edge.kind === 'always')).toHaveLength(always.length);
      expect(edges.some((edge) => edge.kind === 'after')).toBe(true);
    }
  });

  it('renders an SVG with an element per state, ids the page highlights', async () => {
    const response = await testApp([]).app.request('/machines/partition/svg');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const svg = await response.text();
    expect(svg).toMatch(/<svg[\s>]/);
    for (const node of allNodes(machineGraph(partitionMachine).root)) {
      if (node.path !== '') expect(svg, node.path).toContain(`id="state:${node.path}"`);
    }
    expect(svg).toContain('always [windowFull] / markPausedByWindow');
    expect(svg).toContain('after fetchRetry [knowsOffset]');
  });
});
