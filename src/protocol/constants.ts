// Names a client and the server must agree on: the text view's URI scheme and language, the
// settings section, and the commands the server's code lenses invoke (docs/protocol.md).

/** Text view URIs: `prunemap-text:` + the model's absolute path + `-text` (".onnx-text" when it does not end in .onnx). */
export const TEXT_VIEW_SCHEME = 'prunemap-text';

/** Language id of the text view documents (file extension `.onnx-text`). */
export const TEXT_VIEW_LANGUAGE = 'onnx-text';

/** Settings section read from initializationOptions and workspace/didChangeConfiguration. */
export const SETTINGS_SECTION = 'prunemap';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** The `prunemap` settings (every field optional; docs/protocol.md gives the defaults). */
export interface PruneMapSettings {
  target?: string;
  compression?: number;
  blockCandidates?: [number, number][];
  outputFolder?: string;
  logLevel?: LogLevel;
  maxCachedModels?: number;
}

/** Commands of the server's code lenses; the client implements them. */
export namespace Commands {
  /** "Prune model…": arguments `[PruneModelArgs]`. */
  export const pruneModel = 'prunemap.pruneModel';
  /** "Generate sparse code…" (only in trusted workspaces): arguments `[PruneModelArgs]`. */
  export const generateCode = 'prunemap.generateCode';
  /** "Why this scheme?": arguments `[LayerArgs]`. */
  export const explainLayer = 'prunemap.explainLayer';
  /** "Change scheme…": arguments `[LayerArgs]`. */
  export const changeScheme = 'prunemap.changeScheme';
}

/** The model lenses' argument ("Prune model…", "Generate sparse code…"). */
export interface PruneModelArgs {
  /** file: URI of the model. */
  uri: string;
  /** The text view the lens is on. */
  textUri: string;
}

export interface LayerArgs {
  /** file: URI of the model. */
  uri: string;
  /** Layer id. */
  layer: string;
}
