// Errors at the server's edge: every handler runs inside `guard`, so whatever goes wrong while
// serving one request becomes one LSP error and the server keeps running. User errors (a bad model
// or plan, a refused output) keep their one-line message; anything else is an internal error whose
// stack goes to the log at debug level, never to the client.

import { ErrorCodes, LSPErrorCodes, ResponseError, type CancellationToken } from 'vscode-languageserver/node';
import { describeError, ModelError } from '../core/errors';
import type { Logger } from './log';

export function toResponseError(err: unknown, what: string, log: Logger): ResponseError<void> {
  if (err instanceof ResponseError) {
    log.debug(`${what}: ${err.message}`);
    return err;
  }
  if (err instanceof ModelError) {
    log.debug(`${what}: ${err.message}`);
    return new ResponseError(LSPErrorCodes.RequestFailed, err.message);
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && err instanceof Error && !(err instanceof RangeError)) {
    log.debug(`${what}: ${err.stack ?? err.message}`);
    return new ResponseError(LSPErrorCodes.RequestFailed, describeError(err));
  }
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  log.error(`${what}: internal error: ${message}`);
  log.debug(err instanceof Error && err.stack ? err.stack : message);
  return new ResponseError(ErrorCodes.InternalError, `internal error in ${what}: ${message} (please report it with the model that caused it)`);
}

/** A request handler that answers with an LSP error instead of throwing past the connection. */
export function guard<P, R>(what: string, log: Logger, handler: (params: P, token: CancellationToken) => R | Promise<R>) {
  return async (params: P, token: CancellationToken): Promise<R> => {
    try {
      return await handler(params, token);
    } catch (err) {
      throw toResponseError(err, what, log);
    }
  };
}

/** A notification handler that logs what goes wrong instead of throwing. */
export function guardNotification<P>(what: string, log: Logger, handler: (params: P) => void | Promise<void>) {
  return async (params: P): Promise<void> => {
    try {
      await handler(params);
    } catch (err) {
      const e = toResponseError(err, what, log);
      if (e.code !== ErrorCodes.InternalError) log.warn(`${what}: ${e.message}`);
    }
  };
}
