/**
 * `studio train`: trains a concept from a folder of photos with the engine the page uses, writes
 * the files the page saves (embedding: single-key and kohya `emb_params`; LoRA: kohya and
 * diffusers/PEFT; P+: ours, and kohya's XTI where the model is SD 1.x-shaped; as the method has
 * them) as PREFIX*.safetensors, and keeps the run's checkpoint beside them (PREFIX.checkpoint,
 * run id = PREFIX's base name). Ctrl-C pauses: the engine checkpoints after its current step and
 * `--resume` goes on from there bit for bit. A run that diverges exits 1 naming the step and
 * writes no concept; `--resume` with lower `--lr-*` goes on from its last good checkpoint.
 */
import { rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { Option } from 'commander';
import { errorMessage, StudioError } from '../common/errors';
import type { Engine } from '../engine/engine';
import { photoRefusal } from '../engine/photo-rules';
import type { ConceptExport } from '../engine/protocol';
import { modelTrainingDefaults } from '../engine/training-policy';
import type { Checkpoint } from '../train/checkpoint';
import { IDENTIFIERS, resolveTrainerConfig, tenthOfRates, TRAINING_METHODS, type Identifier, type LearningRateOptions, type TrainerConfig, type TrainerOptions, type TrainingMethod } from '../train/config';
import { CONCEPT_KINDS, type ConceptKind } from '../train/templates';
import { createEngine, startWithModel } from './engine';
import { FileCheckpointStore } from './file-checkpoint-store';
import { readPhotoFolder } from './photos';
import { shownPath as shown, type Output } from './progress';
import { decimal, EXIT, integer, modelOptions, UsageError, type AddCommand } from './usage';

export interface TrainArgs {
  model: string;
  endpoint?: string;
  images: string;
  token?: string;
  class?: string;
  method?: TrainingMethod;
  kind?: ConceptKind;
  steps?: number;
  resolution?: number;
  lrTi?: number;
  lrLora?: number;
  textEncoderLora?: boolean;
  lrTextEncoder?: number;
  rank?: number;
  vectors?: number;
  seed?: number;
  classImages?: number;
  priorLossWeight?: number;
  identifier?: Identifier;
  classImageSteps?: number;
  out?: string;
  resume?: boolean;
  json?: boolean;
}

/** What `train` needs from its process: Ctrl-C, and an engine using the run's checkpoint store. */
export interface TrainDeps {
  signals: Pick<NodeJS.Process, 'on' | 'off'>;
  engine: (checkpoints: FileCheckpointStore) => Promise<Engine>;
}

/** The files a method's concept is saved as: suffix after PREFIX, and what the engine writes. */
const EXPORTS: { suffix: string; what: ConceptExport; methods: TrainingMethod[]; whereModelFits?: true }[] = [
  { suffix: '.safetensors', what: { kind: 'embedding', layout: 'single-key' }, methods: ['ti', 'both', 'perfusion'] },
  { suffix: '-emb_params.safetensors', what: { kind: 'embedding', layout: 'emb_params' }, methods: ['ti', 'both'] },
  { suffix: '-lora-kohya.safetensors', what: { kind: 'lora', layout: 'kohya', dtype: 'F16' }, methods: ['lora', 'both', 'dreambooth'] },
  { suffix: '-lora-peft.safetensors', what: { kind: 'lora', layout: 'peft', dtype: 'F16' }, methods: ['lora', 'both', 'dreambooth'] },
  { suffix: '-pplus.safetensors', what: { kind: 'layer-embeddings' }, methods: ['pplus'] },
  { suffix: '-xti.safetensors', what: { kind: 'layer-embeddings', layout: 'kohya-xti' }, methods: ['pplus'], whereModelFits: true },
  { suffix: '-perfusion.safetensors', what: { kind: 'perfusion' }, methods: ['perfusion'] },
];

/** The option behind each trainer setting, to name it when a value is refused. */
const FLAGS: Partial<Record<keyof TrainerConfig, [string, keyof TrainArgs]>> = {
  method: ['--method', 'method'],
  token: ['--token', 'token'],
  classWord: ['--class', 'class'],
  kind: ['--kind', 'kind'],
  steps: ['--steps', 'steps'],
  resolution: ['--resolution', 'resolution'],
  tiLearningRate: ['--lr-ti', 'lrTi'],
  loraLearningRate: ['--lr-lora', 'lrLora'],
  textEncoderLora: ['--text-encoder-lora', 'textEncoderLora'],
  textEncoderLearningRate: ['--lr-text-encoder', 'lrTextEncoder'],
  rank: ['--rank', 'rank'],
  numVectors: ['--vectors', 'vectors'],
  seed: ['--seed', 'seed'],
  classImages: ['--class-images', 'classImages'],
  priorLossWeight: ['--prior-loss-weight', 'priorLossWeight'],
  identifier: ['--identifier', 'identifier'],
  classImageSteps: ['--class-image-steps', 'classImageSteps'],
};

/** The rate flags, which a resumed run takes in place of its checkpoint's (a diverged run goes on lower). */
const RATE_FLAGS = ['tiLearningRate', 'loraLearningRate', 'textEncoderLearningRate'] as const satisfies readonly (keyof LearningRateOptions)[];

/** The rates the arguments give. */
function ratesGiven(a: TrainArgs): LearningRateOptions {
  return Object.fromEntries(RATE_FLAGS.filter((k) => a[FLAGS[k]![1]] !== undefined).map((k) => [k, a[FLAGS[k]![1]]]));
}

/** `<my-dog>` → `my-dog`, as the page names a concept's files. */
export function tokenBaseName(token: string): string {
  return token.replace(/[<>]/g, '').replace(/[^\w.-]+/g, '_') || 'concept';
}

/** The trainer options the arguments ask for, checked by the studio's own validator (exit 2 naming the option). */
export function trainerOptions(a: TrainArgs, resolution: number): TrainerOptions {
  for (const [flag, key] of [['--token', 'token'], ['--class', 'class'], ['--method', 'method'], ['--steps', 'steps']] as const) {
    if (a[key] === undefined) throw new UsageError(`required option '${flag}' not specified (only --resume takes it from the checkpoint)`);
  }
  const options: TrainerOptions = {
    method: a.method!,
    token: a.token!,
    classWord: a.class!,
    steps: a.steps!,
    resolution,
    ...(a.kind !== undefined && { kind: a.kind }),
    ...(a.lrTi !== undefined && { tiLearningRate: a.lrTi }),
    ...(a.lrLora !== undefined && { loraLearningRate: a.lrLora }),
    ...(a.textEncoderLora !== undefined && { textEncoderLora: a.textEncoderLora }),
    ...(a.lrTextEncoder !== undefined && { textEncoderLearningRate: a.lrTextEncoder }),
    ...(a.rank !== undefined && { rank: a.rank }),
    ...(a.vectors !== undefined && { numVectors: a.vectors }),
    ...(a.seed !== undefined && { seed: a.seed }),
    ...(a.classImages !== undefined && { classImages: a.classImages }),
    ...(a.priorLossWeight !== undefined && { priorLossWeight: a.priorLossWeight }),
    ...(a.identifier !== undefined && { identifier: a.identifier }),
    ...(a.classImageSteps !== undefined && { classImageSteps: a.classImageSteps }),
  };
  try {
    resolveTrainerConfig(options);
  } catch (error) {
    const key = /training option (\w+)/.exec(errorMessage(error))?.[1] as keyof TrainerConfig | undefined;
    const flag = key && FLAGS[key] ? `${FLAGS[key]![0]}: ` : '';
    throw new UsageError(`${flag}${errorMessage(error)}`);
  }
  return options;
}

/** PREFIX: --out, or the token's name in the current folder (or in --out when that is a folder). */
async function outputPrefix(a: TrainArgs): Promise<string> {
  const folder = a.out === undefined || a.out.endsWith('/') || (await stat(a.out).catch(() => null))?.isDirectory();
  if (!folder) return resolve(a.out!);
  if (!a.token) throw new UsageError("required option '--token' not specified (or --out PREFIX with --resume)");
  return resolve(a.out ?? '.', tokenBaseName(a.token));
}

/** Settings given with --resume that the checkpoint's own differ from (the checkpoint's win; rates excepted). */
function ignoredOnResume(a: TrainArgs, stored: Checkpoint): string[] {
  return (Object.entries(FLAGS) as [keyof TrainerConfig, [string, keyof TrainArgs]][])
    .filter(([key, [, arg]]) => a[arg] !== undefined && a[arg] !== stored.config[key] && !(RATE_FLAGS as readonly string[]).includes(key))
    .map(([key, [flag, arg]]) => `${flag} ${String(a[arg])} (the run's: ${String(stored.config[key])})`);
}

/** A diverged run's error, with how to go on at a tenth of its rates from what the store kept. */
async function divergedWithHint(error: StudioError, a: TrainArgs, prefix: string, options: TrainerOptions, store: FileCheckpointStore, runId: string): Promise<StudioError> {
  const tenth = tenthOfRates(resolveTrainerConfig(options));
  const lower = (Object.entries(tenth) as [keyof LearningRateOptions, number][]).map(([k, rate]) => `${FLAGS[k]![0]} ${rate}`).join(' ');
  const kept = await store.get(runId);
  const hint = kept
    ? `Go on from its last good checkpoint (step ${kept.step}) at a lower rate: studio train --model ${a.model} --images ${a.images} --out ${shown(prefix)} --resume ${lower}`
    : `No checkpoint was kept: start again at a lower rate (${lower}).`;
  return new StudioError('TrainingDiverged', error.message, hint, { cause: error });
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, bytes);
  await rename(temp, path);
}

