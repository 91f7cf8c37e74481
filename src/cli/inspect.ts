// `prunemap inspect MODEL [--json]`: the model's header and its prunable layers.

import { findLayers } from '../core/layers';
import { summarizeModel, type ModelSummary } from '../core/model-summary';
import { loadModel } from '../core/onnx/load';
import { printModel, lineOfNode } from '../core/onnx/text';
import { parse, toJson, type Command } from './command';
import { formatCount, table } from './format';

export const inspectCommand: Command = {
  name: 'inspect',
  usage: 'inspect MODEL [--json]',
  summary: 'summary and prunable layers (params, MACs, shapes)',
  run(args) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, ['MODEL']);
    if (values.help) return help();
    const summary = inspectModelFile(positionals[0]);
    process.stdout.write(values.json ? toJson(summary) + '\n' : render(positionals[0], summary));
    return 0;
  },
};

export function inspectModelFile(path: string): ModelSummary {
  const loaded = loadModel(path);
  try {
    const layers = findLayers(loaded.model, loaded.tensors);
    const { lines } = printModel(loaded.model, {});
    // The line map is 0-based (as LSP counts); the CLI prints 1-based lines, as editors show them.
    return summarizeModel(loaded.model, layers, (graphPath, nodeIndex) => lineOfNode(lines, graphPath, nodeIndex) + 1);
  } finally {
    loaded.close();
  }
}

function render(path: string, s: ModelSummary): string {
  const opsets = Object.entries(s.opsets).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ');
  const header = [
    `${path}`,
    `  IR ${s.irVersion} · opsets ${opsets} · producer ${[s.producer, s.producerVersion].filter(Boolean).join(' ') || '(none)'}`,
    `  ${s.nodeCount} nodes · ${s.initializerCount} initializers · ${s.layers.length} prunable layers · ${formatCount(s.totalParams)} params · ${formatCount(s.totalMacs)} MACs`,
    '',
  ];
  const shape = (d: unknown[] | null) => (d ? `[${d.map((x) => x ?? '?').join(',')}]` : '?');
  const rows = s.layers.map((l) => [
    String(l.line), l.id, l.op, `[${l.weightShape.join(',')}]`, l.group > 1 ? String(l.group) : '',
    `${shape(l.inputShape)} → ${shape(l.outputShape)}`, formatCount(l.params), formatCount(l.macs),
  ]);
  const body = table(['line', 'layer', 'op', 'weight', 'groups', 'input → output', 'params', 'MACs'], rows, [0, 6, 7]);
  return header.join('\n') + body + '\n';
}

function help(): number {
  process.stdout.write([
    'usage: prunemap inspect MODEL [--json]',
    '',
    'Prints the model header and every prunable layer (Conv, ConvTranspose, Gemm, MatMul, LSTM, GRU, RNN',
    'with a constant weight) with shapes, params and MACs. --json prints the format of docs/cli.md.',
  ].join('\n') + '\n');
  return 0;
}
