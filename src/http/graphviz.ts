import { allNodes, type GraphEdge, type GraphNode, type MachineGraph } from './machine-graph.ts';

/** Prefix of the SVG element ids of states: `state:running.intake.fetching`. */
export const stateIdPrefix = 'state:';

/** Longest a `dot` run may take before it is killed. */
const renderTimeoutMs = 10_000;

/** Raised when Graphviz is missing or fails; the HTTP layer answers 503. */
export class GraphvizUnavailable extends Error {
  override readonly name = 'GraphvizUnavailable';
}

/**
 * A Graphviz DOT description of a machine. Compound states are clusters with a black dot for
 * their initial state, parallel regions are dashed clusters side by side, final states have a
 * double border. Every state (node or cluster) gets the SVG id `state:<path>`, so a page can
 * highlight an actor's active states. Transitions without a target, and those from a state into
 * its own children, are written in their state's label; transitions of the machine itself start
 * from an "any state" node.
 */
export function toDot(graph: MachineGraph): string {
  const nested = graph.edges.filter((edge) => isIntoOwnChild(edge));
  const drawn = graph.edges.filter((edge) => !isIntoOwnChild(edge));
  const nodes = new Map(allNodes(graph.root).map((node) => [node.path, node]));
  const lines = [
    `digraph ${quote(graph.id)} {`,
    '  graph [compound=true, rankdir=TB, newrank=true, nodesep=0.3, ranksep=0.4,',
    '         fontname="Helvetica", fontsize=11, color="#8593a6", bgcolor="transparent"];',
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#44546a",',
    '        fontname="Helvetica", fontsize=11, margin="0.12,0.05"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#5b6b7f", fontcolor="#33404f",',
    '        arrowsize=0.7];',
  ];
  if (drawn.some((edge) => edge.source === '') || graph.root.internal.length > 0) {
    const label = htmlLabel('any state', graph.root.internal.map(edgeText));
    lines.push(`  "any" [label=${label}, style="rounded,dashed", id="${stateIdPrefix}"];`);
  }
  lines.push(...childLines(graph.root, nested, '  '));
  for (const edge of drawn) lines.push(...edgeLines(edge, nodes, '  '));
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Runs Graphviz's `dot` on a DOT text; resolves with the SVG. */
export async function renderSvg(dot: string): Promise<string> {
  let child: ReturnType<typeof Bun.spawn>;
  try {
    child = Bun.spawn(['dot', '-Tsvg'], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
  } catch (error) {
    throw new GraphvizUnavailable(
      `Graphviz "dot" could not run (${(error as Error).message});` +
        ' bash scripts/setup.sh installs it',
    );
  }
  const timer = setTimeout(() => child.kill(), renderTimeoutMs);
  try {
    const stdin = child.stdin as import('bun').FileSink;
    stdin.write(dot);
    await stdin.end();
    const [svg, errors, code] = await Promise.all([
      new Response(child.stdout as ReadableStream).text(),
      new Response(child.stderr as ReadableStream).text(),
      child.exited,
    ]);
    if (code !== 0) throw new GraphvizUnavailable(`dot failed (${code}): ${errors.slice(0, 300)}`);
    return svg;
  } finally {
    clearTimeout(timer);
  }
}

function childLines(parent: GraphNode, nested: GraphEdge[], indent: string): string[] {
  const lines: string[] = [];
  if (parent.type === 'compound' || parent.path === '') {
    if (parent.initial !== null) {
      const start = initialNodeId(parent);
      lines.push(
        `${indent}${quote(start)} [shape=circle, label="", width=0.14, height=0.14, ` +
          'style=filled, fillcolor="#2b3440", color="#2b3440"];',
      );
      lines.push(`${indent}${quote(start)} -> ${endpoint(parent.initial, parent.children)};`);
    }
  }
  const inRegion = parent.type === 'parallel';
  for (const child of parent.children) lines.push(...stateLines(child, nested, inRegion, indent));
  if (inRegion) lines.push(...stackRegions(parent, indent));
  return lines;
}

/**
 * Puts the regions of a parallel state one below the other (side by side they make a diagram
 * too wide to read): invisible edges from every state of a region to the next region's start.
 */
function stackRegions(parallel: GraphNode, indent: string): string[] {
  const lines: string[] = [];
  parallel.children.forEach((region, index) => {
    const next = parallel.children[index + 1];
    if (!next) return;
    const start =
      next.children.length > 0 && next.initial !== null ? initialNodeId(next) : nodeId(next.path);
    for (const leaf of allNodes(region).filter((node) => node.children.length === 0)) {
      lines.push(`${indent}${quote(nodeId(leaf.path))} -> ${quote(start)} [style=invis];`);
    }
  });
  return lines;
}

function stateLines(
  node: GraphNode,
  nested: GraphEdge[],
  inRegion: boolean,
  indent: string,
): string[] {
  const notes = [
    ...node.entry.map((action) => `entry / ${action}`),
    ...node.invokes.map((logic) => `invoke ${logic}`),
    ...node.exit.map((action) => `exit / ${action}`),
    ...node.internal.map(edgeText),
    ...nested.filter((edge) => edge.source === node.path).map(nestedText),
  ];
  if (node.children.length === 0) {
    const border = node.type === 'final' ? ', peripheries=2' : '';
    const label = htmlLabel(node.key, notes);
    return [
      `${indent}${quote(nodeId(node.path))} [label=${label}, id="${stateId(node)}"${border}];`,
    ];
  }
  // The regions of a parallel state are dashed and unfilled, side by side inside it.
  const style = inRegion ? 'rounded,dashed' : 'rounded,filled';
  const lines = [
    `${indent}subgraph ${quote(clusterId(node.path))} {`,
    `${indent}  id="${stateId(node)}"; label=${htmlLabel(node.key, notes)}; labeljust=l;`,
    `${indent}  style="${style}"; fillcolor="#f4f6f9";`,
  ];
  // An invisible point lets edges reach a parallel state, which has no initial dot.
  if (node.type === 'parallel') {
    lines.push(`${indent}  ${quote(anchorId(node.path))} [shape=point, style=invis, width=0.01];`);
  }
  lines.push(...childLines(node, nested, `${indent}  `));
  lines.push(`${indent}}`);
  return lines;
}

function edgeLines(edge: GraphEdge, nodes: Map<string, GraphNode>, indent: string): string[] {
  const style =
    edge.kind === 'always' ? ', style=dashed' : edge.kind === 'after' ? ', style=bold' : '';
  const label = edge.reenter ? `${edge.label} (re-enter)` : edge.label;
  return edge.targets.map((target) => {
    const tail = edge.source === '' ? { id: quote('any'), cluster: null } : end(edge.source, nodes);
    const head = end(target, nodes);
    const clusters = [
      tail.cluster && tail.cluster !== head.cluster ? `ltail=${quote(tail.cluster)}` : '',
      head.cluster && head.cluster !== tail.cluster ? `lhead=${quote(head.cluster)}` : '',
    ].filter((part) => part !== '');
    const extra = clusters.length > 0 ? `, ${clusters.join(', ')}` : '';
    return `${indent}${tail.id} -> ${head.id} [label=${quote(label)}${style}${extra}];`;
  });
}

/** Where an edge to or from a state attaches: the node itself, or a point inside its cluster. */
function end(path: string, nodes: Map<string, GraphNode>): { id: string; cluster: string | null } {
  const node = nodes.get(path);
  if (!node || node.children.length === 0) return { id: quote(nodeId(path)), cluster: null };
  const inner = node.type === 'parallel' ? anchorId(path) : initialNodeId(node);
  return { id: quote(inner), cluster: clusterId(path) };
}

function endpoint(path: string, children: GraphNode[]): string {
  const child = children.find((c) => c.path === path);
  if (!child || child.children.length === 0) return quote(nodeId(path));
  const inner = child.type === 'parallel' ? anchorId(path) : initialNodeId(child);
  return `${quote(inner)} [lhead=${quote(clusterId(path))}]`;
}

function isIntoOwnChild(edge: GraphEdge): boolean {
  return edge.source !== '' && edge.targets.every((target) => target.startsWith(`${edge.source}.`));
}

function edgeText(edge: GraphEdge): string {
  return edge.label;
}

function nestedText(edge: GraphEdge): string {
  const keys = edge.targets.map((target) => target.slice(target.lastIndexOf('.') + 1));
  return `${edge.label} → ${keys.join(', ')}`;
}

function htmlLabel(title: string, lines: string[]): string {
  const rows = lines.map((line) => `<br/><font point-size="9">${escapeHtml(line)}</font>`);
  return `<<b>${escapeHtml(title)}</b>${rows.join('')}>`;
}

function stateId(node: GraphNode): string {
  return `${stateIdPrefix}${node.path}`;
}

function nodeId(path: string): string {
  return `s:${path}`;
}

function clusterId(path: string): string {
  return `cluster_${path}`;
}

function anchorId(path: string): string {
  return `anchor:${path}`;
}

function initialNodeId(node: GraphNode): string {
  return `initial:${node.path}`;
}

function quote(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
