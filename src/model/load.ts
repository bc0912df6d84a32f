/**
 * Loads a Stable Diffusion 1.x-family pipeline from any `ModelSource` in the diffusers layout:
 *   1. the component configs, parsed and validated (a config we cannot run fails before any
 *      weight is downloaded, naming the field);
 *   2. every pipeline file, with progress (`loadPipelineFiles`: fp16 variants preferred);
 *   3. each component's weights uploaded to the GPU. On failure nothing stays loaded.
 */
import { renameClipKey } from './clip';
import { parseClipTextConfig, parseUNetConfig, parseVaeConfig, type ClipTextConfig, type UNetConfig, type VaeConfig } from './config';
import { SafetensorsFile } from './safetensors-reader';
import { loadedJson, loadPipelineFiles, type LoadEvent, type PipelineFiles } from './sources/pipeline-files';
import { readJson, type ModelSource } from './sources/types';
import type { TokenizerFiles } from './tokenizer-json';
import { renameLegacyVaeKey } from './vae';
import { Weights } from './weights';

export interface StableDiffusionModel {
  /** The source's id (what the weights are), read once every file is in hand. */
  source: string;
  /** The source's name, for sentences. */
  name: string;
  text: { config: ClipTextConfig; weights: Weights };
  unet: { config: UNetConfig; weights: Weights };
  vae: { config: VaeConfig; weights: Weights };
  schedulerConfig: Record<string, unknown>;
  tokenizerFiles: TokenizerFiles;
  /** GPU bytes held by the weights. */
  bytes: number;
  dispose(): void;
}

export interface LoadModelOptions {
  onEvent?: (event: LoadEvent) => void;
  signal?: AbortSignal;
  /** Called once every file is in hand, just before weights go to the GPU (free the old model here). */
  beforeUpload?: () => void;
}

type Json = Record<string, unknown>;

export async function loadStableDiffusion(source: ModelSource, options: LoadModelOptions = {}): Promise<StableDiffusionModel> {
  // 1. configs first
  const request = { signal: options.signal };
  const textConfig = parseClipTextConfig(await readJson<Json>(source, 'text_encoder/config.json', request));
  const unetConfig = parseUNetConfig(await readJson<Json>(source, 'unet/config.json', request));
  const vaeConfig = parseVaeConfig(await readJson<Json>(source, 'vae/config.json', request));

  // 2. every file
  const files = await loadPipelineFiles(source, options);
  const json = async <T = Json>(key: string, optional = false): Promise<T> => {
    const file = files.files.get(key);
    if (!file) {
      if (optional) return {} as T;
      throw new Error(`${source.name} has no ${key}.`);
    }
    return loadedJson<T>(file);
  };
  const tokenizerFiles: TokenizerFiles = {
    vocab: await json<Record<string, number>>('tokenizer/vocab.json'),
    merges: await files.files.get('tokenizer/merges.txt')!.blob.text(),
    config: await json('tokenizer/tokenizer_config.json', true),
    specialTokensMap: await json('tokenizer/special_tokens_map.json', true),
  };
  const schedulerConfig = await json('scheduler/scheduler_config.json');

  // 3. weights
  options.signal?.throwIfAborted();
  options.beforeUpload?.();
  const loaded: Weights[] = [];
  const weights = async (model: string, key: string, rename?: (key: string) => string) => {
    options.signal?.throwIfAborted();
    const file = weightFile(files, key);
    const w = await Weights.load(model, await SafetensorsFile.open(file.blob, file.path), { rename });
    loaded.push(w);
    return w;
  };
  try {
    const text = await weights('text_encoder', 'text_encoder/model.safetensors', renameClipKey);
    const unet = await weights('unet', 'unet/diffusion_pytorch_model.safetensors');
    const vae = await weights('vae', 'vae/diffusion_pytorch_model.safetensors', renameLegacyVaeKey);
    return {
      source: source.id,
      name: source.name,
      text: { config: textConfig, weights: text },
      unet: { config: unetConfig, weights: unet },
      vae: { config: vaeConfig, weights: vae },
      schedulerConfig,
      tokenizerFiles,
      bytes: text.bytes + unet.bytes + vae.bytes,
      dispose: () => [text, unet, vae].forEach((w) => w.dispose()),
    };
  } catch (error) {
    loaded.forEach((w) => w.dispose());
    throw error;
  }
}

function weightFile(files: PipelineFiles, key: string) {
  const file = files.files.get(key);
  if (!file) throw new Error(`${files.model} has no ${key}.`);
  return file;
}
