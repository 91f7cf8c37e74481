// `prunemap text MODEL [--full]`: the model in ONNX's textual syntax.

import { loadModel } from '../core/onnx/load';
import { printModel } from '../core/onnx/text';
import { parse, type Command } from './command';

export const textCommand: Command = {
  name: 'text',
  usage: 'text MODEL [--full]',
  summary: 'the model in ONNX text syntax (weights elided unless --full)',
  run(args) {
    const { values, positionals } = parse(args, { full: { type: 'boolean' } }, ['MODEL']);
    if (values.help) {
      process.stdout.write('usage: prunemap text MODEL [--full]\n\nPrints the model in ONNX textual syntax. Initializer values are elided;\n--full prints them too (the output then parses with onnx.parser.parse_model).\n');
      return 0;
    }
    const loaded = loadModel(positionals[0]);
    try {
      const { text } = printModel(loaded.model, { full: values.full, tensors: loaded.tensors });
      process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    } finally {
      loaded.close();
    }
    return 0;
  },
};
