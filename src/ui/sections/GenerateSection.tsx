import { useEffect, type KeyboardEvent } from 'react';
import { conceptsInPrompt } from '../../library/concept';
import { readPngParameters } from '../../library/png-parameters';
import { promptUsesToken } from '../../model/prompt-tokens';
import type { SamplerName } from '../../model/text-to-image-options';
import { fillOfInfotext, fillOfSettings } from '../composer/composer-fill';
import { adoptModelSettings, applyFill, rememberInHistory, setComposer, useComposer } from '../composer/composer-store';
import { ConceptChips } from '../composer/ConceptChips';
import { GenerationQueue } from '../composer/GenerationQueue';
import { GenerationResult } from '../composer/GenerationResult';
import { PromptField } from '../composer/PromptField';
import { PromptHistory } from '../composer/PromptHistory';
import { planSeed, SEED_MODES, typedSeed } from '../composer/seed-plan';
import { TokenCounter } from '../composer/TokenCounter';
import { unknownTokens } from '../composer/token-autocomplete';
import { GalleryNotice } from './GallerySection';
import { generateWithConcepts } from '../library';
import { SelectField } from '../SelectField';
import { SizeNote, useSizeVerdict } from '../SizeNote';
import { showSection, useStudio } from '../store';
import { useDropZone } from '../useDropZone';

const SAMPLERS: [SamplerName, string][] = [
  ['ddim', 'DDIM'],
  ['euler', 'Euler'],
];

/** The settings of a dropped or picked PNG (its A1111 `parameters` chunk) into the composer. */
async function fillFromPng(file: File | undefined): Promise<void> {
  if (!file) return;
  const text = file.type === 'image/png' || /\.png$/i.test(file.name) ? readPngParameters(new Uint8Array(await file.arrayBuffer())) : null;
  if (text === null) {
    setComposer({ fillNotes: [`${file.name} carries no generation settings (a PNG with a “parameters” text chunk, as the studio and AUTOMATIC1111 write them).`] });
    return;
  }
  const { library, model } = useStudio.getState();
  applyFill(fillOfInfotext(text, library.concepts, model?.name ?? null), file.name);
}

