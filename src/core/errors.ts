// User-facing errors: one line saying what went wrong, where, and what to do about it.
// Anything else that escapes the engine is a bug and may carry a stack trace.

export class ModelError extends Error {
  constructor(
    /** What went wrong, e.g. "truncated protobuf: GraphProto.node needs 812 bytes, 40 remain". */
    readonly what: string,
    /** Where: a file path, optionally with a byte offset or a layer id. */
    readonly where: string,
    /** What the user can do about it. */
    readonly hint: string,
  ) {
    super(`${where}: ${what}. ${hint}`);
    this.name = 'ModelError';
  }
}

/** One line for stderr: user errors verbatim, anything else as an internal error. */
export function describeError(err: unknown): string {
  if (err instanceof ModelError) return err.message;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && (err as Error).message) return (err as Error).message;
  return `internal error: ${err instanceof Error ? err.message : String(err)} (please report it with the model that caused it)`;
}
