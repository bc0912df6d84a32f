/**
 * Perfusion against tiny-sd-golden-methods (README section A): C of the golden's covariance
 * prompts, the concept inputs, the gated rank-1 K/V edit at the README's layer and on every attn2
 * (training and inference gates, ChenDarYen's global locking, two concepts, lucidrains'
 * non-orthogonalised two-concept variant), the loss and the gradients of the embedding row and
 * every v*. The edit reads the golden's float32 C⁻¹ (README: an input, not an elementwise target).
 */
import * as tf from '../gpu/tf';
import { clipTextEncoder } from '../model/clip';
import { crossAttentionLayerList } from '../model/cross-attention';
import type { StableDiffusionModel } from '../model/load';
import { DdpmScheduler } from '../model/schedulers';
import { ClipTokenizer } from '../model/tokenizer';
import { unetForward, type CrossAttentionHooks } from '../model/unet';
import { disposeBatch } from '../train/batch';
import { diffusionLoss, lossAndGrads, type TrainingBatch } from '../train/loss';
import { encodingAt } from '../train/perfusion-concept';
import { textCovariance } from '../train/perfusion-covariance';
import { perfusionHooks, type PerfusionTargets } from '../train/perfusion-hooks';
import { disposeEditInputs, editInputs, type EditInputs } from '../train/perfusion-inputs';
import { conceptSimilarity, editedProjection, gateOf, INFERENCE_GATE, projectOut, TRAINING_GATE, type Gate } from '../train/rank-one-edit';
import { TextualInversion } from '../train/textual-inversion';
import { read, t4, type Outputs, type ParityCheck } from './check-tools';
import type { Golden } from './golden';

interface PerfusionJson {
  concept_token: string;
  concept_token_id: number;
  second_concept_token?: string;
  second_concept_token_id?: number;
  train_beta_tau?: [number, number];
  infer_beta_tau?: [number, number];
  layer_for_layer_goldens?: string;
  train_prompts: string[];
  superclass_prompts: string[];
  concept2_prompts?: string[];
  concept2_superclass_prompts?: string[];
  multi_prompt?: string[];
  covariance_prompts?: string[];
}

/** Golden tensors this check does not compute, with why. */
const NOT_COMPUTED: [string, string][] = [
  ['perfusion.C_inv', 'ill-conditioned, not an elementwise target (README); the edit reads it as its input'],
  ['perfusion.C_inv_f64', 'ill-conditioned, not an elementwise target (README)'],
  ['perfusion.C_alt_lucidrains', "lucidrains' covariance (BOS..EOS only), documentation, not used"],
];

const gateFrom = (pair: [number, number] | undefined, fallback: Gate): Gate => (pair ? { beta: pair[0], tau: pair[1] } : fallback);

type Unet = StableDiffusionModel['unet'];

/** W · x at every attn2's to_k or to_v (x [D]), by module path. */
function projected(unet: Unet, x: Float32Array, which: 'to_k' | 'to_v'): Map<string, tf.Tensor1D> {
  const layers = crossAttentionLayerList(unet.config);
  const out = tf.tidy(() => {
    const input = tf.tensor3d(x, [1, 1, x.length]);
    return layers.map((l) => unet.weights.linear(`${l.path}.${which}`, input, l.channels).reshape([-1]) as tf.Tensor1D);
  });
  return new Map(layers.map((l, i) => [l.path, out[i]]));
}

/** Per-layer tensors of `prefix.<path>` from the golden. */
async function perLayer(unet: Unet, golden: Golden, prefix: string): Promise<Map<string, tf.Tensor1D>> {
  const out = new Map<string, tf.Tensor1D>();
  for (const l of crossAttentionLayerList(unet.config)) out.set(l.path, tf.tensor1d((await golden.get(`${prefix}${l.path}`)).data as Float32Array));
  return out;
}

