/**
 * A run goes on only on the model it started on: the ids must be the same (they name the weights,
 * `model/sources/model-id.ts`). A record made before ids named the weights carries an old-style id
 * and no name: it goes on when that id names the loaded model ('same-name'), which the caller
 * reports, since the weights themselves cannot be checked.
 */
import { StudioError } from '../common/errors';
import { matchModel, nameOfId, type ModelRef } from '../model/sources/model-id';

/** `run` names the run in the message (`run 'run-1'`); throws ModelMismatch naming both models. */
export function checkResumeModel(run: string, started: ModelRef, loaded: Required<ModelRef>): 'same' | 'same-name' {
  const match = matchModel(started, loaded);
  if (match === 'other') {
    throw new StudioError('ModelMismatch', `${run} was started on ${started.name ?? nameOfId(started.id)} (${started.id}); the loaded model is ${loaded.name} (${loaded.id}).`);
  }
  return match;
}
