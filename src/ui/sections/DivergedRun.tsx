/** A run that diverged: what happened, and its rates to go on with, prefilled at a tenth of the run's. */
import { useState, type Ref } from 'react';
import type { SerializedError } from '../../common/errors';
import type { TrainingRun } from '../../library/run-store';
import { resolveTrainerConfig, tenthOfRates, type LearningRateOptions } from '../../train/config';
import { ResumeOrDiscard, type LoadedModel } from './ResumeOrDiscard';

const LABELS: Record<keyof LearningRateOptions, string> = {
  tiLearningRate: 'Token learning rate',
  loraLearningRate: 'LoRA learning rate',
  textEncoderLearningRate: 'Text encoder learning rate',
};

/** A tenth of each rate the run trains with. */
export function lowerRates(run: Pick<TrainingRun, 'options'>): LearningRateOptions {
  return tenthOfRates(resolveTrainerConfig(run.options));
}

/**
 * The error, the rates to edit, and Resume: from the run's last good checkpoint, or from the
 * start when none was kept (it diverged before its first). Resuming needs the run's model loaded.
 */
export function DivergedRun({ run, error, model, cardRef }: { run: TrainingRun; error: SerializedError; model: LoadedModel; cardRef?: Ref<HTMLDivElement> }) {
  const [rates, setRates] = useState(() => lowerRates(run));
  const fromStart = run.step === 0;
  return (
    <div className="card error training-state" role="alert" data-testid="training" ref={cardRef} tabIndex={-1}>
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
      <ResumeOrDiscard run={run} model={model} rates={rates} label={fromStart ? 'Start again at these rates' : 'Resume at these rates'} />
    </div>
  );
}
