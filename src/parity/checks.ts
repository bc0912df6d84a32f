/**
 * Everything our code can compute of a golden folder, grouped by component. Each check returns
 * our tensors under the golden's names; only names present in the golden are compared, so the
 * same checks serve any SD 1.x-family topology.
 */
import * as tf from '../gpu/tf';
import { clipTextEncoder } from '../model/clip';
import type { StableDiffusionModel } from '../model/load';
import { decodeLatents, denoiseStep, encodePrompts, toUnitRange } from '../model/pipeline';
import { DdimScheduler, DdpmScheduler, EulerDiscreteScheduler, makeSampler } from '../model/schedulers';
import { ClipTokenizer } from '../model/tokenizer';
import { unetForward } from '../model/unet';
import { vaeDecode, vaeEncode } from '../model/vae';
import { Lora } from '../train/lora';
import { diffusionLoss, lossAndGrads, type TrainingBatch } from '../train/loss';
import { dreamboothGoldenCheck } from './dreambooth-check';
import { pplusGoldenCheck } from './pplus-check';
import { perfusionGoldenCheck } from './perfusion-check';
import { read, t3, t4, type Outputs, type ParityCheck } from './check-tools';
import { disposeBatch } from '../train/batch';
import { TextualInversion } from '../train/textual-inversion';
import { GRAD_PREFIX, type Golden, type GoldenTensor } from './golden';

async function encodeText(model: StableDiffusionModel, ids: GoldenTensor, prefix: string, outputs: Outputs): Promise<void> {
  const idsT = tf.tensor2d(ids.data as Int32Array, ids.shape as [number, number], 'int32');
  const out = clipTextEncoder(model.text.weights, model.text.config, idsT, { outputHiddenStates: true });
  idsT.dispose();
  await read(outputs, [
    [`${prefix}.last_hidden_state`, out.lastHiddenState],
    [`${prefix}.pooler_output`, out.pooled],
    ...out.hiddenStates!.map((h, i) => [`${prefix}.hidden_states.${i}`, h] as [string, tf.Tensor]),
  ]);
}

/** The training goldens' fixed batch: ti.z0, ti.noise, ti.timestep and the prompt `ids`. */
async function trainingBatch(golden: Golden, ids: string): Promise<TrainingBatch> {
  const g = await golden.get(ids);
  return {
    latents: t4(await golden.get('ti.z0')),
    noise: t4(await golden.get('ti.noise')),
    timesteps: Array.from((await golden.get('ti.timestep')).data),
    inputIds: tf.tensor2d(g.data as Int32Array, g.shape as [number, number], 'int32'),
  };
}


