/**
 * P+ against tiny-sd-golden-methods (README section B): layer l's prompt is row l of
 * pplus.input_ids; the concept's id is where the rows differ, row l's id there is layer l's.
 * Rows of pplus.embedding_rows are its vectors. Also mkshing's per-block variant.
 */
import * as tf from '../gpu/tf';
import { DdpmScheduler } from '../model/schedulers';
import { unetForward } from '../model/unet';
import { disposeBatch } from '../train/batch';
import { diffusionLoss, lossAndGrads, type TrainingBatch } from '../train/loss';
import { idsPerLayer } from '../train/per-layer-text';
import { TextualInversion } from '../train/textual-inversion';
import { read, t3, t4, type Outputs, type ParityCheck } from './check-tools';

export const pplusGoldenCheck: ParityCheck = {
  needs: ['pplus.input_ids', 'pplus.embedding_rows', 'pplus.z0', 'pplus.noise', 'pplus.timestep'],
  run: async (model, golden) => {
    const outputs: Outputs = new Map();
    const ids = await golden.get('pplus.input_ids');
    const [L, N] = ids.shape;
    const row = (l: number) => Array.from(ids.data.subarray(l * N, (l + 1) * N));
    const at = row(0).findIndex((id, n) => row(1)[n] !== id);
    const layerIds = Array.from({ length: L }, (_, l) => row(l)[at]);
    const z0 = await golden.get('pplus.z0');
    const batch: TrainingBatch = {
      latents: t4(z0),
      noise: t4(await golden.get('pplus.noise')),
      timesteps: Array.from((await golden.get('pplus.timestep')).data),
      inputIds: tf.tensor2d(row(0), [1, N], 'int32'),
    };
    const rows = await golden.get('pplus.embedding_rows');
    const ti = TextualInversion.create(model.text.weights, { numVectors: L, values: rows.data as Float32Array, tokenIds: layerIds });
    const options = { embedTokens: ti.embedTokens, layerTokens: new Map([[layerIds[0], layerIds]]) };
    const scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
    try {
      await read(outputs, [['pplus.input_ids', idsPerLayer(batch.inputIds, options.layerTokens, L)]]);
      const parts = diffusionLoss(model, scheduler, batch, options);
      await read(outputs, [
        ['pplus.noisy_latents', parts.noisy],
        ['pplus.encoder_hidden_states', parts.encoderHiddenStates],
        ['pplus.model_pred', parts.modelPred],
        ['pplus.loss', parts.loss],
      ]);
      const { loss, grads } = lossAndGrads(model, scheduler, batch, [ti.vectors], options);
      loss.dispose();
      await read(outputs, [['pplus.grad_embedding_rows', grads[0]]]);
      // mkshing's per-block variant: every attn2 of block b reads layer b's states
      const blocks = (golden.json.pplus as { mkshing_blocks?: string[] } | undefined)?.mkshing_blocks;
      if (blocks && golden.has('pplus.encoder_hidden_states')) {
        const states = t3(await golden.get('pplus.encoder_hidden_states').then((g) => ({ ...g, shape: [L, N, g.shape[g.shape.length - 1]] })));
        const noisy = scheduler.addNoise(batch.latents, batch.noise, batch.timesteps) as tf.Tensor4D;
        const first = states.slice([0, 0, 0], [1, -1, -1]);
        const out = unetForward(model.unet.weights, model.unet.config, {
          sample: noisy,
          timesteps: batch.timesteps,
          encoderHiddenStates: first,
          crossAttention: { context: (_, path) => states.slice([blocks.findIndex((b) => path.startsWith(`${b}.`)), 0, 0], [1, -1, -1]) },
        });
        tf.dispose([states, noisy, first]);
        await read(outputs, [['pplus.alt_mkshing_per_block.model_pred', out]]);
      }
    } finally {
      ti.dispose();
      disposeBatch(batch);
    }
    return outputs;
  },
};
