/** Test-only access to tiny-sd-golden-methods (Perfusion, P+, DreamBooth goldens; its README lists every tensor). */
import { readFileSync } from 'node:fs';
import { fixturePath, parseSafetensors, type GoldenTensor } from './golden';

let cache: Map<string, GoldenTensor> | undefined;

export function methodsGolden(name: string): GoldenTensor {
  cache ??= parseSafetensors(readFileSync(fixturePath('tiny-sd-golden-methods/golden.safetensors')));
  const t = cache.get(name);
  if (!t) throw new Error(`methods golden tensor ${name} not found`);
  return t;
}

/** Its suggested tolerance (max abs error ≤ tol · max |golden|), from golden.json. */
export function methodsTolerance(name: string): number {
  const json = methodsJson() as { tensors: Record<string, { suggested_tolerance?: unknown }> };
  const tol = json.tensors[name]?.suggested_tolerance;
  if (typeof tol !== 'number') throw new Error(`methods golden tensor ${name} has no numeric tolerance`);
  return tol;
}

let json: Record<string, unknown> | undefined;
export function methodsJson(): Record<string, unknown> {
  json ??= JSON.parse(readFileSync(fixturePath('tiny-sd-golden-methods/golden.json'), 'utf8')) as Record<string, unknown>;
  return json;
}
