import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import type { Engine } from './engine';
import { engineWithTinyModel, jobContext } from '../test/engine';
import type { ConceptWeights, Progress, RgbaImage } from './protocol';
import type { ConceptLoraLayer } from '../library/concept';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { textToImage } from '../model/pipeline';
import { randomNormal } from '../common/random';
import { ClipTokenizer } from '../model/tokenizer';
import { writeSafetensors } from '../model/safetensors-writer';
import { nodeFolderSource } from '../model/sources/node-folder';
import { MemoryCheckpointStore } from '../train/checkpoint-store';
import { crossAttentionLayers, Lora, loraKey, type LoraValue } from '../train/lora';
import { textEncoderModules } from '../train/formats/lora-modules';
import { loraDeltas, mergedWeights, seededLayer } from '../test/merged-weights';

const FIXTURE = resolve(__dirname, '../test/fixtures/tiny-sd');
const GEN = { steps: 2, width: 64, height: 64, seed: 3, guidanceScale: 5 };


function maxDiff(a: RgbaImage, b: RgbaImage): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

function meanDiff(a: RgbaImage, b: RgbaImage): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i] - b.data[i]);
  return s / a.data.length;
}

/** LoRA layers on to_k and to_v of every attn2, seeded values large enough to change images. */
function loraLayers(sd: StableDiffusionModel, seed: number, rank = 2, alpha = 4): ConceptLoraLayer[] {
  const c = sd.unet.config;
  return crossAttentionLayers(c).flatMap(({ prefix, channels }, i) =>
    (['to_k', 'to_v'] as const).map((t, j) => ({
      prefix: `${prefix}.${t}`,
      down: randomNormal(rank * c.crossAttentionDim, seed + 10 * i + j, 0.3),
      downShape: [rank, c.crossAttentionDim] as [number, number],
      up: randomNormal(channels * rank, seed + 1000 + 10 * i + j, 0.3),
      upShape: [channels, rank] as [number, number],
      alpha,
    })),
  );
}

