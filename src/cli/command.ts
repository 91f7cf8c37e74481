// The shape of a CLI command and the argument parsing they share.

import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  readonly name: string;
  /** e.g. "inspect MODEL [--json]". */
  readonly usage: string;
  readonly summary: string;
  /** The exit code (a promise of it for commands that write files or wait on other work). */
  run(args: string[]): number | Promise<number>;
}

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses options and exactly `positionals` positional arguments, or throws a UsageError. */
export function parse<O extends Options>(args: string[], options: O, positionals: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values = parsed.values as Record<string, unknown>;
  if (!values.help && parsed.positionals.length !== positionals.length) {
    throw new UsageError(`expected ${positionals.join(' ')}, got ${parsed.positionals.length ? parsed.positionals.join(' ') : 'nothing'}`);
  }
  return { values: values as { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string } & { help?: boolean }, positionals: parsed.positionals };
}

/**
 * Indented JSON whose arrays of plain values (shapes, kernels) stay on one line; bigints (int64
 * beyond 2^53) are written as their exact decimal text.
 */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
  return text.replace(/\[\s*\n\s*((?:[^\[\]{}\n]+\n\s*)*?[^\[\]{}\n]+)\n\s*\]/g, (_m, body: string) => `[${body.split(/,\s*\n\s*/).join(', ')}]`);
}
