/**
 * `studio generate`: text to image with the engine, applying embedding and LoRA files as the
 * page applies library concepts (each file read by `engine.importConcept`, refusals and all; an
 * embedding and a LoRA of one token make one concept). Writes DIR/<seed>.png, each carrying its
 * settings in AUTOMATIC1111's `parameters` text (library/png-parameters.ts).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Option } from 'commander';
import { errorMessage, StudioError } from '../common/errors';
import type { Engine } from '../engine/engine';
import type { ConceptData, ConceptWeights } from '../engine/protocol';
import { promptUsesToken } from '../model/prompt-tokens';
import { a1111Sampler, encodePngWithParameters, formatParameters } from '../library/png-parameters';
import { SAMPLER_NAMES, type SamplerName } from '../model/text-to-image-options';
import { createEngine, startWithModel } from './engine';
import { shownPath, type Output } from './progress';
import { collect, decimal, EXIT, integer, modelOptions, UsageError, type AddCommand } from './usage';

export interface GenerateArgs {
  model: string;
  endpoint?: string;
  embedding?: string[];
  lora?: string[];
  prompt: string;
  negative?: string;
  seed?: number;
  steps?: number;
  guidance?: number;
  sampler?: SamplerName;
  size?: string;
  n?: number;
  out: string;
  json?: boolean;
}

export interface LoraArg {
  file: string;
  /** The UNet's strength (and the text encoder's unless `textEncoderStrength`). */
  strength: number;
  textEncoderStrength?: number;
}

const NUMBER = '[-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:e[-+]?\\d+)?';
const LORA_ARG = new RegExp(`^(.+?)(?::(${NUMBER}))(?::(${NUMBER}))?$`, 'i');

/**
 * `FILE[:strength]`, or `FILE:te:unet` as A1111's `<lora:name:te:unet>` (the text encoder's
 * strength first); 1 when left out; a drive letter's colon is not a strength.
 */
export function loraArg(value: string): LoraArg {
  const m = LORA_ARG.exec(value);
  if (!m) return { file: value, strength: 1 };
  return m[3] === undefined ? { file: m[1], strength: Number(m[2]) } : { file: m[1], strength: Number(m[3]), textEncoderStrength: Number(m[2]) };
}

/** `S` or `WxH`, multiples of 8. */
export function sizeArg(value: string): { width: number; height: number } {
  const m = /^(\d+)(?:x(\d+))?$/.exec(value.trim());
  const [width, height] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [NaN, NaN];
  if (!(width >= 8 && height >= 8 && width % 8 === 0 && height % 8 === 0)) throw new UsageError(`--size ${value}: give S or WxH in pixels, multiples of 8.`);
  return { width, height };
}

const stem = (file: string) => basename(file, extname(file));

/** Reads one file into a concept through the engine; refused files throw the engine's ImportRefused. */
async function importFile(engine: Engine, file: string, want: 'embedding' | 'lora', out: Output): Promise<ConceptData> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new StudioError('ImportRefused', `Cannot read ${file}: ${errorMessage(error)}`, 'Check the path.');
  }
  const { tokenNote, ...concept } = await engine.importConcept({ file: new Blob([new Uint8Array(bytes)]), fileName: basename(file) });
  if (tokenNote) out.note(`${shownPath(file)}: ${tokenNote}`);
  if (want === 'embedding' && !concept.embedding) throw new StudioError('ImportRefused', `${file} is a LoRA, not an embedding.`, 'Give it with --lora.');
  if (want === 'lora' && !concept.lora) throw new StudioError('ImportRefused', `${file} is an embedding, not a LoRA.`, 'Give it with --embedding.');
  return concept;
}

/** Concepts by token: an embedding and a LoRA of the same token make one concept. */
function mergeConcepts(embeddings: ConceptData[], loras: [ConceptData, LoraArg][]): ConceptWeights[] {
  const byToken = new Map<string, ConceptWeights>();
  const add = (c: ConceptData, part: 'embedding' | 'lora', arg?: LoraArg) => {
    const known = byToken.get(c.token) ?? { token: c.token, classWord: c.classWord, embedding: null, lora: null, loraStrength: 1 };
    if (known[part]) throw new StudioError('InvalidRequest', `Two ${part === 'lora' ? 'LoRAs' : 'embeddings'} are for ${c.token}.`, 'Give one file per concept.');
    const strengths = arg && { loraStrength: arg.strength, ...(arg.textEncoderStrength !== undefined && { textEncoderStrength: arg.textEncoderStrength }) };
    byToken.set(c.token, { ...known, [part]: c[part], ...strengths, classWord: known.classWord || c.classWord });
  };
  embeddings.forEach((c) => add(c, 'embedding'));
  loras.forEach(([c, arg]) => add(c, 'lora', arg));
  return [...byToken.values()];
}

