/**
 * `studio evaluate`: DreamBench-style scores of an embedding or LoRA file (engine.evaluateConcept):
 * CLIP-I, CLIP-T and DINO against the photos of a folder, with the class-word baseline. The
 * feature models come from two folders (--clip, --dino) or the hub (downloaded into the cache).
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { errorMessage, StudioError } from '../common/errors';
import type { Engine } from '../engine/engine';
import type { ConceptEvaluation, ConceptWeights, FeatureModelSource, RgbaImage } from '../engine/protocol';
import { createEngine, startWithModel } from './engine';
import { decodePhoto, PHOTO_EXTENSIONS, type Pixels } from './photos';
import type { Output } from './progress';
import { EXIT, integer, modelOptions, UsageError, type AddCommand } from './usage';

export interface EvaluateArgs {
  model: string;
  endpoint?: string;
  concept: string;
  photos: string;
  class?: string;
  clip?: string;
  dino?: string;
  seeds?: string;
  steps?: number;
  size?: number;
  json?: boolean;
}

function rgba8(p: Pixels): RgbaImage {
  const data = new Uint8ClampedArray(p.width * p.height * 4);
  for (let i = 0; i < data.length; i++) data[i] = Math.round((p.rgba[i] * 255) / p.max);
  return { width: p.width, height: p.height, data };
}

async function readPhotos(dir: string): Promise<RgbaImage[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.') && PHOTO_EXTENSIONS.includes(extname(n).toLowerCase())).sort();
  } catch (error) {
    throw new StudioError('InvalidRequest', `Cannot read the photo folder ${dir}: ${errorMessage(error)}`, 'Give --photos the folder of the training photos.');
  }
  if (names.length === 0) throw new StudioError('InvalidRequest', `${dir} holds no PNG or JPEG photos.`, 'Give --photos the folder of the training photos.');
  return Promise.all(names.map(async (n) => rgba8(decodePhoto(new Uint8Array(await readFile(join(dir, n))), join(dir, n)))));
}

function seedsArg(value: string): number[] {
  const seeds = value.split(',').map((s) => Number(s.trim()));
  if (!seeds.every((s) => Number.isInteger(s) && s >= 0)) throw new UsageError(`--seeds ${value}: give whole numbers, comma-separated.`);
  return seeds;
}

export async function evaluate(a: EvaluateArgs, out: Output, engineFor: () => Promise<Engine> = createEngine): Promise<number> {
  if ((a.clip === undefined) !== (a.dino === undefined)) throw new UsageError('Give both --clip and --dino folders, or neither (the hub).');
  const seeds = a.seeds === undefined ? undefined : seedsArg(a.seeds);
  const photos = await readPhotos(a.photos);
  const engine = await engineFor();
  await startWithModel(engine, a.model, a.endpoint, out);
  let bytes: Buffer;
  try {
    bytes = await readFile(a.concept);
  } catch (error) {
    throw new StudioError('ImportRefused', `Cannot read ${a.concept}: ${errorMessage(error)}`, 'Check the path.');
  }
  const { tokenNote: _, ...data } = await engine.importConcept({ file: new Blob([new Uint8Array(bytes)]), fileName: basename(a.concept) });
  const concept: ConceptWeights = { token: data.token, classWord: a.class ?? data.classWord, embedding: data.embedding, lora: data.lora, loraStrength: 1 };
  const source: FeatureModelSource = a.clip !== undefined ? { kind: 'folder', clip: resolve(a.clip), dino: resolve(a.dino!) } : { kind: 'hub', endpoint: a.endpoint };
  const result: ConceptEvaluation = await engine.evaluateConcept(
    { concept, photos, source, seeds, steps: a.steps, size: a.size },
    { signal: new AbortController().signal, progress: (p) => (p.label.startsWith('Evaluation image') ? out.generating(0, 1, p) : out.loading(p)) },
  );
  out.stop();
  const { images: __, ...record } = result;
  const f = (n: number) => n.toFixed(3);
  const text = [
    `          CLIP-I  CLIP-T  DINO`,
    `concept   ${f(result.scores.clipI)}   ${f(result.scores.clipT)}  ${f(result.scores.dino)}`,
    `baseline  ${f(result.baseline.clipI)}   ${f(result.baseline.clipT)}  ${f(result.baseline.dino)}  ('${concept.classWord}')`,
    result.reading,
  ].join('\n');
  out.result({ event: 'done', ...record }, text);
  return EXIT.ok;
}

export const addEvaluateCommand: AddCommand = (program, run) => {
  const command = program.command('evaluate').description("DreamBench-style scores of a concept file against its photos (CLIP-I, CLIP-T, DINO), with the class word's baseline");
  modelOptions(command, 'required')
    .requiredOption('--concept <file>', 'the embedding or LoRA (.safetensors) to evaluate')
    .requiredOption('--photos <dir>', 'the training photos (PNG or JPEG)')
    .option('--class <word>', "what the concept is (default: the file's, if it says)")
    .option('--clip <dir>', 'the CLIP feature model folder (transformers.js layout); default: Xenova/clip-vit-base-patch32 from the hub')
    .option('--dino <dir>', 'the DINOv2 feature model folder; default: Xenova/dinov2-small from the hub')
    .option('--seeds <list>', 'seeds, comma-separated (default 1,2)')
    .option('--steps <n>', 'denoising steps per image (default 20)', integer)
    .option('--size <px>', "image size (default: the model's, at most 512)", integer)
    .option('--json', 'JSON lines on stdout')
    .action((args: EvaluateArgs) => run(args.json, (out) => evaluate(args, out)));
};
