import type { AnyStateMachine } from 'xstate';
import { breakerMachine } from '../actors/breaker.ts';
import { partitionMachine } from '../actors/partition.ts';
import { recordMachine } from '../actors/record.ts';
import { supervisorMachine } from '../actors/supervisor.ts';
import { renderSvg, toDot } from './graphviz.ts';
import { machineGraph } from './machine-graph.ts';
import { toMermaid } from './mermaid.ts';

/** A machine the API describes, and where its source lives (for Stately's editor). */
export interface MachineEntry {
  /** Name in the API's paths; also the machine's id. */
  name: string;
  machine: AnyStateMachine;
  /** File of the `setup(...).createMachine(...)` call, relative to the repository root. */
  path: string;
  /** Name of the exported machine in that file. */
  exportName: string;
}

/**
 * Every machine the service runs. A new machine (the replicas' circuit breaker, say) is one
 * more entry here; the routes, the diagrams and the web page pick it up.
 */
export const machineCatalog: readonly MachineEntry[] = [
  {
    name: 'supervisor',
    machine: supervisorMachine,
    path: 'src/actors/supervisor.ts',
    exportName: 'supervisorMachine',
  },
  {
    name: 'partition',
    machine: partitionMachine,
    path: 'src/actors/partition.ts',
    exportName: 'partitionMachine',
  },
  {
    name: 'record',
    machine: recordMachine,
    path: 'src/actors/record.ts',
    exportName: 'recordMachine',
  },
  {
    name: 'breaker',
    machine: breakerMachine,
    path: 'src/actors/breaker.ts',
    exportName: 'breakerMachine',
  },
];

export function findMachine(name: string): MachineEntry | undefined {
  return machineCatalog.find((entry) => entry.name === name);
}

type JsonObject = Record<string, unknown>;

/**
 * The machine's definition as JSON: `machine.definition` as XState gives it, plus an `always`
 * list on every state node that has eventless transitions (the definition leaves them out).
 * A guard written inline, which JSON cannot carry, is shown as `"inline guard"`.
 */
export function definitionJson(machine: AnyStateMachine): JsonObject {
  const json = JSON.parse(JSON.stringify(machine.definition)) as JsonObject;
  addAlways(json, machine.root as unknown as StateNodeWithAlways);
  return json;
}

interface StateNodeWithAlways {
  always?: Array<{ guard?: unknown; toJSON?: () => unknown }>;
  states: Record<string, StateNodeWithAlways>;
}

function addAlways(json: JsonObject, node: StateNodeWithAlways): void {
  if (node.always && node.always.length > 0) {
    json.always = node.always.map((transition) => {
      const plain = JSON.parse(JSON.stringify(transition)) as JsonObject;
      if (typeof transition.guard === 'function') plain.guard = 'inline guard';
      return plain;
    });
  }
  const states = (json.states ?? {}) as Record<string, JsonObject>;
  for (const [key, child] of Object.entries(node.states)) {
    const childJson = states[key];
    if (childJson) addAlways(childJson, child);
  }
}

const mermaidCache = new Map<string, string>();
const svgCache = new Map<string, Promise<string>>();

export function mermaidOf(entry: MachineEntry): string {
  let text = mermaidCache.get(entry.name);
  if (text === undefined) {
    text = toMermaid(machineGraph(entry.machine));
    mermaidCache.set(entry.name, text);
  }
  return text;
}

/** The machine's diagram rendered by Graphviz; rendered once, then served from memory. */
export function svgOf(entry: MachineEntry): Promise<string> {
  let svg = svgCache.get(entry.name);
  if (svg === undefined) {
    svg = renderSvg(toDot(machineGraph(entry.machine)));
    svgCache.set(entry.name, svg);
    // A failed render (Graphviz missing, say) is tried again on the next request.
    svg.catch(() => svgCache.delete(entry.name));
  }
  return svg;
}
