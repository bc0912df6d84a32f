import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LocalFolderSource, findModelRoot } from './local';
import { loadPipelineFiles, type LoadEvent } from './pipeline-files';
import { ModelSourceError } from './types';

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/tiny-sd/', import.meta.url));

/** The fixture as picked files: `File`s whose webkitRelativePath starts with `prefix`. */
async function pickedFolder(prefix: string, skip: string[] = []): Promise<File[]> {
  const paths = (await readdir(FIXTURE, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => `${d.parentPath ?? d.path}/${d.name}`.slice(FIXTURE.length).replace(/^\/+/, ''));
  const files: File[] = [];
  for (const path of paths.filter((p) => !skip.includes(p))) {
    const file = new File([await readFile(FIXTURE + path)], path.split('/').pop()!);
    Object.defineProperty(file, 'webkitRelativePath', { value: prefix + path });
    files.push(file);
  }
  return files;
}

describe('LocalFolderSource', () => {
  it('loads the pipeline from picked files nested one folder deeper, with the lifecycle events', async () => {
    const source = await LocalFolderSource.fromFiles(await pickedFolder('Downloads/tiny-sd/'));
    expect(source.id).toMatch(/^local:tiny-sd#[0-9a-f]{12}$/);
    expect(source.name).toBe('tiny-sd');
    expect(source.root).toBe('Downloads/tiny-sd/');
    expect(source.list()).toContain('unet/config.json');

    const events: LoadEvent[] = [];
    const { files } = await loadPipelineFiles(source, { onEvent: (e) => events.push(e) });
    const unet = files.get('unet/diffusion_pytorch_model.safetensors')!;
    expect(unet.path).toBe('unet/diffusion_pytorch_model.safetensors');
    expect(Buffer.from(await unet.blob.arrayBuffer()).equals(await readFile(FIXTURE + unet.path))).toBe(true);
    expect(files.has('tokenizer/tokenizer.json')).toBe(false);

    expect(events.some((e) => e.status === 'download')).toBe(false);
    const progress = events.filter((e): e is Extract<LoadEvent, { status: 'progress' }> => e.status === 'progress');
    const total = progress[0].overall.total!;
    for (let i = 1; i < progress.length; i++) expect(progress[i].overall.loaded).toBeGreaterThan(progress[i - 1].overall.loaded);
    expect(progress.at(-1)!.overall).toEqual({ loaded: total, total });
    expect(events.at(-1)).toEqual({ status: 'ready', model: 'tiny-sd', files: files.size, bytes: total });
  });

  it('works from a path → Blob map at the top level', async () => {
    const picked = await pickedFolder('');
    const source = await LocalFolderSource.fromEntries(new Map(picked.map((f) => [f.webkitRelativePath, f as Blob])));
    expect(source.root).toBe('');
    expect(await (await source.file('model_index.json')).text()).toContain('StableDiffusionPipeline');
    expect(await source.stat('nope.json')).toBeNull();
    await expect(source.file('nope.json')).rejects.toThrow("nope.json is missing from the model folder 'folder'.");
  });

  it('a folder without model_index.json is not a model', async () => {
    const files = await pickedFolder('tiny-sd/', ['model_index.json']);
    await expect(LocalFolderSource.fromFiles(files)).rejects.toThrow(/holds no model_index.json/);
  });

  it('a missing required file is named', async () => {
    const source = await LocalFolderSource.fromFiles(await pickedFolder('tiny-sd/', ['vae/diffusion_pytorch_model.safetensors']));
    const error = await loadPipelineFiles(source).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelSourceError);
    expect(error).toMatchObject({ reason: 'not-found', file: 'vae/diffusion_pytorch_model.safetensors' });
    expect((error as Error).message).toMatch(/tiny-sd is missing vae\/diffusion_pytorch_model.safetensors/);
  });

  it('PyTorch-only weights get a hint', async () => {
    const files = await pickedFolder('m/', ['unet/diffusion_pytorch_model.safetensors']);
    const bin = new File([new Uint8Array(4)], 'diffusion_pytorch_model.bin');
    Object.defineProperty(bin, 'webkitRelativePath', { value: 'm/unet/diffusion_pytorch_model.bin' });
    await expect(loadPipelineFiles(await LocalFolderSource.fromFiles([...files, bin]))).rejects.toThrow(/only has unet\/diffusion_pytorch_model.bin: PyTorch pickles/);
  });

  it('refuses an SDXL-style model before reading weights', async () => {
    const files = await pickedFolder('x/', ['model_index.json']);
    const index = { _class_name: 'StableDiffusionXLPipeline', unet: ['diffusers', 'UNet2DConditionModel'], vae: ['diffusers', 'AutoencoderKL'],
      text_encoder: ['transformers', 'CLIPTextModel'], text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
      tokenizer: ['transformers', 'CLIPTokenizer'], scheduler: ['diffusers', 'EulerDiscreteScheduler'] };
    const indexFile = new File([JSON.stringify(index)], 'model_index.json');
    Object.defineProperty(indexFile, 'webkitRelativePath', { value: 'x/model_index.json' });
    const events: LoadEvent[] = [];
    const error = await loadPipelineFiles(await LocalFolderSource.fromFiles([...files, indexFile]), { onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'not-a-model' });
    expect((error as Error).message).toMatch(/is a StableDiffusionXLPipeline, not a Stable Diffusion 1.x-style model: it has a second text encoder/);
    expect(events.filter((e) => e.status === 'done').map((e) => e.status === 'done' && e.file)).toEqual(['model_index.json']);
  });

  it('finds the shallowest model root, and refuses ambiguous folders', async () => {
    expect(findModelRoot(['a/b/model_index.json', 'a/b/c/model_index.json'])).toBe('a/b/');
    expect(() => findModelRoot(['x/model_index.json', 'y/model_index.json'])).toThrow(/several models \(x\/model_index.json, y\/model_index.json\)/);
    expect((await LocalFolderSource.fromEntries({ 'win\\model_index.json': new Blob(['{}']) })).root).toBe('win/');
  });
});