/** lucidrains' default two-concept edit: W e − Σ_c sim_c W i*_c + Σ_c σ_c o_c (each input projected out on its own). */
function lucidrainsApproxHooks(inputs: EditInputs, concepts: readonly PerfusionTargets[]): CrossAttentionHooks {
  return {
    keysValues(path, context, project) {
      const sims = inputs.concepts.map((c) => conceptSimilarity(context, c));
      const gates = sims.map((s, i) => gateOf(s, concepts[i].gate));
      const ePerp = tf.tidy(() => sims.reduce((e, s, i) => e.sub(s.expandDims(2).mul(inputs.concepts[i].iStar.reshape([1, 1, -1]))), context as tf.Tensor) as tf.Tensor3D);
      return {
        keys: editedProjection(project.key, ePerp, gates, concepts.map((c) => c.keys.get(path)!)),
        values: editedProjection(project.value, ePerp, gates, concepts.map((c) => c.values.get(path)!)),
      };
    },
  };
}

/**
 * lucidrains' training mode (frac_gradient_concept_embed = 1): i* = EMA + c − c.detach(), c the
 * batch mean at the concept positions, EMA = c at step 1; so i* = c with its gradient, read from
 * each layer's own context, and energy, sim and the projection all differentiate through it.
 */
function straightThroughHooks(cInv: tf.Tensor2D, positions: readonly number[], concept: PerfusionTargets): CrossAttentionHooks {
  return {
    keysValues(path, context, project) {
      const [b, n, d] = context.shape;
      const iStar = tf.stack(positions.map((p, r) => context.slice([r, p, 0], [1, 1, -1]).reshape([d]))).mean(0) as tf.Tensor1D;
      const cInvI = tf.matMul(cInv, iStar.reshape([d, 1])).reshape([d]);
      const energy = tf.sum(tf.mul(iStar, cInvI));
      const sim = tf.matMul(context.reshape([b * n, d]), cInvI.reshape([d, 1])).div(energy).reshape([b, n]) as tf.Tensor2D;
      const gate = gateOf(sim, concept.gate);
      const ePerp = context.sub(sim.expandDims(2).mul(iStar.reshape([1, 1, d]))) as tf.Tensor3D;
      return {
        keys: editedProjection(project.key, ePerp, [gate], [concept.keys.get(path)!]),
        values: editedProjection(project.value, ePerp, [gate], [concept.values.get(path)!]),
      };
    },
  };
}

/** ChenDarYen's --global_locking: K from the superclass states `superclass`, V from the prompt's. */
function globalLockHooks(inputs: EditInputs, concept: PerfusionTargets, superclass: tf.Tensor3D): CrossAttentionHooks {
  const edit = perfusionHooks(inputs, [concept]);
  return {
    keysValues(path, context, project) {
      const keys = edit.keysValues!(path, superclass, project)!.keys;
      return { keys, values: edit.keysValues!(path, context, project)!.values };
    },
  };
}

