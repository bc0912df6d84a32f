import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { crossAttentionLayers } from './lora';
import { crossAttentionPaths } from '../model/cross-attention';
import { loadStableDiffusion, type StableDiffusionModel } from '../model/load';
import { DdpmScheduler } from '../model/schedulers';
import { nodeFolderSource } from '../model/sources/node-folder';
import { unetForward } from '../model/unet';
import { expectClose } from '../test/compare';
import { randomNormal } from '../common/random';
import { AdamW } from '../kernels/adamw';
import { ClipTokenizer } from '../model/tokenizer';
import { changedWeights, snapshotWeights } from '../test/model-fixtures';
import { goldenMethods, goldenMethodsTolerance, readFixtureJson } from '../test/golden';
import { TINY_SD } from '../test/model-fixtures';
import { diffusionLoss, lossAndGrads, type TrainingBatch } from './loss';
import { idsPerLayer } from './per-layer-text';
import { TextualInversion } from './textual-inversion';

interface PplusJson {
  pplus: { token_ids: number[]; layer_order: { index: number; module: string }[]; mkshing_blocks: string[]; loss: number };
}

const J = readFixtureJson<PplusJson>('tiny-sd-golden-methods/golden.json').pplus;
const t4 = (name: string) => {
  const g = goldenMethods(name);
  return tf.tensor4d(g.data as Float32Array, g.shape as [number, number, number, number]);
};

let model: StableDiffusionModel;
let scheduler: DdpmScheduler;

/** The golden's P+ batch: the prompt with layer 0's token (49408); layer l's is 49408 + l. */
function goldenBatch(): TrainingBatch {
  const ids = goldenMethods('pplus.input_ids').data as number[];
  return {
    latents: t4('pplus.z0'),
    noise: t4('pplus.noise'),
    timesteps: Array.from(goldenMethods('pplus.timestep').data),
    inputIds: tf.tensor2d(ids.slice(0, 77), [1, 77], 'int32'),
  };
}

const layerTokens = () => new Map([[J.token_ids[0], J.token_ids]]);

function goldenRows(): TextualInversion {
  const rows = goldenMethods('pplus.embedding_rows');
  return TextualInversion.create(model.text.weights, { numVectors: rows.shape[0], values: rows.data as Float32Array, tokenIds: J.token_ids });
}

beforeAll(async () => {
  model = await loadStableDiffusion(nodeFolderSource(TINY_SD));
  scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
});

afterAll(() => model?.dispose());

describe('cross-attention layer order', () => {
  it('lists the 16 attn2 paths of tiny-sd in forward order (mid block between down and up), as the golden does', () => {
    const paths = crossAttentionPaths(model.unet.config);
    expect(paths).toEqual(J.layer_order.map((l) => l.module));
    expect(paths).toHaveLength(16);
    expect(paths.indexOf('mid_block.attentions.0.transformer_blocks.0.attn2')).toBe(6);
    // the LoRA layer list walks the same order
    expect(crossAttentionLayers(model.unet.config).map((l) => l.prefix)).toEqual(paths);
  });
});

