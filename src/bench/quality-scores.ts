/** What the quality benchmark reports for one (concept, method); the scores are the shapes world's (`world/concept-quality.ts`). */
import type { AttributeAccuracy, FidelityScores } from '../world/concept-quality';
import type { QualityMethod } from './quality-plan';

/** What the benchmark reports for one (concept, method). */
export interface QualityRecord {
  concept: string;
  method: QualityMethod;
  steps: number;
  fidelity: FidelityScores;
  editability: AttributeAccuracy;
  /** With the next concept in one prompt (same method): fraction of halves in their concept's colours. */
  composition: number | null;
  secondsPerStep: number | null;
  trainSeconds: number;
  totalSeconds: number;
  /** Bytes of the concept's files (embedding, LoRA kohya F16), 0 for the baseline. */
  fileBytes: number;
}