export const perfusionGoldenCheck: ParityCheck = {
  needs: ['perfusion.embedding_row', 'perfusion.input_ids', 'perfusion.superclass_input_ids', 'perfusion.C_inv', 'perfusion.z0', 'perfusion.noise', 'perfusion.timesteps'],
  skipped: (golden) => NOT_COMPUTED.filter(([name]) => golden.has(name)),
  run: async (model, golden) => {
    const outputs: Outputs = new Map();
    const j = golden.json.perfusion as PerfusionJson;
    const train = gateFrom(j.train_beta_tau, TRAINING_GATE);
    const infer = gateFrom(j.infer_beta_tau, INFERENCE_GATE);
    const { text, unet } = model;
    const d = text.config.hiddenSize;
    // token ids from the golden's prompts, with its added tokens
    const tokenizer = ClipTokenizer.fromFiles(model.tokenizerFiles);
    const added = tokenizer.addTokens([j.concept_token, ...(j.second_concept_token ? [j.second_concept_token] : [])]);
    const conceptId = added[0];
    const ids = (prompts: string[]) => prompts.map((p) => tokenizer.encode(p).ids);
    const flatIds = (rows: number[][]) => rows.flat();
    const trainIds = ids(j.train_prompts);
    outputs.set('perfusion.input_ids', flatIds(trainIds));
    outputs.set('perfusion.superclass_input_ids', flatIds(ids(j.superclass_prompts)));
    outputs.set('perfusion.concept_indices', trainIds.map((r) => r.indexOf(conceptId)));
    if (j.concept2_prompts) outputs.set('perfusion.multi.concept2_input_ids', flatIds(ids(j.concept2_prompts)));
    if (j.multi_prompt) outputs.set('perfusion.multi.input_ids', flatIds(ids(j.multi_prompt)));
    // C of the golden's covariance prompts (the shipped list is the same)
    if (j.covariance_prompts) {
      const base = ClipTokenizer.fromFiles(model.tokenizerFiles);
      const c = await textCovariance(model, base, j.covariance_prompts);
      outputs.set('perfusion.C', c);
      outputs.set('perfusion.C_f64', c);
    }
    const cInv = (await golden.get('perfusion.C_inv')).data as Float32Array;
    // the concepts' rows in the table
    const second = golden.has('perfusion.multi.embedding_row_2') && added.length > 1;
    const rows = Float32Array.from([
      ...((await golden.get('perfusion.embedding_row')).data as Float32Array),
      ...(second ? ((await golden.get('perfusion.multi.embedding_row_2')).data as Float32Array) : []),
    ]);
    const ti = TextualInversion.create(text.weights, { numVectors: rows.length / d, values: rows, tokenIds: added.slice(0, rows.length / d) });
    const encode = (prompts: number[][]) =>
      tf.tidy(() => clipTextEncoder(text.weights, text.config, tf.tensor2d(prompts.flat(), [prompts.length, prompts[0].length], 'int32'), { embedTokens: ti.embedTokens }).lastHiddenState);
    const owned: tf.Tensor[] = [];
    const editInputsOwned: EditInputs[] = [];
    const targetsOwned: Map<string, tf.Tensor1D>[] = [];
    const keep = <T extends tf.Tensor>(t: T) => (owned.push(t), t);
    const scheduler = DdpmScheduler.fromConfig(model.schedulerConfig);
    const batch: TrainingBatch = {
      latents: t4(await golden.get('perfusion.z0')),
      noise: t4(await golden.get('perfusion.noise')),
      timesteps: Array.from((await golden.get('perfusion.timesteps')).data),
      inputIds: tf.tensor2d(trainIds.flat(), [trainIds.length, trainIds[0].length], 'int32'),
    };
    try {
      const states = keep(encode(trainIds));
      const superStates = keep(encode(ids(j.superclass_prompts)));
      const iStar = await encodingAt(states, trainIds, conceptId);
      const iSuper = await encodingAt(superStates, trainIds, conceptId);
      outputs.set('perfusion.encoder_hidden_states', await states.data());
      outputs.set('perfusion.superclass_encoder_hidden_states', await superStates.data());
      outputs.set('perfusion.i_star', iStar);
      outputs.set('perfusion.i_super', iSuper);
      const inputs = editInputs(cInv, [iStar]);
      editInputsOwned.push(inputs);
      outputs.set('perfusion.energy', [inputs.concepts[0].energy]);
      const keys = projected(unet, iSuper, 'to_k');
      targetsOwned.push(keys);
      for (const [path, k] of keys) outputs.set(`perfusion.k_target.${path}`, await k.data());
      const values = await perLayer(unet, golden, 'perfusion.v_star.');
      targetsOwned.push(values);
      const concept = (gate: Gate): PerfusionTargets => ({ keys, values, gate });

      // one layer: sim, gates, unedited and edited K/V
      const layer = j.layer_for_layer_goldens;
      if (layer && keys.has(layer)) {
        const channels = crossAttentionLayerList(unet.config).find((l) => l.path === layer)!.channels;
        const linear = (which: 'to_k' | 'to_v') => (x: tf.Tensor3D) => unet.weights.linear(`${layer}.${which}`, x, channels) as tf.Tensor3D;
        const entries: [string, tf.Tensor][] = tf.tidy(() => {
          const sim = conceptSimilarity(states, inputs.concepts[0]);
          const ePerp = projectOut(states, inputs.basis);
          const out: [string, tf.Tensor][] = [
            ['perfusion.layer.sim_raw', sim.mul(inputs.concepts[0].energy)],
            ['perfusion.layer.sim', sim],
            ['perfusion.layer.Wk_e', linear('to_k')(states)],
            ['perfusion.layer.Wv_e', linear('to_v')(states)],
          ];
          for (const [gate, mode] of [[train, 'train'], [infer, 'infer']] as const) {
            const sigma = gateOf(sim, gate);
            out.push([`perfusion.layer.sigma_${mode}`, sigma]);
            out.push([`perfusion.layer.K_${mode}`, editedProjection(linear('to_k'), ePerp, [sigma], [keys.get(layer)!])]);
            out.push([`perfusion.layer.V_${mode}`, editedProjection(linear('to_v'), ePerp, [sigma], [values.get(layer)!])]);
          }
          return out;
        });
        await read(outputs, entries);
      }

      // training: every attn2 edited with the training gate; gradients of the row and every v*
      const vStars = [...values].map(([path, v]) => [path, keep(tf.variable(v, true) as tf.Variable<tf.Rank.R1>)] as const);
      const trainable: PerfusionTargets = { keys, values: new Map(vStars), gate: train };
      const options = { embedTokens: ti.embedTokens, crossAttention: perfusionHooks(inputs, [trainable]) };
      const parts = diffusionLoss(model, scheduler, batch, options);
      await read(outputs, [
        ['perfusion.noisy_latents', parts.noisy],
        ['perfusion.train.model_pred', parts.modelPred],
        ['perfusion.train.loss', parts.loss],
      ]);
      parts.encoderHiddenStates.dispose();
      const { loss, grads } = lossAndGrads(model, scheduler, batch, [ti.vectors, ...vStars.map(([, v]) => v)], options);
      loss.dispose();
      const [rowGrad, ...vGrads] = grads;
      await read(outputs, [
        ['perfusion.train.grad_embedding_row', tf.tidy(() => rowGrad.slice([0, 0], [1, -1]).reshape([-1]))],
        ...vStars.map(([path], i) => [`perfusion.train.grad_v_star.${path}`, vGrads[i]] as [string, tf.Tensor]),
      ]);
      rowGrad.dispose();
      if (golden.has('perfusion.train_st.grad_embedding_row')) {
        const cInvT = keep(tf.tensor2d(cInv, [d, d]));
        const positions = trainIds.map((r) => r.indexOf(conceptId));
        const st = lossAndGrads(model, scheduler, batch, [ti.vectors], { embedTokens: ti.embedTokens, crossAttention: straightThroughHooks(cInvT, positions, concept(train)) });
        st.loss.dispose();
        await read(outputs, [['perfusion.train_st.grad_embedding_row', tf.tidy(() => st.grads[0].slice([0, 0], [1, -1]).reshape([-1]))]]);
        st.grads[0].dispose();
      }

      // inference: the inference gate, global locking, no edit
      const noisy = keep(scheduler.addNoise(batch.latents, batch.noise, batch.timesteps) as tf.Tensor4D);
      const unetOn = (sample: tf.Tensor4D, context: tf.Tensor3D, crossAttention?: CrossAttentionHooks) =>
        unetForward(unet.weights, unet.config, { sample, timesteps: batch.timesteps.slice(0, sample.shape[0]), encoderHiddenStates: context, crossAttention });
      await read(outputs, [
        ['perfusion.infer.model_pred', unetOn(noisy, states, perfusionHooks(inputs, [concept(infer)]))],
        ['perfusion.infer_global_lock.model_pred', unetOn(noisy, states, globalLockHooks(inputs, concept(infer), superStates))],
        ['perfusion.unedited.model_pred', unetOn(noisy, states)],
      ]);

      // two concepts
      if (second && j.concept2_prompts && j.concept2_superclass_prompts && j.multi_prompt) {
        const ids2 = ids(j.concept2_prompts);
        const states2 = keep(encode(ids2));
        const super2 = keep(encode(ids(j.concept2_superclass_prompts)));
        const iStar2 = await encodingAt(states2, ids2, added[1]);
        const iSuper2 = await encodingAt(super2, ids2, added[1]);
        outputs.set('perfusion.multi.i_star_2', iStar2);
        outputs.set('perfusion.multi.i_super_2', iSuper2);
        outputs.set('perfusion.multi.target_inputs', Float32Array.from([...iStar, ...iStar2]));
        const keys2 = projected(unet, iSuper2, 'to_k');
        targetsOwned.push(keys2);
        for (const [path, k] of keys2) outputs.set(`perfusion.multi.k_target_2.${path}`, await k.data());
        const values2 = await perLayer(unet, golden, 'perfusion.multi.v_star_2.');
        targetsOwned.push(values2);
        const both = editInputs(cInv, [iStar, iStar2]);
        editInputsOwned.push(both);
        if (golden.has('perfusion.multi.basis')) outputs.set('perfusion.multi.basis', await signAligned(both.basis.u, await golden.get('perfusion.multi.basis')));
        const multiIds = ids(j.multi_prompt);
        const e = keep(encode(multiIds));
        const concepts: PerfusionTargets[] = [concept(infer), { keys: keys2, values: values2, gate: infer }];
        if (layer && keys.has(layer)) {
          const channels = crossAttentionLayerList(unet.config).find((l) => l.path === layer)!.channels;
          const project = {
            key: (x: tf.Tensor3D) => unet.weights.linear(`${layer}.to_k`, x, channels) as tf.Tensor3D,
            value: (x: tf.Tensor3D) => unet.weights.linear(`${layer}.to_v`, x, channels) as tf.Tensor3D,
          } as Parameters<NonNullable<CrossAttentionHooks['keysValues']>>[2];
          const entries = tf.tidy(() => {
            const sims = both.concepts.map((c) => conceptSimilarity(e, c));
            const exact = perfusionHooks(both, concepts).keysValues!(layer, e, project)!;
            const approx = lucidrainsApproxHooks(both, concepts).keysValues!(layer, e, project)!;
            return [
              ['perfusion.multi.layer.sim', tf.stack(sims)],
              ['perfusion.multi.layer.sigma', tf.stack(sims.map((s) => gateOf(s, infer)))],
              ['perfusion.multi.layer.K', exact.keys],
              ['perfusion.multi.layer.V', exact.values],
              ['perfusion.multi.alt_lucidrains_approx.layer.K', approx.keys],
              ['perfusion.multi.alt_lucidrains_approx.layer.V', approx.values],
            ] as [string, tf.Tensor][];
          });
          await read(outputs, entries);
        }
        const first = keep(noisy.slice([0, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D);
        await read(outputs, [
          ['perfusion.multi.encoder_hidden_states', e.clone()],
          ['perfusion.multi.model_pred', unetOn(first, e, perfusionHooks(both, concepts))],
          ['perfusion.multi.alt_lucidrains_approx.model_pred', unetOn(first, e, lucidrainsApproxHooks(both, concepts))],
        ]);
      }
    } finally {
      tf.dispose(owned);
      editInputsOwned.forEach(disposeEditInputs);
      targetsOwned.forEach((m) => tf.dispose([...m.values()]));
      ti.dispose();
      disposeBatch(batch);
    }
    return outputs;
  },
};

/** Our basis rows, each with the sign of the golden's row (a QR basis is defined up to row signs). */
async function signAligned(u: tf.Tensor2D, theirs: { data: ArrayLike<number> }): Promise<Float32Array> {
  const ours = (await u.data()) as Float32Array;
  const [rows, d] = u.shape;
  const out = ours.slice();
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += ours[r * d + i] * theirs.data[r * d + i];
    if (s < 0) for (let i = 0; i < d; i++) out[r * d + i] = -ours[r * d + i];
  }
  return out;
}
