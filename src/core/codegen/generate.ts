// Codegen's entry point: the generated model plus the runner program and Makefile, as files.

import type { Layer } from '../layers';
import type { LoadedModel } from '../onnx/load';
import type { MaskSet } from '../prune/masks';
import { emitModel, type EmitOptions, type GeneratedModel } from './emit-model';
import { makefile, RUNNER_C } from './runner';
import type { Arch } from './target';

export interface GenerateOptions extends EmitOptions {
  /** The target the Makefile's defaults are for; the C sources are the same for every target. */
  readonly arch?: Arch;
}

export function generateCode(loaded: LoadedModel, layers: readonly Layer[], masks: MaskSet, options: GenerateOptions = {}): GeneratedModel {
  const model = emitModel(loaded, layers, masks, options);
  return { ...model, files: { ...model.files, 'main.c': RUNNER_C, Makefile: makefile(options.arch, options.threads) } };
}