describe('Engine: library concepts at generation time', () => {
  let engine: Engine;
  let sd: StableDiffusionModel;
  let tokenizer: ClipTokenizer;
  const store = new MemoryCheckpointStore();

  beforeAll(async () => {
    engine = await engineWithTinyModel(store);
    sd = await loadStableDiffusion(nodeFolderSource(FIXTURE)); // the reference path's own copy
    tokenizer = ClipTokenizer.fromFiles(sd.tokenizerFiles);
  });

  it("a token whose vector is the class word's row draws exactly what the class word draws", async () => {
    const [catId] = tokenizer.tokenize('cat');
    const row = tf.tidy(() => sd.text.weights.rowTable('embeddings.token_embedding.weight', sd.text.weights.shape('embeddings.token_embedding.weight') as [number, number]).gather(tf.tensor1d([catId], 'int32')));
    const vectors = Float32Array.from(await row.data());
    row.dispose();
    const concept: ConceptWeights = { token: '<my-cat>', classWord: 'cat', embedding: { nVectors: 1, dim: vectors.length, vectors }, lora: null, loraStrength: 1 };
    const before = tf.memory().numTensors;
    const withConcept = await engine.generate({ ...GEN, prompt: 'a photo of <my-cat> on a sofa', concepts: [concept] }, jobContext());
    const plain = await engine.generate({ ...GEN, prompt: 'a photo of cat on a sofa' }, jobContext());
    expect(maxDiff(withConcept.images[0], plain.images[0])).toBe(0);
    expect(tf.memory().numTensors).toBe(before);

    const other = { ...concept, embedding: { ...concept.embedding!, vectors: randomNormal(vectors.length, 9, 1) } };
    const changed = await engine.generate({ ...GEN, prompt: 'a photo of <my-cat> on a sofa', concepts: [other] }, jobContext());
    expect(meanDiff(changed.images[0], plain.images[0])).toBeGreaterThan(1);
  });

  it('a concept of several vectors expands its token to all of them', async () => {
    const ids = tokenizer.tokenize('cat on');
    const rows = tf.tidy(() => sd.text.weights.rowTable('embeddings.token_embedding.weight', sd.text.weights.shape('embeddings.token_embedding.weight') as [number, number]).gather(tf.tensor1d(ids, 'int32')));
    const vectors = Float32Array.from(await rows.data());
    rows.dispose();
    const concept: ConceptWeights = { token: '<two>', classWord: '', embedding: { nVectors: 2, dim: vectors.length / 2, vectors }, lora: null, loraStrength: 1 };
    const withConcept = await engine.generate({ ...GEN, prompt: 'a photo of <two> a sofa', concepts: [concept] }, jobContext());
    const plain = await engine.generate({ ...GEN, prompt: 'a photo of cat on a sofa' }, jobContext());
    expect(maxDiff(withConcept.images[0], plain.images[0])).toBe(0);
  });

  it("a LoRA concept draws what training's LoRA attached to the UNet draws, at its strength", async () => {
    const layers = loraLayers(sd, 1);
    const strength = 0.7;
    const concept: ConceptWeights = { token: '<style>', classWord: 'painting', embedding: null, lora: { layers }, loraStrength: strength };
    const before = tf.memory().numTensors;
    const got = await engine.generate({ ...GEN, prompt: 'a <style> of a house', concepts: [concept] }, jobContext());
    expect(tf.memory().numTensors).toBe(before);

    const values = new Map<string, LoraValue>();
    for (const l of layers) {
      values.set(loraKey(l.prefix, 'down'), { shape: l.downShape, data: l.down });
      values.set(loraKey(l.prefix, 'up'), { shape: l.upShape, data: l.up });
    }
    const lora = Lora.fromValues(sd.unet.weights, values, (4 / 2) * strength);
    // LoRA-only concepts keep the class word after the token, as the training prompts had it.
    const reference = await textToImage(sd, tokenizer, { ...GEN, prompt: 'a <style> painting of a house' });
    lora.dispose();
    const base = await textToImage(sd, tokenizer, { ...GEN, prompt: 'a <style> painting of a house' });
    expect(meanDiff(reference.images[0], base.images[0])).toBeGreaterThan(1); // the LoRA matters
    expect(maxDiff(got.images[0], reference.images[0])).toBeLessThanOrEqual(1);

    // Two concepts on the same layers add up: A twice equals A with its up weights doubled.
    const twice = await engine.generate({ ...GEN, prompt: 'a <style> painting of <style2> a house', concepts: [concept, { ...concept, token: '<style2>', classWord: '' }] }, jobContext());
    const doubled = Lora.fromValues(sd.unet.weights, values, 2 * (4 / 2) * strength);
    const reference2 = await textToImage(sd, tokenizer, { ...GEN, prompt: 'a <style> painting of a house' });
    doubled.dispose();
    expect(maxDiff(twice.images[0], reference2.images[0])).toBeLessThanOrEqual(1);
  });

  it('applies LoRA layers on self-attention and feed-forward (imported community LoRAs) as training would', async () => {
    const block = 'up_blocks.1.attentions.0.transformer_blocks.0';
    const C = sd.unet.weights.shape(`${block}.attn1.to_q.weight`)[0];
    const shapes: [string, number, number][] = [[`${block}.attn1.to_q`, C, C], [`${block}.ff.net.0.proj`, 8 * C, C], [`${block}.ff.net.2`, C, 4 * C]];
    const layers: ConceptLoraLayer[] = shapes.map(([prefix, outF, inF], i) => ({
      prefix,
      down: randomNormal(2 * inF, 40 + i, 0.5),
      downShape: [2, inF],
      up: randomNormal(outF * 2, 50 + i, 0.5),
      upShape: [outF, 2],
      alpha: 2,
    }));
    const concept: ConceptWeights = { token: '<community>', classWord: '', embedding: null, lora: { layers }, loraStrength: 1 };
    const got = await engine.generate({ ...GEN, prompt: 'a house <community>', concepts: [concept] }, jobContext());
    const values = new Map<string, LoraValue>(layers.flatMap((l) => [[loraKey(l.prefix, 'down'), { shape: l.downShape, data: l.down }], [loraKey(l.prefix, 'up'), { shape: l.upShape, data: l.up }]] as [string, LoraValue][]));
    const lora = Lora.fromValues(sd.unet.weights, values, 1);
    const reference = await textToImage(sd, tokenizer, { ...GEN, prompt: 'a house' });
    lora.dispose();
    const base = await textToImage(sd, tokenizer, { ...GEN, prompt: 'a house' });
    expect(meanDiff(reference.images[0], base.images[0])).toBeGreaterThan(1);
    expect(maxDiff(got.images[0], reference.images[0])).toBeLessThanOrEqual(1);
  });

  it('text-encoder layers and UNet conv layers (1×1 proj, 3×3 LoCon, a stride-2 downsampler) draw what the merged weights draw', async () => {
    const text = [...textEncoderModules(sd.text.config)].map(([prefix, shape], i) => seededLayer(prefix, shape, 300 + 10 * i, 'text_encoder'));
    const convs = ['down_blocks.0.attentions.0.proj_in', 'up_blocks.1.attentions.2.proj_out', 'down_blocks.0.resnets.0.conv1', 'up_blocks.2.resnets.1.conv1', 'down_blocks.1.downsamplers.0.conv'];
    const unet = convs.map((prefix, i) => seededLayer(prefix, sd.unet.weights.shape(`${prefix}.weight`), 500 + 10 * i));
    // A linear-style [r, in] down on a 1×1 conv: the same values as [r, in, 1, 1].
    const proj = seededLayer('mid_block.attentions.0.proj_out', sd.unet.weights.shape('mid_block.attentions.0.proj_out.weight').slice(0, 2), 600);
    const concept: ConceptWeights = { token: '<locon>', classWord: '', embedding: null, lora: { layers: [...text, ...unet, proj] }, loraStrength: 0.5, textEncoderStrength: 0.8 };
    const base = await engine.generate({ ...GEN, prompt: 'a house' }, jobContext());
    const before = tf.memory().numTensors;
    const got = await engine.generate({ ...GEN, prompt: 'a house <locon>', concepts: [concept] }, jobContext());
    expect(tf.memory().numTensors).toBe(before);
    const after = await engine.generate({ ...GEN, prompt: 'a house' }, jobContext());
    expect(maxDiff(after.images[0], base.images[0])).toBe(0);

    // alpha / rank = 2, times each component's strength
    const mergedText = await mergedWeights('text_encoder', loraDeltas(text.map((layer) => ({ layer, scale: 2 * 0.8 }))));
    const mergedUnet = await mergedWeights('unet', loraDeltas([...unet, proj].map((layer) => ({ layer, scale: 2 * 0.5 }))));
    const merged: StableDiffusionModel = { ...sd, text: { ...sd.text, weights: mergedText }, unet: { ...sd.unet, weights: mergedUnet } };
    const reference = await textToImage(merged, tokenizer, { ...GEN, prompt: 'a house' });
    mergedText.dispose();
    mergedUnet.dispose();
    console.log(`text-encoder + conv LoRA: max |Δ| vs merged ${maxDiff(got.images[0], reference.images[0])}, mean |Δ| vs base ${meanDiff(reference.images[0], base.images[0]).toFixed(1)}`);
    expect(meanDiff(reference.images[0], base.images[0])).toBeGreaterThan(1); // the LoRA matters
    expect(maxDiff(got.images[0], reference.images[0])).toBeLessThanOrEqual(1);
  });

  it('a PEFT file with text-encoder and conv layers (alpha_pattern, rsLoRA) imports and draws what the merged weights draw by PEFT\'s rule', async () => {
    // the file as diffusers' save_lora_weights writes it: lora_A/lora_B, conv ups [out, r, 1, 1], the LoraConfig per component
    const modules: [component: 'unet' | 'text_encoder', path: string][] = [
      ['unet', 'down_blocks.0.attentions.0.proj_in'],
      ['unet', 'down_blocks.0.resnets.1.conv1'],
      ['text_encoder', 'encoder.layers.0.self_attn.k_proj'],
      ['text_encoder', 'encoder.layers.1.mlp.fc2'],
    ];
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    const layers = modules.map(([component, path], i) => {
      const weights = component === 'unet' ? sd.unet.weights : sd.text.weights;
      const layer = seededLayer(path, weights.shape(`${path}.weight`), 700 + 10 * i, component === 'text_encoder' ? component : undefined);
      const name = component === 'unet' ? `unet.${path}` : `text_encoder.text_model.${path}`;
      tensors[`${name}.lora_A.weight`] = { dtype: 'F32', shape: layer.downShape, data: layer.down };
      tensors[`${name}.lora_B.weight`] = { dtype: 'F32', shape: layer.downShape.length === 4 ? [...layer.upShape, 1, 1] : layer.upShape, data: layer.up };
      return layer;
    });
    const config = { 'unet.r': 2, 'unet.lora_alpha': 2, 'unet.alpha_pattern': { conv1: 6 }, 'text_encoder.r': 2, 'text_encoder.lora_alpha': 3, 'text_encoder.use_rslora': true };
    const bytes = writeSafetensors(tensors, { lora_adapter_metadata: JSON.stringify(config) });
    const imported = await engine.importConcept({ file: new Blob([bytes as BlobPart]), fileName: 'peft-te-conv.safetensors' });
    const concept: ConceptWeights = { token: imported.token, classWord: '', embedding: null, lora: imported.lora, loraStrength: 1 };
    const base = await engine.generate({ ...GEN, prompt: 'a house' }, jobContext());
    const got = await engine.generate({ ...GEN, prompt: `a house ${imported.token}`, concepts: [concept] }, jobContext());

    // PEFT: scale = alpha / r, alpha from alpha_pattern where a key matches (`(.*\.)?conv1$`), alpha / √r with use_rslora
    const scale = (path: string, component: string) => (component === 'text_encoder' ? 3 / Math.sqrt(2) : path.endsWith('conv1') ? 6 / 2 : 2 / 2);
    const deltas = (component: string) => loraDeltas(layers.filter((l) => (l.component ?? 'unet') === component).map((layer) => ({ layer, scale: scale(layer.prefix, component) })));
    const mergedText = await mergedWeights('text_encoder', deltas('text_encoder'));
    const mergedUnet = await mergedWeights('unet', deltas('unet'));
    const merged: StableDiffusionModel = { ...sd, text: { ...sd.text, weights: mergedText }, unet: { ...sd.unet, weights: mergedUnet } };
    const reference = await textToImage(merged, tokenizer, { ...GEN, prompt: 'a house' });
    mergedText.dispose();
    mergedUnet.dispose();
    console.log(`imported PEFT text-encoder + conv LoRA: max |Δ| vs merged ${maxDiff(got.images[0], reference.images[0])}, mean |Δ| vs base ${meanDiff(got.images[0], base.images[0]).toFixed(1)}`);
    expect(meanDiff(got.images[0], base.images[0])).toBeGreaterThan(1);
    expect(maxDiff(got.images[0], reference.images[0])).toBeLessThanOrEqual(1);
  });

  it('refuses concepts made for another model and leaves nothing attached', async () => {
    const wide: ConceptWeights = { token: '<wide>', classWord: 'cat', embedding: { nVectors: 1, dim: 768, vectors: new Float32Array(768) }, lora: null, loraStrength: 1 };
    await expect(engine.generate({ ...GEN, prompt: 'a <wide>', concepts: [wide] }, jobContext())).rejects.toMatchObject({ name: 'InvalidRequest', message: /768 wide/ });
    const [layer] = loraLayers(sd, 2);
    const alien: ConceptWeights = { token: '<alien>', classWord: '', embedding: null, lora: { layers: [{ ...layer, prefix: 'down_blocks.9.attentions.0.transformer_blocks.0.attn2.to_k' }] }, loraStrength: 1 };
    await expect(engine.generate({ ...GEN, prompt: 'a <alien>', concepts: [alien] }, jobContext())).rejects.toMatchObject({ name: 'InvalidRequest', message: /no layer/ });
    const ok = await engine.generate({ ...GEN, prompt: 'a cat' }, jobContext());
    const base = await textToImage(sd, tokenizer, { ...GEN, prompt: 'a cat' });
    expect(maxDiff(ok.images[0], base.images[0])).toBe(0);
  });

  it('imports its own exports back unchanged, and refuses a file without changing anything', async () => {
    const layers = loraLayers(sd, 4, 4, 4);
    const concept = {
      token: '<teddy>',
      classWord: 'teddy bear',
      kind: 'object' as const,
      origin: 'trained' as const,
      baseModel: 'local:tiny-sd',
      created: Date.parse('2026-11-24T10:00:00Z'),
      steps: 300,
      embedding: { nVectors: 2, dim: 32, vectors: randomNormal(64, 5, 0.1) },
      lora: { layers },
    };
    const emb = engine.exportConcept({ concept, what: { kind: 'embedding', layout: 'single-key' } });
    const back = await engine.importConcept({ file: new Blob([emb.bytes as BlobPart]), fileName: emb.fileName });
    expect(back).toMatchObject({ token: '<teddy>', classWord: 'teddy bear', origin: 'imported', baseModel: 'local:tiny-sd', steps: 300, lora: null });
    expect(back.embedding!.vectors).toEqual(concept.embedding.vectors);
    const file = engine.exportConcept({ concept, what: { kind: 'lora', layout: 'kohya', dtype: 'F32' } });
    const lora = await engine.importConcept({ file: new Blob([file.bytes as BlobPart]), fileName: file.fileName });
    expect(lora).toMatchObject({ token: '<teddy>', classWord: 'teddy bear', embedding: null });
    expect(lora.lora!.layers.map((l) => l.prefix).sort()).toEqual(layers.map((l) => l.prefix).sort());
    const byPrefix = new Map(lora.lora!.layers.map((l) => [l.prefix, l]));
    for (const l of layers) expect(byPrefix.get(l.prefix)!.up).toEqual(l.up);
    await expect(engine.importConcept({ file: new Blob([new Uint8Array([0x80, 4, 0, 0])]), fileName: 'x.safetensors' })).rejects.toMatchObject({ name: 'ImportRefused', message: /pickle/ });
  });

  it("an embedding whose key is not a valid token gets one from its file name, and says why", async () => {
    const file = (key: string) => new Blob([writeSafetensors({ [key]: { dtype: 'F32', shape: [1, 32], data: randomNormal(32, 8, 0.1) } }) as BlobPart]);
    const known = await engine.importConcept({ file: file('Cat'), fileName: 'My Cat.safetensors' });
    expect(known).toMatchObject({ token: '<my-cat>', tokenNote: 'The file\'s token "Cat" is a word the model already knows: its own meaning would be lost; it is <my-cat> here instead (rename it to choose another).' });
    const spaced = await engine.inspectConcept({ file: file('my cat'), fileName: 'cat_v2.safetensors' });
    expect(spaced).toMatchObject({ kind: 'embedding', token: '<cat_v2>', tokenNote: expect.stringMatching(/^The file's token "my cat" has a space in it/) });
    const fine = await engine.importConcept({ file: file('<kitty>'), fileName: 'kitty.safetensors' });
    expect(fine.token).toBe('<kitty>');
    expect('tokenNote' in fine).toBe(false);
  });

  it('trains with preview images from a fixed prompt and seed, and gives the run as a concept', async () => {
    const RES = 64;
    const images = randomNormal(2 * 3 * RES * RES, 5, 0.5).map((v) => Math.max(-1, Math.min(1, v)));
    const samples: { step: number; prompt: string; image: RgbaImage }[] = [];
    const progress: Progress[] = [];
    const previewReports: Progress[] = [];
    await engine.train(
      { runId: 'run-p', options: { method: 'both', token: '<pup>', classWord: 'dog', steps: 4, resolution: RES }, images, preview: { every: 2, steps: 2 } },
      jobContext((p) => (p.sample ? (samples.push(p.sample), previewReports.push(p)) : progress.push(p))),
    );
    expect(samples.map((s) => s.step)).toEqual([2, 4]);
    expect(samples[0]).toMatchObject({ prompt: 'a photo of a <pup>', image: { width: RES, height: RES } });
    expect(meanDiff(samples[0].image, samples[1].image)).toBeGreaterThan(0);
    expect(progress.at(-1)!.training!.etaSeconds).toBeGreaterThan(0); // after step 4, its preview is still to come
    expect(previewReports.at(-1)!.training).toMatchObject({ step: 4, etaSeconds: 0 });
    expect(progress[0].training!.gpuBytes).toBeGreaterThan(0);

    const concept = await engine.runConcept({ runId: 'run-p' });
    expect(concept).toMatchObject({ token: '<pup>', classWord: 'dog', origin: 'trained', steps: 4, runId: 'run-p' });
    expect(concept.embedding).toMatchObject({ nVectors: 1, dim: 32 });
    expect(concept.lora!.layers).toHaveLength(32);
    await engine.deleteRun({ runId: 'run-p' });
    await expect(engine.runConcept({ runId: 'run-p' })).rejects.toMatchObject({ name: 'InvalidRequest' });
  });
});
