// Every pruning scheme by id. Adding a scheme = one file in this folder and one line here.

import type { PruningScheme, SchemeId } from './scheme';

const all: PruningScheme[] = [];

export const schemeIds: readonly SchemeId[] = ['dense', 'unstructured', 'filter', 'channel', 'pattern', 'block-punched', 'block-bcr', 'nm'];

/** The scheme with this id, or undefined for an unknown id (or 'dense', which prunes nothing). */
export function getScheme(id: string): PruningScheme | undefined {
  return all.find((s) => s.id === id);
}
