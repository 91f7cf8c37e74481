// Reading a plan file given on the command line (`prune --plan`, `codegen --plan`): validated
// against the model (problems at their line and column), warnings printed, the first error thrown
// as one line. The model's hash is computed only when the plan states one.

import { ModelError } from '../core/errors';
import type { Layer } from '../core/layers';
import { sha256File } from '../core/mapper/model-file';
import type { Model } from '../core/onnx/model';
import type { Plan } from '../core/plan';
import { readPlanFile } from '../core/plan-io';
import { formatProblem, validatePlanText } from '../core/plan-validate';

export function readPlanForModel(file: string, model: Model, layers: readonly Layer[]): Plan {
  const { text, json } = readPlanFile(file);
  const sha = json && typeof json === 'object' && 'modelSha256' in json ? sha256File(model.path) : undefined;
  const { plan, problems } = validatePlanText(text, model, layers, { modelPath: model.path, modelSha256: sha, planPath: file });
  for (const p of problems) if (p.severity === 'warning') process.stderr.write(`prunemap: ${formatProblem(file, p)}\n`);
  const first = problems.find((p) => p.severity === 'error');
  if (first || !plan) {
    const more = problems.filter((p) => p.severity === 'error').length - 1;
    throw new ModelError(`${first?.message ?? 'invalid plan'}${more > 0 ? ` (and ${more} more)` : ''}`, `${file}:${first?.range.start.line ?? 1}:${first?.range.start.column ?? 1}`,
      'Fix the plan there, or write it again with `prunemap map MODEL -o PLAN`.');
  }
  return plan;
}
