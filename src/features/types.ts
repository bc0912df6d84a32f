/**
 * The feature models' plain data: where they come from, what they weigh, and the scores and class
 * suggestions they give. Structured-clonable; no transformers.js here.
 */

/** onnxruntime-web's files as the app serves them (never a CDN): a URL prefix, or the two files. */
export type OrtWasmPaths = string | { mjs: string; wasm: string };

export const DEFAULT_CLIP_REPO = 'Xenova/clip-vit-base-patch32';
export const DEFAULT_DINO_REPO = 'Xenova/dinov2-small';
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/** Where the feature models come from: the hub (default https://huggingface.co; tests: the local hub stand-in) or, in Node, a folder. */
export type FeatureModelSource =
  | {
      kind: 'hub';
      endpoint?: string;
      /** Defaults Xenova/clip-vit-base-patch32, Xenova/dinov2-small. */
      clip?: string;
      dino?: string;
      revision?: string;
      /** Browser: where onnxruntime-web's wasm is served from (the page's own origin). */
      wasmPaths?: OrtWasmPaths;
    }
  /** Node only (CLI, tests): absolute folders in the transformers.js layout. */
  | { kind: 'folder'; clip: string; dino: string };

export interface FeatureModelStatus {
  role: 'clip' | 'dino';
  repo: string;
  /** Bytes to download (or held when cached). */
  bytes: number;
  cached: boolean;
}

/** DreamBench's three numbers: identity (CLIP-I, DINO) and editability (CLIP-T), mean cosines. */
export interface EvaluationScores {
  clipI: number;
  clipT: number;
  dino: number;
}

export interface ClassSuggestion {
  /** Best first. */
  classes: { word: string; score: number }[];
  /** Mean mutual CLIP-I of the photos (1 with a single photo). */
  coherence: number;
  /** The photos look like several different subjects. */
  mixed: boolean;
}

/** An image as the studio passes them around: RGBA, 8 bits per channel, row-major. */
export interface FeatureImage {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}
