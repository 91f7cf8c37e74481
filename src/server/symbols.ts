// Document symbols of the text view, for the outline and breadcrumbs: the main graph holds its
// prunable layers; a node with subgraphs (If, Loop, Scan) that contain layers holds one symbol per
// subgraph, which holds that subgraph's layers, nested as deep as the model goes. Clients without
// hierarchical symbol support get the layers as a flat list.

import { SymbolKind, type DocumentSymbol, type DocumentSymbolParams, type SymbolInformation } from 'vscode-languageserver/node';
import type { GraphStep } from '../core/onnx/graph-view';
import type { Attribute, Graph } from '../core/onnx/model';
import { lineOfNode, printId } from '../core/onnx/text';
import { lineLength, lineText, type ModelAnalysis } from './analysis';
import { percent, schemeLabel, shape } from './format';
import type { PlanState } from './plan-state';
import type { Session } from './session';

export function documentSymbols(session: Session, params: DocumentSymbolParams): DocumentSymbol[] | SymbolInformation[] {
  const tv = session.textViewOf(params.textDocument.uri);
  if (!tv || tv.stale) return [];
  const tree = [graphSymbol(tv.analysis, tv.plan)];
  return session.client.hierarchicalSymbols ? tree : flatten(tree, params.textDocument.uri);
}

/** Keys of a graph (by its path) and of a node in a graph, for maps. */
const keyOf = (path: readonly GraphStep[]) => path.map((s) => `${s.node}/${s.attribute}/${s.index}`).join('|');
const nodeKeyOf = (graphPath: readonly GraphStep[], node: number) => `${keyOf(graphPath)}#${node}`;

function graphSymbol(a: ModelAnalysis, plan: PlanState): DocumentSymbol {
  // Line span of every graph (by path) and of every node holding subgraphs: its own line and everything nested in it.
  const spans = new Map<string, { first: number; last: number }>();
  const widen = (key: string, line: number) => {
    const span = spans.get(key);
    if (!span) spans.set(key, { first: line, last: line });
    else {
      span.first = Math.min(span.first, line);
      span.last = Math.max(span.last, line);
    }
  };
  for (const e of a.lineMap) {
    if (e.functionIndex !== undefined) continue;
    for (let depth = 0; depth <= e.graphPath.length; depth++) widen(keyOf(e.graphPath.slice(0, depth)), e.line);
    for (let depth = 0; depth < e.graphPath.length; depth++) widen(nodeKeyOf(e.graphPath.slice(0, depth), e.graphPath[depth].node), e.line);
  }
  const lastLine = Math.max(0, a.lineStarts.length - 2);
  const signature = signatureLine(a);
  const root: DocumentSymbol = {
    name: a.loaded.model.graph.name || 'main graph',
    detail: `${a.layers.length} prunable layers`,
    kind: SymbolKind.Module,
    range: fullLines(a, 0, lastLine),
    selectionRange: fullLines(a, signature, signature),
    children: [],
  };
  // Containers by path: the main graph, then (created on demand) subgraph symbols under their node's symbol.
  const graphs = new Map<string, DocumentSymbol>([['', root]]);
  const containerOf = (path: readonly GraphStep[]): DocumentSymbol => {
    const key = keyOf(path);
    const known = graphs.get(key);
    if (known) return known;
    const parentPath = path.slice(0, -1);
    const step = path[path.length - 1];
    const parent = containerOf(parentPath);
    const nodeKey = nodeKeyOf(parentPath, step.node);
    const nodeLine = lineOfNode(a.lineMap, parentPath, step.node);
    const holder = graphAt(a.loaded.model.graph, parentPath)?.nodes[step.node];
    let nodeSymbol = graphs.get(nodeKey);
    if (!nodeSymbol) {
      nodeSymbol = {
        name: holder?.name || holder?.opType || `node ${step.node}`,
        detail: holder?.opType,
        kind: SymbolKind.Object,
        range: fullLines(a, nodeLine, Math.max(nodeLine, spans.get(nodeKey)?.last ?? nodeLine)),
        selectionRange: fullLines(a, nodeLine, nodeLine),
        children: [],
      };
      graphs.set(nodeKey, nodeSymbol);
      parent.children?.push(nodeSymbol);
    }
    const span = spans.get(key) ?? { first: nodeLine, last: nodeLine };
    const graph = graphAt(a.loaded.model.graph, path);
    const symbol: DocumentSymbol = {
      name: (step.attribute || 'subgraph') + (holder?.attributes.find((x) => x.name === step.attribute)?.graphs ? `[${step.index}]` : ''),
      detail: graph?.name,
      kind: SymbolKind.Module,
      range: fullLines(a, span.first, span.last),
      selectionRange: fullLines(a, span.first, span.first),
      children: [],
    };
    graphs.set(key, symbol);
    nodeSymbol.children?.push(symbol);
    return symbol;
  };
  for (const l of a.layers) {
    if (l.line < 0) continue;
    const entry = plan.entries.get(l.layer.id);
    const scheme = entry ? `${schemeLabel(entry.spec)}${entry.spec.scheme === 'dense' ? '' : ` ${percent(entry.spec.rate)}`}` : '';
    containerOf(l.layer.graphPath).children?.push({
      name: l.layer.id,
      detail: `${l.layer.op} ${shape(l.layer.weightShape)} · ${scheme}`,
      kind: SymbolKind.Function,
      range: fullLines(a, l.line, l.line),
      selectionRange: nameRange(a, l.line, l.layer.node.name),
    });
  }
  return root;
}

/** The graph a path leads to. */
function graphAt(main: Graph, path: readonly GraphStep[]): Graph | undefined {
  let g: Graph | undefined = main;
  for (const step of path) {
    const attr: Attribute | undefined = g?.nodes[step.node]?.attributes.find((x) => x.name === step.attribute);
    g = attr?.g ?? attr?.graphs?.[step.index];
  }
  return g;
}

/** The main graph's signature line: the first line after the `< … >` model header that starts a declaration. */
function signatureLine(a: ModelAnalysis): number {
  let inHeader = false;
  for (let line = 0; line < a.lineStarts.length - 1; line++) {
    const text = lineText(a, line);
    if (line === 0 && text.startsWith('<')) inHeader = !text.trimEnd().endsWith('>');
    else if (inHeader) inHeader = !text.startsWith('>');
    else if (/^\S/.test(text) && !/^[<>{}]/.test(text)) return line;
  }
  return 0;
}

function fullLines(a: ModelAnalysis, first: number, last: number) {
  return { start: { line: first, character: 0 }, end: { line: last, character: lineLength(a, last) } };
}

/** Where the node's name is written at the start of its line (`["name"]` or `[name]`), else the whole line. */
function nameRange(a: ModelAnalysis, line: number, name: string) {
  const text = lineText(a, line);
  const at = text.length - text.trimStart().length;
  const written = `[${printId(name)}]`;
  if (name && text.startsWith(written, at)) return { start: { line, character: at + 1 }, end: { line, character: at + written.length - 1 } };
  return fullLines(a, line, line);
}

function flatten(tree: DocumentSymbol[], uri: string): SymbolInformation[] {
  const out: SymbolInformation[] = [];
  const walk = (s: DocumentSymbol, container: string | undefined) => {
    if (s.kind === SymbolKind.Function) out.push({ name: s.name, kind: s.kind, location: { uri, range: s.range }, ...(container ? { containerName: container } : {}) });
    for (const c of s.children ?? []) walk(c, s.name);
  };
  for (const s of tree) walk(s, undefined);
  return out;
}
