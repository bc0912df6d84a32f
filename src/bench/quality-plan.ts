/**
 * The quality benchmark's methods; its prompts (fidelity, edits, composition) are the shapes
 * world's (`world/quality-prompts.ts`).
 */
export const QUALITY_METHODS = ['baseline', 'ti', 'lora', 'both'] as const;
export type QualityMethod = (typeof QUALITY_METHODS)[number];
