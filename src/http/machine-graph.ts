import type { AnyStateMachine } from 'xstate';

/** How a transition is taken. */
export type EdgeKind = 'event' | 'always' | 'after' | 'done' | 'error';

/** A transition, with a label that names its trigger, guard and actions. */
export interface GraphEdge {
  /** Path of the state that owns the transition ('' for the machine's root). */
  source: string;
  /** Paths of the target states; empty for a transition that only runs actions. */
  targets: string[];
  kind: EdgeKind;
  /** `trigger [guard] / action, action`, e.g. `after fetchRetry [knowsOffset]`. */
  label: string;
  reenter: boolean;
}

/** A state node: dotted path from the root ('' for the root), its children and its work. */
export interface GraphNode {
  path: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** Path of the initial child of a compound state. */
  initial: string | null;
  children: GraphNode[];
  entry: string[];
  exit: string[];
  /** Actor logic the state invokes while active. */
  invokes: string[];
  /** Transitions without a target: actions run, the state stays. */
  internal: GraphEdge[];
}

/** A machine as a tree of states and a list of transitions between them. */
export interface MachineGraph {
  id: string;
  root: GraphNode;
  /** Transitions with targets, `always` and `after` ones included. */
  edges: GraphEdge[];
}

// Minimal shapes of XState's StateNode and TransitionDefinition that the graph reads.
interface StateNodeLike {
  key: string;
  path: string[];
  type: GraphNode['type'];
  states: Record<string, StateNodeLike>;
  initial?: { target?: StateNodeLike[] };
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  invoke: Array<{ id: string; src: unknown }>;
  entry: unknown[];
  exit: unknown[];
}

interface TransitionLike {
  target?: StateNodeLike[] | undefined;
  guard?: unknown;
  actions?: unknown[];
  reenter?: boolean;
  eventType: string;
  delay?: string | number;
}

// Actions XState adds itself (scheduling `after` timers, cancelling them): not the author's.
const builtInActions = new Set(['xstate.raise', 'xstate.cancel']);

/**
 * Reads a machine's states and transitions from its state nodes rather than from
 * `machine.definition`, which leaves out `always` transitions. Invocation results are
 * named after the invoked logic (`done locateStart`), delays after their name.
 */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const edges: GraphEdge[] = [];
  const root = graphNode(machine.root as unknown as StateNodeLike, edges);
  return { id: machine.id, root, edges };
}

/** Every node of the tree, parents before children. */
export function allNodes(node: GraphNode): GraphNode[] {
  return [node, ...node.children.flatMap(allNodes)];
}

function graphNode(node: StateNodeLike, edges: GraphEdge[]): GraphNode {
  const path = node.path.join('.');
  const internal: GraphEdge[] = [];
  for (const transition of transitionsOf(node)) {
    const edge = graphEdge(node, transition);
    if (edge.targets.length === 0) internal.push(edge);
    else edges.push(edge);
  }
  return {
    path,
    key: node.key,
    type: node.type,
    initial: node.initial?.target?.[0]?.path.join('.') ?? null,
    children: Object.values(node.states).map((child) => graphNode(child, edges)),
    entry: actionNames(node.entry),
    exit: actionNames(node.exit),
    invokes: node.invoke.map((invoke) => nameOf(invoke.src)),
    internal,
  };
}

function transitionsOf(node: StateNodeLike): TransitionLike[] {
  return [...node.transitions.values()].flat().concat(node.always ?? []);
}

function graphEdge(node: StateNodeLike, transition: TransitionLike): GraphEdge {
  const { kind, trigger } = triggerOf(node, transition);
  const guard = transition.guard === undefined ? '' : ` [${guardName(transition.guard)}]`;
  const actions = actionNames(transition.actions ?? []);
  const effect = actions.length > 0 ? ` / ${actions.join(', ')}` : '';
  return {
    source: node.path.join('.'),
    targets: (transition.target ?? []).map((target) => target.path.join('.')),
    kind,
    label: `${trigger}${guard}${effect}`,
    reenter: transition.reenter ?? false,
  };
}

function triggerOf(
  node: StateNodeLike,
  transition: TransitionLike,
): { kind: EdgeKind; trigger: string } {
  const type = transition.eventType;
  if (type === '') return { kind: 'always', trigger: 'always' };
  if (type.startsWith('xstate.after.')) {
    const delay = transition.delay;
    return { kind: 'after', trigger: `after ${typeof delay === 'number' ? `${delay} ms` : delay}` };
  }
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(type);
  if (actor) {
    const kind = actor[1] as 'done' | 'error';
    const invoked = node.invoke.find((invoke) => invoke.id === actor[2]);
    const name = invoked ? nameOf(invoked.src) : actor[2] === '*' ? 'any child' : actor[2];
    return { kind, trigger: `${kind} ${name}` };
  }
  const state = /^xstate\.done\.state\.(.+)$/.exec(type);
  if (state) return { kind: 'done', trigger: `done ${state[1]}` };
  return { kind: 'event', trigger: type };
}

function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    // Higher-order guards (and, or, not) are functions that keep the guards they combine.
    const combined = (guard as { guards?: unknown[] }).guards;
    if (Array.isArray(combined)) return `${guard.name}(${combined.map(guardName).join(', ')})`;
    return guard.name && guard.name !== 'guard' ? guard.name : 'inline guard';
  }
  return nameOf(guard);
}

function actionNames(actions: unknown[]): string[] {
  return actions.filter((action) => !builtInActions.has(typeOf(action))).map(nameOf);
}

function typeOf(action: unknown): string {
  if (typeof action === 'string') return action;
  const type = (action as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : '';
}

function nameOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'type' in value) return String(value.type);
  if (typeof value === 'function') {
    const type = (value as { type?: unknown }).type;
    if (typeof type === 'string') return type.replace(/^xstate\./, '');
    return value.name || 'inline';
  }
  return 'inline';
}
