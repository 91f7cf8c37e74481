// Extension-host entry of PruneMap's integration tests (workspace trust disabled: a trusted workspace).
import { runMochaTests } from '../../support/extension-host-mocha';

export function run(): Promise<void> {
  return runMochaTests(__dirname);
}
