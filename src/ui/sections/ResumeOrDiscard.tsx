/** A stopped run goes on from its last checkpoint (on the model it trains, at `rates` when given), or is forgotten. */
import type { ModelInfo } from '../../engine/protocol';
import type { TrainingRun } from '../../library/run-store';
import { matchModel, nameOfId } from '../../model/sources/model-id';
import type { LearningRateOptions } from '../../train/config';
import { discardRun, train } from '../training-actions';

/** The loaded model, when one is. */
export type LoadedModel = Pick<ModelInfo, 'id' | 'name'> | null;

export function ResumeOrDiscard({ run, model, label = 'Resume', rates }: { run: TrainingRun; model: LoadedModel; label?: string; rates?: LearningRateOptions }) {
  return (
    <div className="row">
      {model && matchModel({ id: run.modelId, name: run.modelName }, model) !== 'other' ? (
        <button type="button" onClick={() => void train(run, rates)}>
          {label}
        </button>
      ) : (
        <p className="muted">
          Load {run.modelName ?? nameOfId(run.modelId)} ({run.modelId}) in Models to resume.
        </p>
      )}
      <button type="button" onClick={() => void discardRun(run)}>
        Discard
      </button>
    </div>
  );
}