export function GenerateSection() {
  const model = useStudio((s) => s.model);
  const concepts = useStudio((s) => s.library.concepts);
  const insert = useStudio((s) => s.promptInsert);
  const fill = useStudio((s) => s.composerFill);
  const form = useComposer();
  const size = form.size || model?.card.generation.size || 512;
  const sizeVerdict = useSizeVerdict({ width: size, height: size, rows: 2 * form.batch, images: form.batch, purpose: 'generating' });
  const drop = useDropZone((data) => void fillFromPng(data.files[0]));

  useEffect(() => {
    if (model) adoptModelSettings(model);
  }, [model?.id]);
  useEffect(() => {
    if (!insert) return;
    const p = useComposer.getState().prompt;
    if (!promptUsesToken(p, insert.token)) setComposer({ prompt: p.trim() ? `${p.trim()} ${insert.token}` : `a photo of ${insert.token}` });
    useStudio.setState({ promptInsert: null });
  }, [insert]);
  useEffect(() => {
    if (!fill) return;
    applyFill(fillOfSettings(fill.settings));
    useStudio.setState({ composerFill: null });
  }, [fill]);

  const used = conceptsInPrompt(concepts, form.prompt, form.negativePrompt);
  const unknown = unknownTokens(concepts, form.prompt, form.negativePrompt);
  const canGenerate = form.prompt.trim() !== '' && sizeVerdict?.kind !== 'refuse';

  const submit = () => {
    if (!canGenerate) return;
    const plan = planSeed(form.seedMode, form.seed, form.batch);
    setComposer({ seed: plan.field, fillNotes: null });
    rememberInHistory(form.prompt);
    const strengths = Object.fromEntries(used.filter((c) => form.strengths[c.id] !== undefined).map((c) => [c.id, form.strengths[c.id]]));
    void generateWithConcepts(
      { prompt: form.prompt, negativePrompt: form.negativePrompt, steps: form.steps, guidanceScale: form.guidanceScale, sampler: form.sampler, seed: plan.seed, width: size, height: size, batch: form.batch },
      strengths,
    );
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit();
    }
  };

  if (!model) {
    return (
      <section className="section" aria-labelledby="generate-title" data-testid="section-generate">
        <h1 id="generate-title">Generate</h1>
        <p className="lead">Load a model first.</p>
        <button type="button" onClick={() => showSection('models')}>
          Go to Models
        </button>
      </section>
    );
  }

  const presets = [...new Set([model.card.generation.size, 512, 768])];
  return (
    <section className="section" aria-labelledby="generate-title" data-testid="section-generate">
      <h1 id="generate-title">Generate</h1>
      <GalleryNotice failuresOnly />
      <form
        className={drop.dropping ? 'card generate-form dropping' : 'card generate-form'}
        aria-label="Prompt composer"
        data-testid="composer"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
        onKeyDown={onKeyDown}
        {...drop.handlers}
      >
        <PromptField value={form.prompt} onChange={(prompt) => setComposer({ prompt })} concepts={concepts} />
        <TokenCounter prompt={form.prompt} used={used} modelId={model.id} />
        {unknown.length > 0 && (
          <p className="warning" data-testid="unknown-tokens">
            Not in your library, so read as plain text: {unknown.join(', ')}.
          </p>
        )}
        <ConceptChips used={used} strengths={form.strengths} onStrength={(id, value) => setComposer({ strengths: { ...form.strengths, [id]: value } })} />
        {model.card.examplePrompts.length > 0 && (
          <div className="concept-chips" data-testid="example-prompts">
            <span className="muted">Examples for {model.card.title}:</span>
            {model.card.examplePrompts.map((p) => (
              <button key={p} type="button" onClick={() => setComposer({ prompt: p })}>
                {p}
              </button>
            ))}
          </div>
        )}
        {concepts.length > 0 && (
          <div className="concept-chips" data-testid="concept-chips">
            <span className="muted">Your concepts:</span>
            {concepts.map((c) => (
              <button key={c.id} type="button" aria-pressed={used.includes(c)} onClick={() => useStudio.setState({ promptInsert: { token: c.token, at: Date.now() } })}>
                {c.token}
              </button>
            ))}
          </div>
        )}
        <PromptHistory history={form.history} onPick={(prompt) => setComposer({ prompt })} />
        <label>
          Negative prompt
          <input name="negative" value={form.negativePrompt} onChange={(e) => setComposer({ negativePrompt: e.target.value })} placeholder="blurry, low quality" />
        </label>
        <div className="row">
          <label>
            Steps
            <input name="steps" type="number" min={1} max={150} value={form.steps} onChange={(e) => setComposer({ steps: Number(e.target.value) })} />
          </label>
          <label>
            Guidance
            <input name="guidance" type="number" min={0} max={30} step={0.5} value={form.guidanceScale} onChange={(e) => setComposer({ guidanceScale: Number(e.target.value) })} />
          </label>
          <SelectField label="Sampler" name="sampler" value={form.sampler} choices={SAMPLERS} onChange={(sampler) => setComposer({ sampler })} />
          <label>
            Size
            <input name="size" type="number" min={64} max={1024} step={8} list="size-presets" value={size} onChange={(e) => setComposer({ size: Number(e.target.value) })} />
          </label>
          <datalist id="size-presets">
            {presets.map((p) => (
              <option key={p} value={p} label={p === model.card.generation.size ? `${p} (the model's own)` : String(p)} />
            ))}
          </datalist>
          <label>
            Images
            <input name="batch" type="number" min={1} max={4} value={form.batch} onChange={(e) => setComposer({ batch: Math.min(4, Math.max(1, Number(e.target.value) || 1)) })} />
          </label>
          <label>
            Seed
            <input name="seed" inputMode="numeric" placeholder="random" value={form.seed} onChange={(e) => setComposer(typedSeed(e.target.value.replace(/[^0-9]/g, ''), form.seedMode))} />
          </label>
          <SelectField label="Each generation" name="seedMode" value={form.seedMode} choices={SEED_MODES} onChange={(seedMode) => setComposer({ seedMode, ...(seedMode === 'random' && { seed: '' }) })} />
        </div>
        <SizeNote verdict={sizeVerdict} />
        <div className="row">
          <button type="submit" disabled={!canGenerate} aria-keyshortcuts="Control+Enter Meta+Enter">
            Generate
          </button>
          <label>
            Read settings from a PNG
            <input type="file" accept="image/png" onChange={(e) => void fillFromPng(e.target.files?.[0]).then(() => (e.target.value = ''))} />
          </label>
          <span className="muted">Ctrl+Enter queues it · drop a PNG here to use its settings</span>
        </div>
        {form.fillNotes && (
          <div role="status" className="fill-notes" data-testid="fill-notes">
            <ul>
              {form.fillNotes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          </div>
        )}
      </form>
      <GenerationQueue />
      <GenerationResult />
    </section>
  );
}
