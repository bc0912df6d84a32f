import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { randomNormal } from '../common/random';
import type { ConceptLoraLayer, ConceptWeights } from '../library/concept';
import { clipTextEncoder } from '../model/clip';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { nodeFolderSource } from '../model/sources/node-folder';
import { ClipTokenizer } from '../model/tokenizer';
import type { Weights } from '../model/weights';
import { loraDeltas, mergedWeights, seededLayer } from '../test/merged-weights';
import { TINY_SD } from '../test/model-fixtures';
import { textEncoderModules } from '../train/formats/lora-modules';
import { activateConcepts, ConceptTokenizers } from './active-concepts';

const [RANK, ALPHA] = [2, 4]; // seededLayer's

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

function concept(layers: ConceptLoraLayer[], strengths: Pick<ConceptWeights, 'loraStrength' | 'textEncoderStrength'> = { loraStrength: 1 }): ConceptWeights {
  return { token: '<te>', classWord: '', embedding: null, lora: { layers }, ...strengths };
}

describe('concept LoRAs on the text encoder and convolutions', () => {
  let sd: StableDiffusionModel;
  let tokenizers: ConceptTokenizers;
  let ids: tf.Tensor2D;
  let teLayers: ConceptLoraLayer[];

  beforeAll(async () => {
    sd = await loadStableDiffusion(nodeFolderSource(TINY_SD));
    tokenizers = new ConceptTokenizers(sd);
    ids = tf.tensor2d([ClipTokenizer.fromFiles(sd.tokenizerFiles).encode('a photo of a cat on a sofa').ids], undefined, 'int32');
    // q/k/v/out_proj and fc1/fc2 of every layer
    teLayers = [...textEncoderModules(sd.text.config)].map(([prefix, shape], i) => seededLayer(prefix, shape, 100 + 10 * i, 'text_encoder'));
  });
  afterAll(() => {
    ids.dispose();
    sd.dispose();
  });

  const encode = (w: Weights) => tf.tidy(() => {
    const out = clipTextEncoder(w, sd.text.config, ids);
    out.pooled.dispose();
    return out.lastHiddenState;
  });

  it("text-encoder layers act as the merged weights W + s·ΔW, at textEncoderStrength (not loraStrength)", async () => {
    const base = encode(sd.text.weights);
    const before = tf.memory().numTensors;
    for (const s of [1, 0.5]) {
      const active = activateConcepts(sd, tokenizers, [concept(teLayers, { loraStrength: 0.2, textEncoderStrength: s })]);
      expect(sd.text.weights.adapterPrefixes()).toHaveLength(teLayers.length);
      expect(sd.unet.weights.adapterPrefixes()).toEqual([]);
      const got = encode(sd.text.weights);
      active.dispose();
      const merged = await mergedWeights('text_encoder', loraDeltas(teLayers.map((layer) => ({ layer, scale: (ALPHA / RANK) * s }))));
      const want = encode(merged);
      const diff = await maxAbsDiff(got, want);
      console.log(`text encoder at strength ${s}: max |Δ| vs merged ${diff.toExponential(2)}, vs base ${(await maxAbsDiff(got, base)).toFixed(3)}`);
      expect(await maxAbsDiff(got, base)).toBeGreaterThan(0.05); // the LoRA matters
      expect(diff).toBeLessThanOrEqual(1e-5);
      tf.dispose([got, want]);
      merged.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(sd.text.weights.adapterPrefixes()).toEqual([]);
    tf.dispose(base);
  });

  it('without textEncoderStrength the text encoder follows loraStrength; a strength of 0 skips its layers', async () => {
    const base = encode(sd.text.weights);
    const at = async (strengths: Pick<ConceptWeights, 'loraStrength' | 'textEncoderStrength'>) => {
      const active = activateConcepts(sd, tokenizers, [concept(teLayers, strengths)]);
      const out = encode(sd.text.weights);
      active.dispose();
      return out;
    };
    const half = await at({ loraStrength: 0.5 });
    const halfTe = await at({ loraStrength: 1, textEncoderStrength: 0.5 });
    expect(await maxAbsDiff(half, base)).toBeGreaterThan(0.05);
    expect(await half.data()).toEqual(await halfTe.data());
    const off = await at({ loraStrength: 1, textEncoderStrength: 0 });
    expect(await off.data()).toEqual(await base.data());
    tf.dispose([base, half, halfTe, off]);
  });

  it('refuses a layer that does not fit, naming the module, and attaches nothing', async () => {
    const unetShape = (p: string) => sd.unet.weights.shape(`${p}.weight`);
    const conv1 = 'down_blocks.0.resnets.0.conv1';
    const projIn = 'down_blocks.0.attentions.0.proj_in';
    const fc1 = 'encoder.layers.0.mlp.fc1';
    const cases: [ConceptLoraLayer, RegExp][] = [
      [seededLayer('encoder.layers.7.mlp.fc1', [37, 32], 1, 'text_encoder'), /text encoder has no layer 'encoder\.layers\.7\.mlp\.fc1'/],
      [seededLayer('final_layer_norm', [32, 32], 1, 'text_encoder'), /no layer 'final_layer_norm'/], // a weight, but not an adaptable module
      [seededLayer(fc1, [37, 32], 1), /this model has no layer 'encoder\.layers\.0\.mlp\.fc1'/], // a text-encoder module named as the UNet's
      [seededLayer(fc1, [32, 37], 1, 'text_encoder'), /LoRA 'encoder\.layers\.0\.mlp\.fc1' is \[32, 2\]·\[2, 37\], the layer is \[37, 32\]/],
      [seededLayer(conv1, [...unetShape(conv1).slice(0, 2), 1, 1], 1), /LoRA 'down_blocks\.0\.resnets\.0\.conv1' has a 1×1 down, the layer's kernel is 3×3/],
      [seededLayer(projIn, [...unetShape(projIn).slice(0, 2), 3, 3], 1), /LoRA 'down_blocks\.0\.attentions\.0\.proj_in' has a 3×3 down, the layer's kernel is 1×1/],
      [{ ...seededLayer(conv1, unetShape(conv1), 1), down: new Float32Array(5) }, /'down_blocks\.0\.resnets\.0\.conv1' holds 5 \+ 64 values/],
    ];
    const fits = [seededLayer(conv1, unetShape(conv1), 2), ...teLayers.slice(0, 2)];
    const before = tf.memory().numTensors;
    for (const [bad, message] of cases) {
      // Good layers first: a refusal half-way must leave nothing attached.
      expect(() => activateConcepts(sd, tokenizers, [concept([...fits, bad])])).toThrow(expect.objectContaining({ name: 'InvalidRequest', message: expect.stringMatching(message) }));
      expect(sd.unet.weights.adapterPrefixes()).toEqual([]);
      expect(sd.text.weights.adapterPrefixes()).toEqual([]);
      expect(tf.memory().numTensors).toBe(before);
    }
    // A layer at a skipped component's strength 0 is not looked at.
    const skipped = activateConcepts(sd, tokenizers, [concept([cases[0][0], fits[0]], { loraStrength: 1, textEncoderStrength: 0 })]);
    expect(sd.unet.weights.adapterPrefixes()).toEqual([conv1]);
    expect(sd.text.weights.adapterPrefixes()).toEqual([]);
    skipped.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stacks several concepts on one conv and one text-encoder linear along the rank', async () => {
    const conv = 'down_blocks.0.downsamplers.0.conv';
    const a = [seededLayer(conv, sd.unet.weights.shape(`${conv}.weight`), 7), teLayers[0]];
    const b = [seededLayer(conv, sd.unet.weights.shape(`${conv}.weight`), 8), { ...teLayers[0], down: randomNormal(teLayers[0].down.length, 9, 0.3) }];
    const active = activateConcepts(sd, tokenizers, [concept(a), { ...concept(b, { loraStrength: 0.5 }), token: '<b>' }]);
    const x = tf.tensor4d(randomNormal(8 * 8 * 32, 3), [1, 8, 8, 32]);
    const downsample = (w: Weights) => w.conv2d(conv, x, 32, 3, { stride: 2, pad: 1 }); // downsample_padding 1
    const [got, gotConv] = [encode(sd.text.weights), downsample(sd.unet.weights)];
    active.dispose();
    const scales = (l: [ConceptLoraLayer, ConceptLoraLayer]) => [{ layer: l[0], scale: ALPHA / RANK }, { layer: l[1], scale: (0.5 * ALPHA) / RANK }];
    const mergedText = await mergedWeights('text_encoder', loraDeltas(scales([a[1], b[1]])));
    const mergedUnet = await mergedWeights('unet', loraDeltas(scales([a[0], b[0]])));
    const [want, wantConv] = [encode(mergedText), downsample(mergedUnet)];
    const [textDiff, convDiff] = [await maxAbsDiff(got, want), await maxAbsDiff(gotConv, wantConv)];
    console.log(`two concepts stacked: max |Δ| vs merged, text encoder ${textDiff.toExponential(2)}, downsampler conv ${convDiff.toExponential(2)}`);
    expect(textDiff).toBeLessThanOrEqual(1e-5);
    expect(convDiff).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, got, gotConv, want, wantConv]);
    mergedText.dispose();
    mergedUnet.dispose();
  });
});
