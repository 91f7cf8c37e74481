// Codegen's entry point: the generated model plus the runner program and Makefile, as files.

import type { Layer } from '../layers';
import type { LoadedModel } from '../onnx/load';
import type { MaskSet } from '../prune/masks';
import { emitModel, type EmitOptions, type GeneratedModel } from './emit-model';
import { MAKEFILE, RUNNER_C } from './runner';

export function generateCode(loaded: LoadedModel, layers: readonly Layer[], masks: MaskSet, options: EmitOptions = {}): GeneratedModel {
  const model = emitModel(loaded, layers, masks, options);
  return { ...model, files: { ...model.files, 'main.c': RUNNER_C, Makefile: MAKEFILE } };
}
