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
import { disposeBatch } from '../train/batch';
import { read, t4, type Outputs, type ParityCheck } from './check-tools';

const WEIGHT_PREFIX = 'dreambooth.lora.';
const GRAD_PREFIX = 'dreambooth.lora_grad.';

export const dreamboothGoldenCheck: ParityCheck = {
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
      latents: t4(input),
      noise: t4(noise),
      timesteps: Array.from((await golden.get('dreambooth.timesteps')).data),
      inputIds: tf.tensor2d(ids.data as Int32Array, ids.shape as [number, number], 'int32'),
    };
    const options = { priorLossWeight: settings.prior_loss_weight ?? 1 };
    const scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
    const lora = Lora.fromValues(model.unet.weights, values, settings.scale ?? 1);
    try {
      const parts = diffusionLoss(model, scheduler, batch, options);
      await read(outputs, [
        ['dreambooth.noisy_latents', parts.noisy],
        ['dreambooth.encoder_hidden_states', parts.encoderHiddenStates],
        ['dreambooth.model_pred', parts.modelPred],
        ['dreambooth.instance_loss', parts.instanceLoss!],
        ['dreambooth.prior_loss', parts.priorLoss!],
        ['dreambooth.loss', parts.loss],
      ]);
      const { loss, grads } = lossAndGrads(model, scheduler, batch, lora.variables(), options);
      loss.dispose();
      await read(outputs, lora.keys().map((k, i) => [GRAD_PREFIX + k, grads[i]] as [string, tf.Tensor]));
    } finally {
      lora.dispose();
      disposeBatch(batch);
    }
    return outputs;
  },
};