export const CHECKS: ParityCheck[] = [
  {
    needs: [],
    run: async (model, golden) => {
      const outputs: Outputs = new Map();
      const j = golden.json as {
        prompts?: string[];
        added_token?: { token: string };
        added_token_prompts?: string[];
        pipeline?: { prompt: string; negative_prompt: string };
        ti?: { prompt: string };
        lora?: { prompt: string };
      };
      const tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
      const ids = (prompts: string[]) => prompts.flatMap((p) => tokenizer.encode(p).ids);
      if (j.prompts) {
        outputs.set('tokens.input_ids', ids(j.prompts));
        outputs.set('text.input_ids', ids(j.prompts.slice(0, 3)));
      }
      if (j.pipeline) {
        outputs.set('pipe.prompt_ids', ids([j.pipeline.prompt]));
        outputs.set('pipe.negative_ids', ids([j.pipeline.negative_prompt]));
      }
      if (j.lora) outputs.set('lora.input_ids', ids([j.lora.prompt]));
      if (j.added_token) {
        tokenizer.addTokens([j.added_token.token]);
        if (j.added_token_prompts) outputs.set('tokens.added_input_ids', ids(j.added_token_prompts));
        if (j.ti) outputs.set('ti.input_ids', ids([j.ti.prompt]));
      }
      return outputs;
    },
  },
  {
    needs: ['text.input_ids'],
    run: async (model, golden) => {
      const outputs: Outputs = new Map();
      await encodeText(model, await golden.get('text.input_ids'), 'text', outputs);
      return outputs;
    },
  },
  {
    needs: ['unet.sample', 'unet.timesteps', 'unet.encoder_hidden_states'],
    run: async (model, golden) => {
      const outputs: Outputs = new Map();
      const sample = t4(await golden.get('unet.sample'));
      const context = t3(await golden.get('unet.encoder_hidden_states'));
      const acts = new Map<string, tf.Tensor>();
      const { config, weights } = model.unet;
      const out = unetForward(weights, config, { sample, timesteps: (await golden.get('unet.timesteps')).data, encoderHiddenStates: context }, acts);
      await read(outputs, [['unet.out', out], ...[...acts].map(([n, t]) => [`unet.act.${n}`, t] as [string, tf.Tensor])]);
      if (golden.has('unet.timesteps_frac')) {
        const frac = unetForward(weights, config, { sample, timesteps: (await golden.get('unet.timesteps_frac')).data, encoderHiddenStates: context });
        await read(outputs, [['unet.out_frac', frac]]);
      }
      tf.dispose([sample, context]);
      return outputs;
    },
  },
  {
    needs: ['vae.image'],
    run: async (model, golden) => {
      const image = t4(await golden.get('vae.image'));
      const { mean, logvar } = vaeEncode(model.vae.weights, model.vae.config, image);
      image.dispose();
      const std = tf.exp(tf.mul(logvar, 0.5));
      return read(new Map(), [['vae.posterior_mean', mean], ['vae.posterior_logvar', logvar], ['vae.posterior_std', std]]);
    },
  },
  {
    needs: ['vae.latent'],
    run: async (model, golden) => {
      const latent = t4(await golden.get('vae.latent'));
      const decoded = vaeDecode(model.vae.weights, model.vae.config, latent);
      latent.dispose();
      return read(new Map(), [['vae.decoded', decoded]]);
    },
  },
  {
    needs: ['sched.sample0', 'sched.model_outputs'],
    run: async (model, golden) => {
      const outputs: Outputs = new Map();
      const sample0 = await golden.get('sched.sample0');
      const modelOutputs = await golden.get('sched.model_outputs');
      const steps = modelOutputs.shape[0];
      const perStep = modelOutputs.data.length / steps;
      const output = (i: number) => tf.tensor(modelOutputs.data.subarray(i * perStep, (i + 1) * perStep), sample0.shape);
      const chain = async (name: string, sampler: DdimScheduler | EulerDiscreteScheduler) => {
        const timesteps = sampler.setTimesteps(steps);
        outputs.set(`sched.${name}.timesteps`, timesteps);
        let s = tf.mul(tf.tensor(sample0.data, sample0.shape), sampler.initNoiseSigma);
        const prev: tf.Tensor[] = [];
        const pred: tf.Tensor[] = [];
        const scaled: tf.Tensor[] = [];
        for (let i = 0; i < steps; i++) {
          const eps = output(i);
          scaled.push(sampler.scaleModelInput(s, timesteps[i]));
          const r = sampler.step(eps, timesteps[i], s);
          eps.dispose();
          prev.push(r.prevSample);
          pred.push(r.predOriginalSample);
          s = r.prevSample;
        }
        await read(outputs, [
          [`sched.${name}.prev_samples`, tf.stack(prev)],
          [`sched.${name}.pred_original_samples`, tf.stack(pred)],
          [`sched.${name}.scaled_inputs`, tf.stack(scaled)],
        ]);
        tf.dispose([...prev, ...pred, ...scaled]);
      };
      const ddim = DdimScheduler.fromConfig(model.schedulerConfig);
      outputs.set('sched.alphas_cumprod', ddim.alphasCumprod);
      await chain('ddim', ddim);
      const euler = EulerDiscreteScheduler.fromConfig(model.schedulerConfig);
      await chain('euler', euler);
      outputs.set('sched.euler.sigmas', euler.sigmas);
      outputs.set('sched.euler.init_noise_sigma', [euler.initNoiseSigma]);
      if (golden.has('sched.ddpm.x0')) {
        const x0 = await golden.get('sched.ddpm.x0');
        const noise = await golden.get('sched.ddpm.noise');
        const [a, b] = [tf.tensor(x0.data, x0.shape), tf.tensor(noise.data, noise.shape)];
        const noisy = DdpmScheduler.fromConfig(model.schedulerConfig).addNoise(a, b, (await golden.get('sched.ddpm.t')).data);
        tf.dispose([a, b]);
        await read(outputs, [['sched.ddpm.noisy', noisy]]);
      }
      return outputs;
    },
  },
  {
    needs: ['pipe.prompt_ids', 'pipe.negative_ids', 'pipe.init_latents'],
    run: async (model, golden) => {
      const outputs: Outputs = new Map();
      const settings = golden.json.pipeline as { guidance_scale: number; num_inference_steps: number };
      const ids = async (name: string) => Array.from((await golden.get(name)).data);
      const embeddings = encodePrompts(model, await ids('pipe.prompt_ids'), await ids('pipe.negative_ids'), 1);
      const sampler = makeSampler('ddim', model.schedulerConfig);
      outputs.set('pipe.timesteps', sampler.setTimesteps(settings.num_inference_steps));
      const init = await golden.get('pipe.init_latents');
      let latents = tf.mul(tf.tensor4d(init.data as Float32Array, init.shape as [number, number, number, number]), sampler.initNoiseSigma) as tf.Tensor4D;
      const [uncond, cond, steps]: tf.Tensor[][] = [[], [], []];
      for (const t of sampler.timesteps) {
        const next = denoiseStep(model, sampler, latents, t, embeddings, settings.guidance_scale);
        uncond.push(next.uncond);
        cond.push(next.cond);
        steps.push(next.latents);
        latents = next.latents;
      }
      const decoded = decodeLatents(model, latents);
      await read(outputs, [
        ['pipe.prompt_embeds', embeddings],
        ['pipe.noise_pred_uncond', tf.stack(uncond)],
        ['pipe.noise_pred_text', tf.stack(cond)],
        ['pipe.latents', tf.stack(steps)],
        ['pipe.image', toUnitRange(decoded)],
        ['pipe.decoded', decoded],
      ]);
      tf.dispose([...uncond, ...cond, ...steps]);
      return outputs;
    },
  },
  {
    // Textual inversion: the concept's row is ti.embedding_row; gradients for it and for the
    // table rows of ti.grad_rows_ids (made trainable for the check only).
    needs: ['ti.input_ids', 'ti.embedding_row', 'ti.z0', 'ti.noise', 'ti.timestep'],
    run: async (model, golden) => {
      const outputs: Outputs = new Map();
      const batch = await trainingBatch(golden, 'ti.input_ids');
      const scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
      const row = (await golden.get('ti.embedding_row')).data as Float32Array;
      const ti = TextualInversion.create(model.text.weights, { numVectors: row.length / model.text.config.hiddenSize, values: row });
      try {
        const parts = diffusionLoss(model, scheduler, batch, { embedTokens: ti.embedTokens });
        await read(outputs, [
          ['ti.noisy_latents', parts.noisy],
          ['ti.encoder_hidden_states', parts.encoderHiddenStates],
          ['ti.model_pred', parts.modelPred],
          ['ti.loss', parts.loss],
        ]);
        const { loss, grads } = lossAndGrads(model, scheduler, batch, [ti.vectors], { embedTokens: ti.embedTokens });
        await read(outputs, [['ti.grad_embedding_row', grads[0]]]);
        loss.dispose();
        if (golden.has('ti.grad_rows_ids')) {
          const ids = Array.from((await golden.get('ti.grad_rows_ids')).data);
          const { rows, embedTokens } = ti.withTrainableRows(ids);
          const r = lossAndGrads(model, scheduler, batch, [rows], { embedTokens });
          await read(outputs, [['ti.grad_rows', r.grads[0].slice(0, ids.length)]]);
          tf.dispose([r.loss, r.grads[0], rows]);
        }
      } finally {
        ti.dispose();
        disposeBatch(batch);
      }
      return outputs;
    },
  },
  {
    // Cross-attention LoRA with the golden's adapter weights; gradients as `grad:<key>`.
    needs: ['lora.input_ids', 'ti.z0', 'ti.noise', 'ti.timestep'],
    run: async (model, golden) => {
      const outputs: Outputs = new Map();
      const keys = golden.names().filter((n) => n.startsWith('unet.') && n.includes('.lora.'));
      if (keys.length === 0) return outputs;
      const values = new Map(await Promise.all(keys.map(async (k) => [k, await golden.get(k)] as const)));
      const scale = (golden.json.lora as { scale?: number } | undefined)?.scale ?? 1;
      const batch = await trainingBatch(golden, 'lora.input_ids');
      const scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
      const lora = Lora.fromValues(model.unet.weights, values, scale);
      try {
        const parts = diffusionLoss(model, scheduler, batch);
        await read(outputs, [
          ['lora.encoder_hidden_states', parts.encoderHiddenStates],
          ['lora.model_pred', parts.modelPred],
          ['lora.loss', parts.loss],
        ]);
        tf.dispose(parts.noisy);
        const { loss, grads } = lossAndGrads(model, scheduler, batch, lora.variables());
        loss.dispose();
        await read(outputs, lora.keys().map((k, i) => [GRAD_PREFIX + k, grads[i]] as [string, tf.Tensor]));
      } finally {
        lora.dispose();
        disposeBatch(batch);
      }
      return outputs;
    },
  },
  dreamboothGoldenCheck,
  pplusGoldenCheck,
  perfusionGoldenCheck,
];
