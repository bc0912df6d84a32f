/**
 * The question asked before the feature models download: how much is still to fetch (models
 * already in the browser are not counted); none left to fetch, no question.
 */
import type { FeatureModelStatus } from '../engine/protocol';
import { formatBytes } from './format';

export interface DownloadQuestion {
  /** Bytes still to download. */
  bytes: number;
  /** "Download 350 MiB of feature models?" */
  question: string;
  /** The models it fetches, e.g. "Xenova/clip-vit-base-patch32 (CLIP, 290 MiB)". */
  models: string[];
}

const ROLE = { clip: 'CLIP', dino: 'DINOv2' } as const;

export function downloadQuestion(statuses: readonly FeatureModelStatus[]): DownloadQuestion | null {
  const missing = statuses.filter((s) => !s.cached);
  if (missing.length === 0) return null;
  const bytes = missing.reduce((sum, s) => sum + s.bytes, 0);
  return {
    bytes,
    question: `Download ${formatBytes(bytes)} of feature models?`,
    models: missing.map((s) => `${s.repo} (${ROLE[s.role]}, ${formatBytes(s.bytes)})`),
  };
}

/** Bytes the feature models hold in this browser. */
export function cachedFeatureBytes(statuses: readonly FeatureModelStatus[]): number {
  return statuses.filter((s) => s.cached).reduce((sum, s) => sum + s.bytes, 0);
}
