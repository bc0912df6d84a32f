/** The quality benchmark's records as README's Markdown table. */
import type { QualityRecord } from './quality-scores';

const f = (x: number | null | undefined, digits = 0) => (x === null || x === undefined ? '–' : x.toFixed(digits));
const pct = (x: number | undefined) => (x === undefined ? '–' : `${Math.round(x * 100)}%`);

export function qualityTable(records: readonly QualityRecord[]): string {
  const head = '| concept | method | fg colour dist ↓ | mask IoU ↑ | nearest photo L1 | bg dist | edit: background | edit: position | edit: size | two concepts | s/step | train s | file |';
  const rows = records.map((r) => {
    const d = r.fidelity;
    const e = r.editability;
    const file = r.fileBytes ? `${(r.fileBytes / 1024).toFixed(1)} KB` : '–';
    return `| ${r.concept} | ${r.method} | ${f(d.fgColorDist)} | ${f(d.maskIou, 2)} | ${f(d.nearestPhotoL1)} | ${f(d.bgDist)} | ${pct(e.background)} | ${pct(e.position)} | ${pct(e.size)} | ${r.composition === null ? '–' : pct(r.composition)} | ${f(r.secondsPerStep, 2)} | ${f(r.trainSeconds)} | ${file} |`;
  });
  return [head, `|${' --- |'.repeat(13)}`, ...rows].join('\n');
}
