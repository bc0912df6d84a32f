/**
 * DreamBooth-LoRA with prior preservation against tiny-sd-golden-methods (README section C):
 * the golden's LoRA weights (`dreambooth.lora.<key>`) on the UNet, its instance + class batch,
 * and diffusers' chunked loss; gradients as `dreambooth.lora_grad.<key>`.
 */
import * as tf from '../gpu/tf';
import { DdpmScheduler } from '../model/schedulers';
import { ClipTokenizer } from '../model/tokenizer';
import { Lora } from '../train/lora';
import { diffusionLoss, lossAndGrads, type TrainingBatch } from '../train/loss';
import type { StableDiffusionModel } from '../model/load';
import type { Golden } from './golden';

/** Our tensors under the golden's names (checks.ts's `Outputs`; checks.ts lists this check). */
type Outputs = Map<string, ArrayLike<number>>;

const WEIGHT_PREFIX = 'dreambooth.lora.';
const GRAD_PREFIX = 'dreambooth.lora_grad.';

export const dreamboothGoldenCheck: { needs: string[]; run: (model: StableDiffusionModel, golden: Golden) => Promise<Outputs> } = {
  needs: ['dreambooth.input_ids', 'dreambooth.model_input', 'dreambooth.noise', 'dreambooth.timesteps'],
  run: async (model, golden) => {
    const outputs: Outputs = new Map();
    const keys = golden.names().filter((n) => n.startsWith(WEIGHT_PREFIX));
    if (keys.length === 0) return outputs;
    const values = new Map(await Promise.all(keys.map(async (k) => [k.slice(WEIGHT_PREFIX.length), await golden.get(k)] as const)));
    const settings = (golden.json.dreambooth ?? {}) as { scale?: number; prior_loss_weight?: number; instance_prompt?: string; class_prompt?: string };
    if (settings.instance_prompt !== undefined && settings.class_prompt !== undefined) {
      // collate_fn(with_prior_preservation=True): the instance prompt's row, then the class prompt's
      const tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
      outputs.set('dreambooth.input_ids', [settings.instance_prompt, settings.class_prompt].flatMap((p) => tokenizer.encode(p).ids));
    }
    const [input, noise, ids] = await Promise.all(['dreambooth.model_input', 'dreambooth.noise', 'dreambooth.input_ids'].map((n) => golden.get(n)));
    const batch: TrainingBatch = {
      latents: tf.tensor4d(input.data as Float32Array, input.shape as [number, number, number, number]),
      noise: tf.tensor4d(noise.data as Float32Array, noise.shape as [number, number, number, number]),
      timesteps: Array.from((await golden.get('dreambooth.timesteps')).data),
      inputIds: tf.tensor2d(ids.data as Int32Array, ids.shape as [number, number], 'int32'),
    };
    const options = { priorLossWeight: settings.prior_loss_weight ?? 1 };
    const scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
    const lora = Lora.fromValues(model.unet.weights, values, settings.scale ?? 1);
    const read = async (entries: [string, tf.Tensor][]) => {
      for (const [name, t] of entries) outputs.set(name, (await t.data()) as Float32Array);
      tf.dispose(entries.map(([, t]) => t));
    };
    try {
      const parts = diffusionLoss(model, scheduler, batch, options);
      await read([
        ['dreambooth.noisy_latents', parts.noisy],
        ['dreambooth.encoder_hidden_states', parts.encoderHiddenStates],
        ['dreambooth.model_pred', parts.modelPred],
        ['dreambooth.instance_loss', parts.instanceLoss!],
        ['dreambooth.prior_loss', parts.priorLoss!],
        ['dreambooth.loss', parts.loss],
      ]);
      const { loss, grads } = lossAndGrads(model, scheduler, batch, lora.variables(), options);
      loss.dispose();
      await read(lora.keys().map((k, i) => [GRAD_PREFIX + k, grads[i]] as [string, tf.Tensor]));
    } finally {
      lora.dispose();
      tf.dispose([batch.latents, batch.noise, batch.inputIds]);
    }
    return outputs;
  },
};
