// Every pruning scheme by id. Adding a scheme = one file in this folder and one line here.

import { blockBcr } from './block-bcr';
import { blockPunched } from './block-punched';
import { channel } from './channel';
import { filter } from './filter';
import { nm } from './nm';
import { pattern } from './pattern';
import type { PruningScheme, SchemeId } from './scheme';
import { unstructured } from './unstructured';

const all: PruningScheme[] = [unstructured, filter, channel, pattern, blockPunched, blockBcr, nm];

export const schemeIds: readonly SchemeId[] = ['dense', 'unstructured', 'filter', 'channel', 'pattern', 'block-punched', 'block-bcr', 'nm'];

/** The scheme with this id, or undefined for an unknown id (or 'dense', which prunes nothing). */
export function getScheme(id: string): PruningScheme | undefined {
  return all.find((s) => s.id === id);
}

/** Every scheme except dense, in schemeIds order. */
export function allSchemes(): readonly PruningScheme[] {
  return all;
}