describe('P+ against the methods golden (tiny-sd, 32×32 latents, t = 500)', () => {
  it('encodes one prompt per layer in one call and feeds layer l its states: states, prediction, loss and row gradients match', async () => {
    const before = tf.memory().numTensors;
    const batch = goldenBatch();
    const ti = goldenRows();
    const expanded = idsPerLayer(batch.inputIds, layerTokens(), 16);
    expect(Array.from(await expanded.data())).toEqual(goldenMethods('pplus.input_ids').data);
    expanded.dispose();
    const options = { embedTokens: ti.embedTokens, layerTokens: layerTokens() };
    const parts = diffusionLoss(model, scheduler, batch, options);
    expect(parts.encoderHiddenStates.shape).toEqual([16, 77, 32]);
    for (const [name, t] of [['pplus.noisy_latents', parts.noisy], ['pplus.encoder_hidden_states', parts.encoderHiddenStates], ['pplus.model_pred', parts.modelPred]] as const) {
      expectClose(await t.data(), goldenMethods(name).data, goldenMethodsTolerance(name), name);
    }
    const loss = (await parts.loss.data())[0];
    expect(Math.abs(loss - J.loss) / J.loss).toBeLessThanOrEqual(goldenMethodsTolerance('pplus.loss'));
    tf.dispose(Object.values(parts));
    for (const checkpointing of [false, true]) {
      const { loss: l, grads } = lossAndGrads(model, scheduler, batch, [ti.vectors], { ...options, checkpointing });
      expectClose(await grads[0].data(), goldenMethods('pplus.grad_embedding_rows').data, goldenMethodsTolerance('pplus.grad_embedding_rows'), `grad rows (checkpointing ${checkpointing})`);
      tf.dispose([l, ...grads]);
    }
    ti.dispose();
    tf.dispose([batch.latents, batch.noise, batch.inputIds]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('hands each layer its index and module path: block-shared states reproduce mkshing per-block forward', async () => {
    const states = goldenMethods('pplus.encoder_hidden_states');
    const perLayer = tf.tensor3d(states.data as Float32Array, [16, 77, 32]);
    const sample = t4('pplus.noisy_latents');
    const seen: [number, string][] = [];
    const blockOf = (path: string) => J.mkshing_blocks.findIndex((b) => path.startsWith(`${b}.`));
    const out = tf.tidy(() =>
      unetForward(model.unet.weights, model.unet.config, {
        sample,
        timesteps: [500],
        encoderHiddenStates: perLayer.slice([0, 0, 0], [1, -1, -1]),
        crossAttention: {
          context: (l, path) => {
            seen.push([l, path]);
            return perLayer.slice([blockOf(path), 0, 0], [1, -1, -1]);
          },
        },
      }),
    );
    expect(seen).toEqual(J.layer_order.map((l) => [l.index, l.module]));
    expectClose(await out.data(), goldenMethods('pplus.alt_mkshing_per_block.model_pred').data, goldenMethodsTolerance('pplus.alt_mkshing_per_block.model_pred'), 'per-block');
    tf.dispose([out, perLayer, sample]);
  });
});

describe('P+ training on a fixed batch', () => {
  it('ten AdamW steps lower the loss every step, train a different vector per layer, leave frozen weights bit-identical and leak nothing', async () => {
    const frozen = await snapshotWeights(model);
    const tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
    const [id] = tokenizer.addConcept('<my-toy>', 1);
    const ids = Array.from({ length: 16 }, (_, l) => id + l);
    const ti = TextualInversion.create(model.text.weights, { numVectors: 16, tokenIds: ids, initIds: tokenizer.tokenize('toy') });
    const shape: [number, number, number, number] = [1, 4, 8, 8];
    const batch: TrainingBatch = {
      latents: tf.tensor4d(randomNormal(4 * 8 * 8, 1), shape),
      noise: tf.tensor4d(randomNormal(4 * 8 * 8, 2), shape),
      timesteps: [500],
      inputIds: tf.tensor2d([tokenizer.encode('a photo of a <my-toy>').ids], undefined, 'int32'),
    };
    const options = { embedTokens: ti.embedTokens, layerTokens: new Map([[id, ids]]) };
    const optimizer = new AdamW([ti.vectors], { learningRate: 1e-2, weightDecay: 0 });
    const losses: number[] = [];
    const live: number[] = [];
    for (let step = 0; step < 10; step++) {
      const { loss, grads } = lossAndGrads(model, scheduler, batch, [ti.vectors], options);
      optimizer.apply(grads);
      losses.push((await loss.data())[0]);
      tf.dispose([loss, ...grads]);
      live.push(tf.memory().numTensors);
    }
    const last = diffusionLoss(model, scheduler, batch, options);
    losses.push((await last.loss.data())[0]);
    tf.dispose(Object.values(last));
    // about 1.263 → 1.246 here
    for (let i = 1; i <= 10; i++) expect(losses[i], `loss after step ${i}`).toBeLessThan(losses[i - 1]);
    expect(live.slice(1)).toEqual(live.slice(1).map(() => live[1]));
    // all rows started as 'toy'; each layer's own gradient moved each its own way
    const rows = (await ti.vectors.array()) as number[][];
    expect(new Set(rows.map((r) => r.join(','))).size).toBe(16);
    optimizer.dispose();
    ti.dispose();
    tf.dispose([batch.latents, batch.noise, batch.inputIds]);
    expect(await changedWeights(model, frozen)).toEqual([]);
  });
});
