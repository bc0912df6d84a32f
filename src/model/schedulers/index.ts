/**
 * Samplers by name, built from a diffusers `scheduler_config.json` (whatever class wrote it) the
 * way `<Class>.from_config(config)` does; the training noise process is `DdpmScheduler`.
 */
import { DdimScheduler } from './ddim';
import { EulerDiscreteScheduler } from './euler';
import type { Json } from '../config';
import type { SamplerName } from '../text-to-image-options';

export { DdimScheduler, type SchedulerStep } from './ddim';
export { DdpmScheduler } from './ddpm';
export { EulerDiscreteScheduler } from './euler';

export { SAMPLER_NAMES, type SamplerName } from '../text-to-image-options';
export type Sampler = DdimScheduler | EulerDiscreteScheduler;

export function makeSampler(name: SamplerName, config: Json): Sampler {
  return name === 'ddim' ? DdimScheduler.fromConfig(config) : EulerDiscreteScheduler.fromConfig(config);
}
