import { allNodes, type GraphEdge, type GraphNode, type MachineGraph } from './machine-graph.ts';

// Words of the stateDiagram grammar that cannot stand as a state id.
const reservedIds = new Set(['state', 'note', 'end', 'direction', 'class', 'classDef', 'as']);

/** Id of the pseudo-state that stands for "any state": the source of machine-level transitions. */
export const anyStateId = 'any_state';

/**
 * A Mermaid `stateDiagram-v2` of a machine: compound states as composites with their initial
 * state, parallel regions separated by `--`, final states leading to `[*]`, and every
 * transition labelled with its trigger, guard and actions — `always` and `after` ones
 * included. Transitions without a target are listed in a note on their state; transitions of
 * the machine itself start from an "any state" pseudo-state.
 */
export function toMermaid(graph: MachineGraph): string {
  const ids = mermaidIds(graph.root);
  const placed = placeEdges(graph);
  const lines = ['stateDiagram-v2'];
  const rootEdges = placed.get('') ?? [];
  const fromRoot = rootEdges.filter((edge) => edge.source === '');
  if (fromRoot.length > 0 || graph.root.internal.length > 0) {
    lines.push(`  state "any state" as ${anyStateId}`);
    lines.push(...noteLines(anyStateId, graph.root.internal, '  '));
  }
  lines.push(...blockBody(graph.root, ids, placed, '  '));
  return `${lines.join('\n')}\n`;
}

/** Mermaid ids: the state's key where no other state has it, else its path with `_`. */
export function mermaidIds(root: GraphNode): Map<string, string> {
  const nodes = allNodes(root).filter((node) => node.path !== '');
  const counts = new Map<string, number>();
  for (const node of nodes) counts.set(node.key, (counts.get(node.key) ?? 0) + 1);
  const ids = new Map<string, string>([['', anyStateId]]);
  for (const node of nodes) {
    const unique = counts.get(node.key) === 1 && !reservedIds.has(node.key);
    ids.set(node.path, sanitizeId(unique ? node.key : node.path.replaceAll('.', '_')));
  }
  return ids;
}

function blockBody(
  node: GraphNode,
  ids: Map<string, string>,
  placed: Map<string, GraphEdge[]>,
  indent: string,
): string[] {
  const lines: string[] = [];
  if (node.initial !== null && node.type === 'compound') {
    lines.push(`${indent}[*] --> ${ids.get(node.initial)}`);
  }
  node.children.forEach((child, index) => {
    if (node.type === 'parallel' && index > 0) lines.push(`${indent}--`);
    lines.push(...stateLines(child, ids, placed, indent));
  });
  for (const edge of placed.get(node.path) ?? []) lines.push(...edgeLines(edge, ids, indent));
  return lines;
}

function stateLines(
  node: GraphNode,
  ids: Map<string, string>,
  placed: Map<string, GraphEdge[]>,
  indent: string,
): string[] {
  const id = ids.get(node.path) as string;
  const lines = id === node.key ? [] : [`${indent}state "${node.key}" as ${id}`];
  if (node.children.length > 0) {
    lines.push(`${indent}state ${id} {`);
    lines.push(...blockBody(node, ids, placed, `${indent}  `));
    lines.push(`${indent}}`);
  } else {
    if (id === node.key) lines.push(`${indent}${id}`);
    for (const line of describe(node)) lines.push(`${indent}${id} : ${line}`);
  }
  if (node.type === 'final') lines.push(`${indent}${id} --> [*]`);
  lines.push(...noteLines(id, node.internal, indent));
  return lines;
}

function describe(node: GraphNode): string[] {
  return [
    ...node.entry.map((action) => `entry / ${action}`),
    ...node.invokes.map((logic) => `invoke ${logic}`),
    ...node.exit.map((action) => `exit / ${action}`),
  ].map(labelText);
}

function noteLines(id: string, internal: GraphEdge[], indent: string): string[] {
  if (internal.length === 0) return [];
  return [
    `${indent}note right of ${id}`,
    ...internal.map((edge) => `${indent}  on ${labelText(edge.label)}`),
    `${indent}end note`,
  ];
}

function edgeLines(edge: GraphEdge, ids: Map<string, string>, indent: string): string[] {
  const source = ids.get(edge.source) as string;
  const label = labelText(edge.reenter ? `${edge.label} (re-enter)` : edge.label);
  return edge.targets.map((target) => `${indent}${source} --> ${ids.get(target)} : ${label}`);
}

/**
 * Each transition goes in the block of the innermost compound state holding its source and
 * targets (a parallel state's block is split into regions, so it goes one level further up).
 */
function placeEdges(graph: MachineGraph): Map<string, GraphEdge[]> {
  const types = new Map(allNodes(graph.root).map((node) => [node.path, node.type]));
  const placed = new Map<string, GraphEdge[]>();
  for (const edge of graph.edges) {
    let block = commonAncestor([edge.source, ...edge.targets]);
    if (block === edge.source || edge.targets.includes(block)) block = parentOf(block);
    while (block !== '' && types.get(block) === 'parallel') block = parentOf(block);
    const list = placed.get(block) ?? [];
    list.push(edge);
    placed.set(block, list);
  }
  return placed;
}

function commonAncestor(paths: string[]): string {
  const split = paths.map((path) => (path === '' ? [] : path.split('.')));
  const first = split[0] ?? [];
  let length = 0;
  while (length < first.length && split.every((parts) => parts[length] === first[length])) {
    length++;
  }
  return first.slice(0, length).join('.');
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf('.');
  return cut < 0 ? '' : path.slice(0, cut);
}

function sanitizeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_]/g, '_');
}

// A label runs to the end of its line; `:` and `;` would end it early, `#` starts an entity.
function labelText(text: string): string {
  return text.replace(/[:;#\n]/g, ' ');
}
