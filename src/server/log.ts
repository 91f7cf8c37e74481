// Logging to the client (window/logMessage), filtered by the `logLevel` setting. Never to stdout:
// with --stdio, stdout carries the JSON-RPC stream.

import type { Connection } from 'vscode-languageserver/node';
import type { LogLevel } from '../protocol/constants';

const rank: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export class Logger {
  level: LogLevel = 'info';

  constructor(private readonly connection: Connection) {}

  error(message: string): void {
    if (this.enabled('error')) this.connection.console.error(message);
  }
  warn(message: string): void {
    if (this.enabled('warn')) this.connection.console.warn(message);
  }
  info(message: string): void {
    if (this.enabled('info')) this.connection.console.info(message);
  }
  debug(message: string): void {
    if (this.enabled('debug')) this.connection.console.log(message);
  }

  enabled(level: LogLevel): boolean {
    return rank[level] <= rank[this.level];
  }
}
