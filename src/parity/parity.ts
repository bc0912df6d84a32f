/** Runs every parity check a golden supports and reports one line per golden tensor. */
import type { StableDiffusionModel } from '../model/load';
import { CHECKS } from './checks';
import { compareTensor, formatLine, suggestedTolerance, type ParityLine } from './compare';
import type { Golden } from './golden';
import type { ParityCheck } from './check-tools';

export async function runParity(model: StableDiffusionModel, golden: Golden, print: (line: string) => void, checks: readonly ParityCheck[] = CHECKS): Promise<ParityLine[]> {
  const lines: ParityLine[] = [];
  for (const check of checks) {
    if (!check.needs.every((n) => golden.has(n))) continue;
    const outputs = await check.run(model, golden);
    for (const [name, why] of check.skipped?.(golden) ?? []) print(`${name} skipped: ${why}`);
    for (const [name, ours] of outputs) {
      if (!golden.has(name)) continue;
      const g = await golden.get(name);
      const line = compareTensor(name, ours, g.data, g.data instanceof Int32Array, suggestedTolerance(golden.json, name));
      lines.push(line);
      print(formatLine(line));
    }
  }
  return lines;
}
