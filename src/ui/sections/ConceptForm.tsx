/**
 * The New concept form: what to learn and how (defaults and bounds from `train/config.ts`), and
 * the Train, Pause and Cancel buttons. Its settings are fixed while a run is under way (running,
 * paused or interrupted): a resumed run keeps its own.
 */
import { IDENTIFIERS, TRAINER_DEFAULTS as D, TRAINER_LIMITS, trainsLora, trainsVectors, type Identifier, type LoraTarget, type TrainerOptions } from '../../train/config';
import type { ConceptKind } from '../../train/templates';
import { tokenProblem } from '../../model/prompt-tokens';
import { SelectField } from '../SelectField';
import { SizeNote } from '../SizeNote';
import type { SizeVerdict } from '../../model/size-cost';
import { updateDraft, useStudio } from '../store';
import { cancelTraining, pauseTraining, train } from '../training-actions';
import { applyPreset, matchingPreset } from '../../engine/training-presets';
import { trainerOptionProblems } from '../../train/option-limits';
import { TrainingPresets } from './TrainingPresets';
import { useFocusOnEntering } from '../useFocusOnEntering';
import { METHOD_CHOICES, methodChoice } from '../training-methods';
import { ClassWordChips } from './ClassWordChips';

const METHODS: [TrainerOptions['method'], string][] = METHOD_CHOICES.map((m) => [m.method, m.label]);

const IDENTIFIER_LABELS: Record<Identifier, string> = { added: 'the token (a new word)', rare: 'a rare word the trainer picks ("sks")' };

const KINDS: [ConceptKind, string][] = [
  ['object', 'Object or pet'],
  ['style', 'Style'],
];

const TARGETS: [LoraTarget, string][] = [
  ['to_k', 'keys'],
  ['to_v', 'values'],
  ['to_q', 'queries'],
  ['to_out.0', 'output'],
];

type SetOption = <K extends keyof TrainerOptions>(key: K, value: TrainerOptions[K]) => void;

/** The settings most runs leave alone; defaults as diffusers' and AUTOMATIC1111's trainers use them. */
function AdvancedSettings({ options: o, set }: { options: TrainerOptions; set: SetOption }) {
  const targets = o.targets ?? D.targets;
  const number = (key: keyof TrainerOptions, label: string, fallback: number, props: { min?: number; max?: number; step?: number } = {}) => (
    <label>
      {label}
      <input name={key} type="number" {...props} value={(o[key] as number | undefined) ?? fallback} onChange={(e) => set(key, Number(e.target.value) as never)} />
    </label>
  );
  return (
    <details>
      <summary>Advanced settings</summary>
      <div className="row">
        {trainsVectors(o.method) && o.method !== 'pplus' && o.method !== 'perfusion' && number('numVectors', 'Vectors per token', D.numVectors, { min: 1, max: TRAINER_LIMITS.maxVectors })}
        {trainsVectors(o.method) && number('tiLearningRate', 'Token learning rate', D.tiLearningRate, { min: 0, step: 1e-4 })}
        {trainsLora(o.method) && number('rank', 'LoRA rank', D.rank, { min: 1, max: TRAINER_LIMITS.maxRank })}
        {trainsLora(o.method) && number('alpha', 'LoRA alpha', o.rank ?? D.rank, { min: 0.5, step: 0.5 })}
        {trainsLora(o.method) && number('loraLearningRate', 'LoRA learning rate', D.loraLearningRate, { min: 0, step: 1e-5 })}
        {number('warmupSteps', 'Warmup steps', D.warmupSteps, { min: 0 })}
        {number('seed', 'Seed', D.seed, { min: 0 })}
      </div>
      {o.method === 'dreambooth' && (
        <fieldset className="row">
          <legend>Prior preservation</legend>
          {number('classImages', 'Class images', D.classImages, { min: 1, max: TRAINER_LIMITS.maxClassImages })}
          {number('classImageSteps', 'Steps per class image', D.classImageSteps, { min: 1, max: TRAINER_LIMITS.maxClassImageSteps })}
          {number('priorLossWeight', 'Weight of the class images (λ)', D.priorLossWeight, { min: 0, step: 0.1 })}
          <SelectField<Identifier>
            label="The subject is called"
            name="identifier"
            value={o.identifier ?? D.identifier}
            choices={IDENTIFIERS.map((id) => [id, IDENTIFIER_LABELS[id]] as const)}
            onChange={(v) => set('identifier', v)}
          />
        </fieldset>
      )}
      {trainsLora(o.method) && <TextEncoderLora options={o} set={set} />}
      {trainsLora(o.method) && (
        <fieldset className="row">
          <legend>LoRA on cross-attention</legend>
          {TARGETS.map(([target, label]) => (
            <label key={target} className="check">
              <input
                type="checkbox"
                checked={targets.includes(target)}
                onChange={(e) => set('targets', e.target.checked ? [...targets, target] : targets.filter((t) => t !== target))}
              />
              {label} ({target})
            </label>
          ))}
        </fieldset>
      )}
    </details>
  );
}