async function writePng(path: string, bytes: Uint8Array): Promise<void> {
  await writeFile(`${path}.${process.pid}.tmp`, bytes);
  await rename(`${path}.${process.pid}.tmp`, path);
}

export async function generate(a: GenerateArgs, out: Output, engineFor: () => Promise<Engine> = createEngine): Promise<number> {
  if (!a.prompt.trim()) throw new UsageError('--prompt is empty: describe the image you want.');
  const count = a.n ?? 1;
  if (!(count >= 1)) throw new UsageError(`--n ${count}: give at least 1.`);
  if (a.steps !== undefined && !(a.steps >= 1)) throw new UsageError(`--steps ${a.steps}: give at least 1.`);
  const size = a.size === undefined ? null : sizeArg(a.size);
  const loras = (a.lora ?? []).map(loraArg);

  const engine = await engineFor();
  const info = await startWithModel(engine, a.model, a.endpoint, out);
  const embeddings = [];
  for (const file of a.embedding ?? []) embeddings.push(await importFile(engine, file, 'embedding', out));
  const loraConcepts: [ConceptData, LoraArg][] = [];
  for (const l of loras) loraConcepts.push([await importFile(engine, l.file, 'lora', out), l]);
  const concepts = mergeConcepts(embeddings, loraConcepts);
  const negativePrompt = a.negative ?? '';
  for (const c of concepts) {
    if (c.embedding && ![a.prompt, negativePrompt].some((p) => promptUsesToken(p, c.token))) out.note(`The prompt does not use ${c.token}: its embedding changes nothing.`);
  }

  const g = info.card.generation;
  const settings = {
    steps: a.steps ?? g.steps,
    guidanceScale: a.guidance ?? g.guidanceScale,
    sampler: a.sampler ?? g.sampler,
    width: size?.width ?? g.size,
    height: size?.height ?? g.size,
  };
  const seed = a.seed ?? Math.floor(Math.random() * 2 ** 31);
  await mkdir(a.out, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const request = { prompt: a.prompt, negativePrompt, ...settings, seed: seed + i, batch: 1, concepts };
    const result = await engine.generate(request, { signal: new AbortController().signal, progress: (p) => out.generating(i, count, p) });
    out.stop();
    if (i === 0 && result.droppedText) out.note(`The prompt is longer than the text encoder reads: "${result.droppedText}" was left out.`);
    const text = formatParameters({
      prompt: a.prompt,
      negativePrompt,
      ...settings,
      sampler: a1111Sampler(settings.sampler),
      seed: seed + i,
      model: info.name, // as AUTOMATIC1111 writes `Model:` (`shapes-sd`, `tiny-sd`, `owner/name`)
      loras: loras.map((l) => ({ name: stem(l.file), strength: l.strength, ...(l.textEncoderStrength !== undefined && { textEncoderStrength: l.textEncoderStrength }) })),
    });
    const file = join(a.out, `${seed + i}.png`);
    await writePng(file, encodePngWithParameters(result.images[0], text));
    files.push(file);
    out.result({ event: 'image', file, seed: seed + i }, shownPath(file));
  }
  out.result({ event: 'done', files, seed, ...settings, model: info.id });
  return EXIT.ok;
}

export const addGenerateCommand: AddCommand = (program, run) => {
  const command = program.command('generate').description('text to image, with embeddings and LoRAs; writes DIR/<seed>.png with its settings inside');
  modelOptions(command, 'required')
    .option('--embedding <file>', 'an embedding (.safetensors) to apply; repeatable', collect)
    .option('--lora <file[:strength]>', "a LoRA (.safetensors) to apply at a strength (default 1), or file:te:unet for the text encoder's own (A1111's order); repeatable", collect)
    .requiredOption('--prompt <text>', 'what to draw (write the embedding tokens in it)')
    .option('--negative <text>', 'what not to draw')
    .option('--seed <n>', 'seed of the first image (default: random); image i uses seed + i', integer)
    .option('--steps <n>', "denoising steps (default: the model's)", integer)
    .option('--guidance <scale>', "classifier-free guidance scale (default: the model's)", decimal)
    .addOption(new Option('--sampler <name>', "sampler (default: the model's)").choices(SAMPLER_NAMES))
    .option('--size <px>', "image size, S or WxH (default: the model's)")
    .option('--n <count>', 'how many images', integer)
    .requiredOption('--out <dir>', 'folder for the images')
    .option('--json', 'JSON lines on stdout')
    .action((args: GenerateArgs) => run(args.json, (out) => generate(args, out)));
};
