/**
 * `npm run bench -- quality [--steps N] [--images N] [--concepts a,b] [--methods ti,lora] [--lr-ti X] [--lr-lora X] [--generation-steps N]`:
 * for each sample concept × method, train on the built-in model with the studio's defaults for
 * it, generate a fixed set of seeds, and score with the shapes world's analyzer. One JSON line per
 * (concept, method) on stdout, then a Markdown table. It reports; it never fails on numbers.
 */
import type { Engine } from '../engine/engine';
import { trainingInput } from '../train/training-input';
import type { ConceptData, ModelInfo, TrainerOptions } from '../engine/protocol';
import type { ConceptWeights } from '../library/concept';
import { modelTrainingDefaults } from '../engine/training-policy';
import { conceptPhotos, SAMPLE_CONCEPTS, type SampleConcept } from '../world/sample-concepts';
import type { WorldImage } from '../world/render';
import { COMPOSITION_PROMPT, editPrompts, FIDELITY_PROMPT, fill } from '../world/quality-prompts';
import { composition, editability, fidelity } from '../world/concept-quality';
import { QUALITY_METHODS, type QualityMethod } from './quality-plan';
import type { QualityRecord } from './quality-scores';

export type { QualityRecord };
import { qualityTable } from './quality-table';

export interface QualityOptions {
  concepts: readonly SampleConcept[];
  methods: readonly QualityMethod[];
  /** Training steps (default: the built-in model's card). */
  steps?: number;
  /** Images per prompt (seeds 1000, 1001, …). */
  images: number;
  /** Training options over the card's (learning rates, vectors, …). */
  training?: Partial<TrainerOptions>;
  /** Denoising steps per image (default: the card's). */
  generationSteps?: number;
}

const SEED = 1000;

/** The loaded model (the benchmark runs on the built-in one). */
function loaded(engine: Engine): ModelInfo {
  const info = engine.modelInfo();
  if (!info) throw new RangeError('the quality benchmark needs the built-in model loaded.');
  return info;
}

/** `count` images of each prompt, in one batch (prompt by prompt), seeds SEED, SEED + 1, …, with the model's generation settings. */
async function images(engine: Engine, prompts: string[], count: number, concepts: ConceptWeights[], generationSteps?: number): Promise<WorldImage[][]> {
  const { size, steps: cardSteps, guidanceScale, sampler } = loaded(engine).card.generation;
  const steps = generationSteps ?? cardSteps;
  const ctx = { progress: () => {}, signal: new AbortController().signal };
  const result = await engine.generate({ prompt: prompts[0], prompts, steps, guidanceScale, sampler, width: size, height: size, seed: SEED, batch: count, concepts }, ctx);
  return prompts.map((_, p) => result.images.slice(p * count, (p + 1) * count));
}

/** Trains `concept` with `method`; null for the baseline. */
async function trainConcept(engine: Engine, concept: SampleConcept, method: QualityMethod, o: QualityOptions): Promise<{ data: ConceptData | null; seconds: number; steps: number }> {
  if (method === 'baseline') return { data: null, seconds: 0, steps: 0 };
  const recommended = modelTrainingDefaults(loaded(engine));
  const steps = o.steps ?? recommended.steps ?? 100;
  const options: TrainerOptions = { ...recommended, method, token: concept.token, classWord: concept.classWord, steps, ...o.training };
  const runId = `quality-${concept.id}-${method}`;
  const start = performance.now();
  await engine.deleteRun({ runId });
  await engine.train({ runId, options, images: trainingInput(conceptPhotos(concept)), preview: null, checkpointEvery: steps }, { progress: () => {}, signal: new AbortController().signal });
  const seconds = (performance.now() - start) / 1000;
  const data = await engine.runConcept({ runId });
  await engine.deleteRun({ runId });
  return { data, seconds, steps };
}

function fileBytes(engine: Engine, data: ConceptData | null): number {
  if (!data) return 0;
  let bytes = 0;
  if (data.embedding) bytes += engine.exportConcept({ concept: data, what: { kind: 'embedding', layout: 'single-key' } }).bytes.length;
  if (data.lora) bytes += engine.exportConcept({ concept: data, what: { kind: 'lora', layout: 'kohya', dtype: 'F16' } }).bytes.length;
  return bytes;
}

const weights = (data: ConceptData | null): ConceptWeights[] => (data ? [{ token: data.token, classWord: data.classWord, embedding: data.embedding, lora: data.lora, loraStrength: 1 }] : []);

