// Extension-host entry of the Restricted Mode suite (workspace trust on, folder not trusted).
import { runMochaTests } from '../../support/extension-host-mocha';

export function run(): Promise<void> {
  return runMochaTests(__dirname);
}
