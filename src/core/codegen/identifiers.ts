// Model-supplied names (node names, layer ids) become C identifiers only through this file: every
// character outside [A-Za-z0-9_] is replaced, the result is shortened and made unique with a
// numeric prefix, so nothing from the model ever reaches the generated code unescaped.

const MAX_NAME = 40;

/** A C identifier for `name`: `<prefix><index>_<sanitised name>`; unique when indexes are. */
export function cIdentifier(prefix: string, index: number, name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, MAX_NAME);
  return `${prefix}${index}${clean ? '_' + clean : ''}`;
}