/** Runs the plan on `engine` (the built-in model loaded), calling `onRecord` as each (concept, method) is scored. */
export async function runQuality(engine: Engine, o: QualityOptions, onRecord: (r: QualityRecord) => void): Promise<QualityRecord[]> {
  const records: QualityRecord[] = [];
  for (const method of o.methods) {
    const trained: { concept: SampleConcept; data: ConceptData | null; record: QualityRecord; started: number }[] = [];
    for (const concept of o.concepts) {
      const started = performance.now();
      const { data, seconds, steps } = await trainConcept(engine, concept, method, o);
      const word = data ? concept.token : concept.classWord;
      const concepts = weights(data);
      const photos = conceptPhotos(concept);
      const plan = editPrompts(concept);
      const [alone, ...edited] = await images(engine, [fill(FIDELITY_PROMPT, word), ...plan.map((e) => fill(e.prompt, word))], o.images, concepts, o.generationSteps);
      const fid = fidelity(alone, concept, photos);
      const edits = plan.map((e, i) => ({ images: edited[i], wanted: e.wanted }));
      const record: QualityRecord = {
        concept: concept.id,
        method,
        steps,
        fidelity: fid,
        editability: editability(edits),
        composition: null,
        secondsPerStep: steps ? seconds / steps : null,
        trainSeconds: seconds,
        totalSeconds: 0,
        fileBytes: fileBytes(engine, data),
      };
      trained.push({ concept, data, record, started });
    }
    // Composition needs every concept of the method: each with the next one, all pairs in one batch.
    const word = (x: (typeof trained)[number]) => (x.data ? x.concept.token : x.concept.classWord);
    const pairs = trained.length > 1 ? trained.map((t, i) => [t, trained[(i + 1) % trained.length]] as const) : [];
    const pairPrompt = ([a, b]: (typeof pairs)[number]) => COMPOSITION_PROMPT.replace('{a}', word(a)).replace('{b}', word(b));
    // Token vectors act only where their token is, so TI pairs share one batch; a LoRA acts on the whole UNet, so LoRA pairs go one by one.
    const together: WorldImage[][] = [];
    if (pairs.length && method !== 'lora' && method !== 'both') together.push(...(await images(engine, pairs.map(pairPrompt), o.images, trained.flatMap((t) => weights(t.data)), o.generationSteps)));
    else for (const pair of pairs) together.push((await images(engine, [pairPrompt(pair)], o.images, [...weights(pair[0].data), ...weights(pair[1].data)], o.generationSteps))[0]);
    for (const [i, t] of trained.entries()) {
      if (pairs.length) t.record.composition = composition(together[i], t.concept, pairs[i][1].concept);
      t.record.totalSeconds = (performance.now() - t.started) / 1000;
      records.push(t.record);
      onRecord(t.record);
    }
  }
  return records;
}

/** The benchmark's options from plain values (the command lines' flags); an unknown name throws naming it. */
export function qualityOptions(a: { concepts?: string[]; methods?: string[]; steps?: number; images?: number; lrTi?: number; lrLora?: number; vectors?: number; rank?: number; generationSteps?: number }): QualityOptions {
  const concepts = a.concepts?.map((id) => SAMPLE_CONCEPTS.find((c) => c.id === id) ?? fail(`unknown concept '${id}' (${SAMPLE_CONCEPTS.map((c) => c.id).join(', ')})`)) ?? SAMPLE_CONCEPTS;
  const methods = (a.methods ?? QUALITY_METHODS).map((m) => ((QUALITY_METHODS as readonly string[]).includes(m) ? (m as QualityMethod) : fail(`unknown method '${m}' (${QUALITY_METHODS.join(', ')})`)));
  const training: Partial<TrainerOptions> = {};
  if (a.lrTi !== undefined) training.tiLearningRate = a.lrTi;
  if (a.lrLora !== undefined) training.loraLearningRate = a.lrLora;
  if (a.vectors !== undefined) training.numVectors = a.vectors;
  if (a.rank !== undefined) training.rank = a.rank;
  return { concepts, methods, steps: a.steps, images: a.images ?? 4, training, generationSteps: a.generationSteps };
}

function parseArgs(args: string[]): QualityOptions {
  const get = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const list = (name: string) => get(name)?.split(',').map((s) => s.trim()).filter(Boolean);
  const number = (name: string) => (get(name) === undefined ? undefined : Number(get(name)));
  return qualityOptions({ concepts: list('concepts'), methods: list('methods'), steps: number('steps'), images: number('images'), lrTi: number('lr-ti'), lrLora: number('lr-lora'), vectors: number('vectors'), rank: number('rank'), generationSteps: number('generation-steps') });
}

function fail(message: string): never {
  throw new RangeError(message);
}

export async function main(args: string[]): Promise<number> {
  const o = parseArgs(args);
  const { installNodeWebGpu } = await import('../gpu/node-webgpu');
  const gpu = installNodeWebGpu();
  const { Engine } = await import('../engine/engine');
  const { MemoryCache } = await import('../model/sources/cache');
  const { MemoryCheckpointStore } = await import('../train/checkpoint-store');
  const { nodeBuiltinSource } = await import('../model/sources/node-folder');
  const engine = new Engine(gpu, () => {}, async () => new MemoryCache(), new MemoryCheckpointStore(), async () => nodeBuiltinSource());
  const capabilities = await engine.init();
  await engine.loadModel({ model: { kind: 'builtin' } }, { progress: () => {}, signal: new AbortController().signal });
  const adapter = capabilities.adapter.description || capabilities.adapter.vendor;
  const records = await runQuality(engine, o, (r) => console.log(JSON.stringify({ name: 'quality', ...r, images: o.images, training: o.training, adapter })));
  console.log(`\n${qualityTable(records)}`);
  await engine.releaseDevice();
  return 0;
}