/** Saves the run's concept as the files of its method; their paths. */
async function exportFiles(engine: Engine, runId: string, prefix: string, method: TrainingMethod, note: (line: string) => void): Promise<string[]> {
  const written: string[] = [];
  for (const e of EXPORTS.filter((x) => x.methods.includes(method))) {
    let bytes: Uint8Array;
    try {
      ({ bytes } = await engine.exportRun({ runId, what: e.what }));
    } catch (error) {
      if (!e.whereModelFits) throw error;
      note(`Not writing ${basename(prefix + e.suffix)}: ${errorMessage(error)}`); // kohya XTI: SD 1.x-shaped models only
      continue;
    }
    await writeAtomically(prefix + e.suffix, bytes);
    written.push(prefix + e.suffix);
  }
  return written;
}

export async function train(a: TrainArgs, out: Output, deps: TrainDeps = { signals: process, engine: createEngine }): Promise<number> {
  const prefix = await outputPrefix(a);
  const runId = basename(prefix);
  const store = new FileCheckpointStore(dirname(prefix));
  const checkpointPath = store.path(runId);
  if (!a.resume) trainerOptions(a, a.resolution ?? 8); // bad values fail here, before the GPU starts
  const stored = await store.get(runId);
  if (a.resume && !stored) throw new StudioError('InvalidRequest', `There is no checkpoint ${shown(checkpointPath)} to resume.`, 'Start the run without --resume (or give the --out PREFIX it was started with).');
  if (!a.resume && stored) {
    const at = `step ${stored.step} of ${stored.config.steps}`;
    throw new StudioError('InvalidRequest', `${shown(checkpointPath)} already holds a run of ${stored.config.token} (${at}).`, `Add --resume to go on with it, or delete ${shown(checkpointPath)} (or choose another --out) to start over.`);
  }
  if (stored) for (const ignored of ignoredOnResume(a, stored)) out.note(`Ignoring ${ignored}: a resumed run keeps its own settings.`);

  const engine = await deps.engine(store);
  const finish = async (step: number, loss: number, method: TrainingMethod) => {
    const files = await exportFiles(engine, runId, prefix, method, (line) => out.note(line));
    out.result({ event: 'done', step, loss, files, checkpoint: checkpointPath }, [`Trained for ${step} step${step === 1 ? '' : 's'} (loss ${loss.toFixed(4)}). Wrote:`, ...files.map((f) => `  ${shown(f)}`), `Checkpoint: ${shown(checkpointPath)}`].join('\n'));
    return EXIT.ok;
  };
  if (stored && stored.step >= stored.config.steps) {
    out.note(`${shown(checkpointPath)} is a finished run: writing its files again.`);
    return finish(stored.step, stored.smoothedLoss ?? NaN, stored.config.method);
  }

  const info = await startWithModel(engine, a.model, a.endpoint, out);
  const recommended = modelTrainingDefaults(info, a.kind);
  const resolution = stored?.config.resolution ?? a.resolution ?? recommended.resolution;
  const options = trainerOptions(a.resume ? { ...a, ...fromCheckpoint(stored!), ...ratesArgs(a) } : a, resolution);
  const rates = stored ? ratesGiven(a) : {};
  for (const [key, rate] of Object.entries(rates) as [keyof LearningRateOptions, number][]) {
    if (rate !== stored!.config[key]) out.note(`Going on at ${FLAGS[key]![0]} ${rate} (the run's: ${stored!.config[key]}).`);
  }
  // What the model recommends (rates, its own caption style, checkpointing) where the command line says nothing.
  const { resolution: _r, steps: _s, ...fromModel } = stored ? ({ resolution }) : recommended;
  const photos = await readPhotoFolder(a.images, resolution);
  if (photos.ignored.length > 0) out.note(`Not PNG or JPEG, left out: ${photos.ignored.join(', ')}`);
  if (photos.leftOut.length > 0) out.note(`${photoRefusal.tooMany(photos.leftOut.length)}: ${photos.leftOut.join(', ')}`);
  out.note(`${photos.files.length} photos at ${resolution} px; ${stored ? `resuming at step ${stored.step}` : 'training'} ${options.token} (${options.method}) on ${info.name} (${info.id}).`);

  let pauses = 0;
  const onInterrupt = () => {
    if (++pauses > 1) process.exit(EXIT.interrupted);
    out.note('Pausing after the current step (Ctrl-C again to stop at once, losing it)…');
    engine.pauseTraining({ runId });
  };
  deps.signals.on('SIGINT', onInterrupt);
  let result;
  try {
    const request = { runId, options: { ...fromModel, ...options }, images: photos.images, resume: Boolean(stored), rates, preview: null };
    result = await engine.train(request, { signal: new AbortController().signal, progress: (p) => p.training && out.training(p.training) });
  } catch (error) {
    if (error instanceof StudioError && error.name === 'TrainingDiverged') throw await divergedWithHint(error, a, prefix, { ...fromModel, ...options, ...rates }, store, runId);
    throw error;
  } finally {
    deps.signals.off('SIGINT', onInterrupt);
    out.stop();
  }
  if (result.outcome === 'paused') {
    const again = `studio train --model ${a.model} --images ${a.images} --out ${shown(prefix)} --resume`;
    out.result({ event: 'paused', step: result.step, steps: options.steps, checkpoint: checkpointPath }, `Paused at step ${result.step} of ${options.steps}; checkpoint ${shown(checkpointPath)}.`);
    out.note(`To go on: ${again}`);
    return EXIT.interrupted;
  }
  return finish(result.step, result.loss, options.method);
}

