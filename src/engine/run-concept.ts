/**
 * A training run's concept from its checkpoint (concept-files.ts), with what only the model can
 * give: a P+ run's layer paths, and a Perfusion run's edit (its locked keys W_k i_super and
 * C⁻¹ i*), at the inference gate (Perfusion's bias 0.7, temperature 0.15).
 */
import { StudioError } from '../common/errors';
import type { StableDiffusionModel } from '../model/load';
import { crossAttentionPaths } from '../model/cross-attention';
import type { Checkpoint } from '../train/checkpoint';
import { perfusionEditOf } from '../train/perfusion-training';
import { INFERENCE_GATE } from '../train/rank-one-edit';
import { conceptFromCheckpoint, type ConceptData } from './concept-files';

export async function conceptOfRun(c: Checkpoint, runId: string, model: StableDiffusionModel | undefined, covarianceInverse: () => Promise<Float32Array>): Promise<ConceptData> {
  const concept = conceptFromCheckpoint(c, runId, model ? crossAttentionPaths(model.unet.config) : undefined);
  if (c.config.method !== 'perfusion') return concept;
  if (!model) throw new StudioError('InvalidRequest', "This Perfusion run's edit needs the model it was trained on.", 'Load that model, then save the concept.');
  if (!c.perfusion) throw new StudioError('InvalidRequest', 'This Perfusion run has not taken a step yet: there is no edit to save.', 'Resume it for a few steps first.');
  const edit = await perfusionEditOf(model.unet, await covarianceInverse(), c);
  return { ...concept, perfusion: { ...edit, gateBias: INFERENCE_GATE.beta, gateTemperature: INFERENCE_GATE.tau }, method: 'perfusion' };
}
