/** A run that diverged: what happened, and its rates to go on with, prefilled at a tenth of the run's. */
import { useState } from 'react';
import type { SerializedError } from '../../common/errors';
import type { TrainingRun } from '../../library/run-store';
import type { ModelInfo } from '../../engine/protocol';
import { matchModel, nameOfId } from '../../model/sources/model-id';
import { resolveTrainerConfig, type LearningRateOptions } from '../../train/config';
import { discardRun, train } from '../training-actions';

const LABELS: Record<keyof LearningRateOptions, string> = {
  tiLearningRate: 'Token learning rate',
  loraLearningRate: 'LoRA learning rate',
  textEncoderLearningRate: 'Text encoder learning rate',
};

/** A tenth of each rate the run trains with. */
export function lowerRates(run: Pick<TrainingRun, 'options'>): LearningRateOptions {
  const c = resolveTrainerConfig(run.options);
  const tenth = (rate: number) => Number((rate / 10).toPrecision(3));
  return {
    ...(c.method !== 'lora' && { tiLearningRate: tenth(c.tiLearningRate) }),
    ...(c.method !== 'ti' && { loraLearningRate: tenth(c.loraLearningRate) }),
    ...(c.textEncoderLora && { textEncoderLearningRate: tenth(c.textEncoderLearningRate) }),
  };
}

/**
 * The error, the rates to edit, and Resume: from the run's last good checkpoint, or from the
 * start when none was kept (it diverged before its first). Resuming needs the run's model loaded.
 */
export function DivergedRun({ run, error, model }: { run: TrainingRun; error: SerializedError; model: Pick<ModelInfo, 'id' | 'name'> | null }) {
  const [rates, setRates] = useState(() => lowerRates(run));
  const fromStart = run.step === 0;
  return (
    <div className="card error" role="alert" data-testid="training">
      <p>{error.message}</p>
      <p className="muted">{fromStart ? 'No checkpoint was kept: start again at a lower learning rate.' : `Resume from the last good checkpoint (step ${run.step}) at a lower learning rate.`}</p>
      <div className="row">
        {(Object.keys(rates) as (keyof LearningRateOptions)[]).map((key) => (
          <label key={key}>
            {LABELS[key]}
            <input name={key} type="number" min={0} value={rates[key]} onChange={(e) => setRates({ ...rates, [key]: Number(e.target.value) })} />
          </label>
        ))}
      </div>
      <div className="row">
        {model && matchModel({ id: run.modelId, name: run.modelName }, model) !== 'other' ? (
          <button type="button" onClick={() => void train(run, rates)}>
            {fromStart ? 'Start again at these rates' : 'Resume at these rates'}
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
    </div>
  );
}