/** The rate flags given, as arguments (they override a checkpoint's). */
function ratesArgs(a: TrainArgs): Partial<TrainArgs> {
  return Object.fromEntries(RATE_FLAGS.map((k) => FLAGS[k]![1]).filter((arg) => a[arg] !== undefined).map((arg) => [arg, a[arg]]));
}

/** A stored run's settings as arguments (a resumed run's options come from its checkpoint). */
function fromCheckpoint(c: Checkpoint): Partial<TrainArgs> {
  const k = c.config;
  return {
    token: k.token,
    class: k.classWord,
    method: k.method,
    kind: k.kind,
    steps: k.steps,
    lrTi: k.tiLearningRate,
    lrLora: k.loraLearningRate,
    textEncoderLora: k.textEncoderLora,
    lrTextEncoder: k.textEncoderLearningRate,
    rank: k.rank,
    vectors: k.numVectors,
    seed: k.seed,
  };
}

export const addTrainCommand: AddCommand = (program, run) => {
  const command = program.command('train').description('train a concept (textual inversion, LoRA, both, or DreamBooth-LoRA) from a folder of photos');
  modelOptions(command, 'required')
    .requiredOption('--images <dir>', 'folder of PNG/JPEG photos of the concept (3–5 are enough)')
    .option('--token <token>', 'the new word prompts will use, e.g. "<my-dog>"')
    .option('--class <word>', 'what it is, e.g. dog')
    .addOption(new Option('--method <method>', 'what to train').choices(TRAINING_METHODS))
    .addOption(new Option('--kind <kind>', 'an object (or pet) or a style').choices(CONCEPT_KINDS))
    .option('--steps <n>', 'optimizer steps', integer)
    .option('--resolution <px>', "training image size (default: the model's)", integer)
    .option('--lr-ti <rate>', 'learning rate of the token vectors (default 5e-3)', decimal)
    .option('--lr-lora <rate>', 'learning rate of the LoRA (default 1e-4)', decimal)
    .option('--text-encoder-lora', "LoRA on the text encoder's attention too (--method lora or both): follows the prompt's words better, larger files, can overfit them")
    .option('--lr-text-encoder <rate>', "learning rate of the text encoder's LoRA (default: half --lr-lora)", decimal)
    .option('--rank <r>', 'LoRA rank (default 4)', integer)
    .option('--vectors <n>', 'vectors per token (default 1)', integer)
    .option('--seed <n>', 'random seed (default 0)', integer)
    .option('--class-images <n>', 'class images the model draws first (--method dreambooth; default 50)', integer)
    .option('--prior-loss-weight <w>', "weight of the class images' loss (--method dreambooth; default 1)", decimal)
    .addOption(new Option('--identifier <kind>', "the subject's word (--method dreambooth): added = --token, rare = a rare vocabulary word picked for you").choices(IDENTIFIERS))
    .option('--class-image-steps <n>', 'DDIM steps per class image (--method dreambooth; default 25)', integer)
    .option('--out <prefix>', "where the files go: PREFIX.safetensors, … (default: the token's name, here; in a folder given with a trailing /)")
    .option('--resume', 'go on from PREFIX.checkpoint (its settings are kept, but for the --lr-* given: a diverged run goes on lower)')
    .option('--json', 'JSON lines on stdout')
    .action((args: TrainArgs) => run(args.json, (out) => train(args, out)));
};
