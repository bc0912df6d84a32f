/**
 * The evaluation's feature models on onnxruntime (through transformers.js): CLIP's two halves with
 * projection (text and vision: the fixtures and Xenova's exports ship no joint model) with its
 * tokenizer and processor, and DINOv2 (CLS token, `pooler_output`). Each loads at its first use;
 * `release` frees every onnxruntime session, and `openSessions` counts those still open.
 * Embeddings come back as the models give them (not normalised).
 */
import type { FeatureImage, OrtWasmPaths } from './types';
import { route, takeReadError, transformers, unroute, type FeatureFiles } from './transformers-runtime';

type Transformers = Awaited<ReturnType<typeof transformers>>;
type Model = { dispose(): Promise<unknown>; (inputs: Record<string, unknown>): Promise<Record<string, TensorLike>> };
type TensorLike = { dims: number[]; data: ArrayLike<number>; dispose?: () => void };
type Processor = (images: unknown) => Promise<{ pixel_values: TensorLike }>;
type Tokenizer = (texts: string[], options: { padding: boolean; truncation: boolean }) => Record<string, TensorLike>;

let sessions = 0;

/** onnxruntime sessions open now, across every `FeatureModels` (text, vision and DINO count one each). */
export function openSessions(): number {
  return sessions;
}

export interface FeatureModelFiles {
  clip: FeatureFiles;
  dino: FeatureFiles;
}

/** Images per model call: bounds onnxruntime's working memory. */
const BATCH = 8;
const LOAD = { dtype: 'fp32', local_files_only: true } as const;

function rows(t: TensorLike): Float32Array[] {
  const [n, d] = t.dims;
  const data = Float32Array.from(t.data);
  const out = Array.from({ length: n }, (_, i) => data.slice(i * d, (i + 1) * d));
  t.dispose?.();
  return out;
}

export class FeatureModels {
  private readonly ids: { clip: string; dino: string };
  private readonly loaded: Model[] = [];
  private clipText?: Promise<{ tokenizer: Tokenizer; model: Model }>;
  private clipVision?: Promise<{ processor: Processor; model: Model }>;
  private dino?: Promise<{ processor: Processor; model: Model }>;
  private released = false;

  constructor(
    readonly files: FeatureModelFiles,
    private readonly wasmPaths?: OrtWasmPaths,
  ) {
    this.ids = { clip: route('clip', files.clip), dino: route('dino', files.dino) };
  }

  /** CLIP image embeddings (`image_embeds`), one per image. */
  async clipImages(images: readonly FeatureImage[]): Promise<Float32Array[]> {
    this.clipVision ??= this.load(async (t) => ({
      processor: (await t.AutoProcessor.from_pretrained(this.ids.clip, LOAD)) as unknown as Processor,
      model: await this.session(() => t.CLIPVisionModelWithProjection.from_pretrained(this.ids.clip, LOAD)),
    }));
    const { processor, model } = await this.clipVision;
    return this.batched(images, async (batch) => rows((await model({ pixel_values: (await processor(await this.raw(batch))).pixel_values })).image_embeds));
  }

  /** CLIP text embeddings (`text_embeds`), one per text. */
  async clipTexts(texts: readonly string[]): Promise<Float32Array[]> {
    this.clipText ??= this.load(async (t) => ({
      tokenizer: (await t.AutoTokenizer.from_pretrained(this.ids.clip, LOAD)) as unknown as Tokenizer,
      model: await this.session(() => t.CLIPTextModelWithProjection.from_pretrained(this.ids.clip, LOAD)),
    }));
    const { tokenizer, model } = await this.clipText;
    return this.batched(texts, async (batch) => rows((await model(tokenizer([...batch], { padding: true, truncation: true }))).text_embeds));
  }

  /** DINOv2 CLS embeddings (`pooler_output`), one per image. */
  async dinoImages(images: readonly FeatureImage[]): Promise<Float32Array[]> {
    this.dino ??= this.load(async (t) => ({
      processor: (await t.AutoProcessor.from_pretrained(this.ids.dino, LOAD)) as unknown as Processor,
      model: await this.session(() => t.AutoModel.from_pretrained(this.ids.dino, LOAD)),
    }));
    const { processor, model } = await this.dino;
    return this.batched(images, async (batch) => {
      const out = await model({ pixel_values: (await processor(await this.raw(batch))).pixel_values });
      out.last_hidden_state?.dispose?.();
      return rows(out.pooler_output);
    });
  }

  /** Releases every session this opened (waiting for loads under way); the instance is done after. */
  async release(): Promise<void> {
    this.released = true;
    await Promise.allSettled([this.clipText, this.clipVision, this.dino]);
    const models = this.loaded.splice(0);
    await Promise.all(models.map(async (m) => {
      await m.dispose();
      sessions--;
    }));
    unroute(this.ids.clip);
    unroute(this.ids.dino);
  }

  private load<T>(make: (t: Transformers) => Promise<T>): Promise<T> {
    if (this.released) throw new Error('these feature models were released');
    takeReadError();
    return transformers(this.wasmPaths).then(make).catch((error: unknown) => {
      throw takeReadError() ?? error;
    });
  }

  private async session(make: () => Promise<unknown>): Promise<Model> {
    const model = (await make()) as Model;
    sessions++;
    this.loaded.push(model);
    return model;
  }

  private async raw(images: readonly FeatureImage[]): Promise<unknown[]> {
    const { RawImage } = await transformers(this.wasmPaths);
    return images.map((im) => new RawImage(new Uint8ClampedArray(im.data.buffer, im.data.byteOffset, im.data.byteLength), im.width, im.height, 4).rgb());
  }

  private async batched<T>(items: readonly T[], run: (batch: readonly T[]) => Promise<Float32Array[]>): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < items.length; i += BATCH) out.push(...(await run(items.slice(i, i + BATCH))));
    return out;
  }
}
