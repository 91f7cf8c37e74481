// The `prunemap` command line. Commands come from one table; each parses its own options.
// User errors print one line on stderr and exit 1; usage errors exit 2.

import { describeError, ModelError } from '../core/errors';
import { calibrateCommand } from './calibrate';
import { codegenCommand } from './codegen';
import { exportTrainingCommand } from './export-training';
import { inspectCommand } from './inspect';
import { mapCommand } from './map';
import { pruneCommand } from './prune';
import { searchCommand } from './search';
import { textCommand } from './text';
import { UsageError, type Command } from './command';

const commands: Command[] = [inspectCommand, textCommand, mapCommand, searchCommand, pruneCommand, codegenCommand, calibrateCommand, exportTrainingCommand];

function usage(): string {
  const lines = commands.map((c) => `  ${c.usage.padEnd(34)} ${c.summary}`);
  return ['usage: prunemap <command> [options]', '', 'commands:', ...lines, '', 'Run `prunemap <command> --help` for its options.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write(`${PRUNEMAP_VERSION}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`);
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`prunemap: ${err.message}\n${command ? `usage: prunemap ${command.usage}` : usage()}\n`);
      return 2;
    }
    process.stderr.write(`prunemap: ${describeError(err)}\n`);
    if (!(err instanceof ModelError) && process.env.PRUNEMAP_DEBUG) console.error(err);
    return 1;
  }
}

declare const PRUNEMAP_VERSION: string;

// stdout may be a closed pipe (`prunemap text m.onnx | head`): that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
