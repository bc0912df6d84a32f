import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { RgbaImage } from '../../engine/protocol';
import { TEXT_TO_IMAGE_DEFAULTS as D, type SamplerName } from '../../model/text-to-image-options';
import { conceptsInPrompt } from '../../library/concept';
import { promptUsesToken } from '../../model/prompt-tokens';
import { ConceptStrength } from '../ConceptStrength';
import { GalleryNotice } from './GallerySection';
import { generateWithConcepts } from '../library';
import { ProgressBar } from '../Progress';
import { RgbaCanvas, toPngDataUrl } from '../RgbaCanvas';
import { SelectField } from '../SelectField';
import { SizeNote, useSizeVerdict } from '../SizeNote';
import { cancelGeneration, showSection, useStudio } from '../store';

const SAMPLERS: [SamplerName, string][] = [
  ['ddim', 'DDIM'],
  ['euler', 'Euler'],
];

function SaveLink({ image, name }: { image: RgbaImage; name: string }) {
  const href = useMemo(() => toPngDataUrl(image), [image]);
  return (
    <a download={name} href={href}>
      Save PNG
    </a>
  );
}

export function GenerateSection() {
  const model = useStudio((s) => s.model);
  const generation = useStudio((s) => s.generation);
  const [form, setForm] = useState({
    prompt: '',
    negativePrompt: D.negativePrompt,
    steps: D.steps,
    guidanceScale: D.guidanceScale,
    sampler: D.sampler,
    seed: '',
    size: 0,
    batch: D.batch,
  });
  const concepts = useStudio((s) => s.library.concepts);
  const insert = useStudio((s) => s.promptInsert);
  const size = form.size || model?.card.generation.size || D.width;
  const sizeVerdict = useSizeVerdict({ width: size, height: size, rows: 2 * form.batch, images: form.batch, purpose: 'generating' });
  // A newly loaded model's recommended settings.
  useEffect(() => {
    if (!model) return;
    const g = model.card.generation;
    setForm((f) => ({ ...f, steps: g.steps, guidanceScale: g.guidanceScale, sampler: g.sampler, size: 0 }));
  }, [model?.id]);
  const addToken = (token: string) => setForm((f) => ({ ...f, prompt: promptUsesToken(f.prompt, token) ? f.prompt : f.prompt.trim() ? `${f.prompt.trim()} ${token}` : `a photo of ${token}` }));
  useEffect(() => {
    if (!insert) return;
    addToken(insert.token);
    useStudio.setState({ promptInsert: null });
  }, [insert]);
  const fill = useStudio((s) => s.composerFill);
  useEffect(() => {
    if (!fill) return;
    const g = fill.settings;
    setForm((f) => ({ ...f, prompt: g.prompt, negativePrompt: g.negativePrompt, steps: g.steps, guidanceScale: g.guidanceScale, sampler: g.sampler, seed: String(g.seed), size: g.width, batch: 1 }));
    useStudio.setState({ composerFill: null });
  }, [fill]);
  const used = conceptsInPrompt(concepts, form.prompt, form.negativePrompt);
  const running = generation.state === 'running';
  const set = <K extends keyof typeof form>(key: K, value: (typeof form)[K]) => setForm((f) => ({ ...f, [key]: value }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const seed = form.seed.trim() === '' ? undefined : Number(form.seed);
    void generateWithConcepts({
      prompt: form.prompt,
      negativePrompt: form.negativePrompt,
      steps: form.steps,
      guidanceScale: form.guidanceScale,
      sampler: form.sampler,
      seed,
      width: size,
      height: size,
      batch: form.batch,
    });
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

  return (
    <section className="section" aria-labelledby="generate-title" data-testid="section-generate">
      <h1 id="generate-title">Generate</h1>
      <GalleryNotice failuresOnly />
      <form className="card generate-form" onSubmit={submit}>
        <label>
          Prompt
          <textarea name="prompt" rows={3} value={form.prompt} onChange={(e) => set('prompt', e.target.value)} placeholder="a photo of an astronaut riding a horse" />
        </label>
        {model.card.examplePrompts.length > 0 && (
          <div className="concept-chips" data-testid="example-prompts">
            <span className="muted">Examples for {model.card.title}:</span>
            {model.card.examplePrompts.map((p) => (
              <button key={p} type="button" onClick={() => set('prompt', p)}>
                {p}
              </button>
            ))}
          </div>
        )}
        {concepts.length > 0 && (
          <div className="concept-chips" data-testid="concept-chips">
            <span className="muted">Your concepts:</span>
            {concepts.map((c) => (
              <button key={c.id} type="button" aria-pressed={used.includes(c)} onClick={() => addToken(c.token)}>
                {c.token}
              </button>
            ))}
          </div>
        )}
        {used
          .filter((c) => c.loraLayers > 0)
          .map((c) => (
            <ConceptStrength key={c.id} concept={c} />
          ))}
        <label>
          Negative prompt
          <input name="negative" value={form.negativePrompt} onChange={(e) => set('negativePrompt', e.target.value)} placeholder="blurry, low quality" />
        </label>
        <div className="row">
          <label>
            Steps
            <input name="steps" type="number" min={1} max={150} value={form.steps} onChange={(e) => set('steps', Number(e.target.value))} />
          </label>
          <label>
            Guidance
            <input name="guidance" type="number" min={0} max={30} step={0.5} value={form.guidanceScale} onChange={(e) => set('guidanceScale', Number(e.target.value))} />
          </label>
          <SelectField label="Sampler" name="sampler" value={form.sampler} choices={SAMPLERS} onChange={(v) => set('sampler', v)} />
          <label>
            Size
            <input name="size" type="number" min={64} max={1024} step={8} value={size} onChange={(e) => set('size', Number(e.target.value))} />
          </label>
          <label>
            Images
            <input name="batch" type="number" min={1} max={4} value={form.batch} onChange={(e) => set('batch', Math.min(4, Math.max(1, Number(e.target.value) || 1)))} />
          </label>
          <label>
            Seed
            <input name="seed" inputMode="numeric" placeholder="random" value={form.seed} onChange={(e) => set('seed', e.target.value.replace(/[^0-9]/g, ''))} />
          </label>
        </div>
        {!running && <SizeNote verdict={sizeVerdict} />}
        <div className="row">
          <button type="submit" disabled={running || !form.prompt.trim() || sizeVerdict?.kind === 'refuse'}>
            Generate
          </button>
          {running && (
            <button type="button" onClick={cancelGeneration}>
              Cancel
            </button>
          )}
        </div>
      </form>

      {generation.state === 'running' && (
        <div className="card">
          <ProgressBar progress={generation.progress} label="Generating" />
          {generation.preview && <RgbaCanvas image={generation.preview} label="Preview" scale={Math.max(1, Math.floor(256 / generation.preview.width))} />}
        </div>
      )}
      {generation.state === 'failed' && (
        <div role="alert" className="card error">
          <p>{generation.error.message}</p>
          {generation.error.hint && <p className="muted">{generation.error.hint}</p>}
        </div>
      )}
      {generation.state === 'done' && (
        <div className="card" data-testid="result">
          {generation.result.droppedTokenCount > 0 && (
            <p role="status" className="warning">
              The prompt was longer than the model reads (77 tokens): “{generation.result.droppedText}” was left out.
            </p>
          )}
          <div className="images">
            {generation.result.images.map((image, i) => (
              <figure key={i}>
                <RgbaCanvas image={image} label={`Generated image ${i + 1}`} scale={Math.max(1, Math.floor(256 / image.width))} />
                <figcaption>
                  seed {generation.result.seed + i}{' '}
                  <SaveLink image={image} name={`studio-${generation.result.seed + i}.png`} />
                </figcaption>
              </figure>
            ))}
          </div>
        </div>
      )}
    </section>
  );
}