/** diffusers' `--train_text_encoder`: a LoRA on the text encoder's attention too, at its own rate (default half the LoRA's). */
function TextEncoderLora({ options: o, set }: { options: TrainerOptions; set: SetOption }) {
  const on = o.textEncoderLora ?? D.textEncoderLora;
  return (
    <>
      <div className="row">
        <label className="check">
          <input name="textEncoderLora" type="checkbox" checked={on} onChange={(e) => set('textEncoderLora', e.target.checked)} />
          LoRA on the text encoder too
        </label>
        {on && (
          <label>
            Text encoder learning rate
            <input
              name="textEncoderLearningRate"
              type="number"
              min={0}
              step={1e-5}
              value={o.textEncoderLearningRate ?? (o.loraLearningRate ?? D.loraLearningRate) / 2}
              onChange={(e) => set('textEncoderLearningRate', Number(e.target.value))}
            />
          </label>
        )}
      </div>
      <p className="muted">Follows prompts about the concept better; a larger file, and it can overfit the words.</p>
    </>
  );
}

/** `size`: the resolution's verdict (`useSizeVerdict`), shown before training; a refusal turns Train off. */
export function ConceptForm({ options: o, ready, running, busy, size }: { options: TrainerOptions; ready: boolean; running: boolean; busy: boolean; size: SizeVerdict | null }) {
  const set: SetOption = (key, value) => updateDraft((d) => ({ options: { ...d.options, [key]: value } }));
  const model = useStudio((s) => s.model);
  // textual inversion alone has no LoRA to put on the text encoder; a chosen preset follows the method
  const setMethod = (method: TrainerOptions['method']) =>
    updateDraft((d) => {
      const preset = matchingPreset(d.options, model);
      const options = { ...d.options, method, ...(!trainsLora(method) && { textEncoderLora: false }), ...((method === 'pplus' || method === 'perfusion') && { numVectors: 1 }), ...(method !== 'dreambooth' && { identifier: undefined }) };
      return { options: preset ? applyPreset(options, preset, model) : options };
    });
  // out-of-range numbers turn Train off, each said in a sentence (the engine refuses them too)
  const outOfRange = busy ? [] : trainerOptionProblems(o);
  // back to the form (Cancel, Discard, Change settings, New concept): focus on its first field
  const idle = useStudio((s) => s.training.state === 'idle');
  const tokenField = useFocusOnEntering<HTMLInputElement>(idle);
  // the engine checks the model's vocabulary when training starts; the library's tokens are checked here
  const concepts = useStudio((s) => s.library.concepts);
  const problem = o.token && !busy ? tokenProblem(o.token, { otherTokens: concepts.map((c) => c.token) }) : null;
  return (
    <div className="card generate-form">
      <fieldset className="settings" disabled={busy}>
        <div className="row">
          <label>
            Token
            <input ref={tokenField} name="token" value={o.token} onChange={(e) => set('token', e.target.value.trim())} />
          </label>
          <label>
            What it is
            <input name="classWord" placeholder="dog, teddy bear, watercolor" value={o.classWord} onChange={(e) => set('classWord', e.target.value)} />
          </label>
          <SelectField label="Kind" name="kind" value={o.kind ?? D.kind} choices={KINDS} onChange={(v) => set('kind', v)} />
        </div>
        <ClassWordChips disabled={busy} />
        {problem && (
          <p className="error" role="alert" data-testid="token-problem">
            {problem[0].toUpperCase() + problem.slice(1)}.
          </p>
        )}
        <div className="row">
          <SelectField label="Method" name="method" value={o.method} choices={METHODS} onChange={setMethod} describedBy="method-trade" />
          <label>
            Steps
            <input name="steps" type="number" min={1} max={TRAINER_LIMITS.maxSteps} value={o.steps} onChange={(e) => set('steps', Number(e.target.value))} />
          </label>
          <label>
            Resolution
            <input name="resolution" type="number" min={64} max={1024} step={64} value={o.resolution} onChange={(e) => set('resolution', Number(e.target.value))} />
          </label>
        </div>
        <p className="muted" id="method-trade" data-testid="method-trade">
          {methodChoice(o.method).trade}
        </p>
        <TrainingPresets options={o} model={model} choose={(preset) => updateDraft((d) => ({ options: applyPreset(d.options, preset, model) }))} />
        <AdvancedSettings options={o} set={set} />
      </fieldset>
      {!busy && <SizeNote verdict={size} />}
      {outOfRange.length > 0 && (
        <ul className="error" role="alert" id="option-problems" data-testid="option-problems">
          {outOfRange.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <div className="row">
        <button
          type="button"
          disabled={!ready || problem !== null || size?.kind === 'refuse' || outOfRange.length > 0}
          aria-describedby={outOfRange.length > 0 ? 'option-problems' : undefined}
          onClick={() => void train()}
        >
          Train
        </button>
        {running && (
          <>
            <button type="button" onClick={() => void pauseTraining()}>
              Pause
            </button>
            <button type="button" onClick={cancelTraining}>
              Cancel
            </button>
          </>
        )}
      </div>
    </div>
  );
}
