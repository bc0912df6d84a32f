/**
 * What the composer is filled with: from a gallery image's settings ("Use these settings"), or
 * from a PNG's A1111 infotext, where what does not apply (a sampler the studio lacks, a LoRA or
 * embedding the library lacks, another model, keys the studio ignores) is said in `notes`.
 * Plain data, no React.
 */
import { kohyaLoraName } from '../../library/concept-file-names';
import type { GenerationSettings } from '../../library/generation-settings';
import { parseParameters, studioSampler } from '../../library/png-parameters';
import { promptUsesToken } from '../../model/prompt-tokens';
import type { SamplerName } from '../../model/text-to-image-options';
import { unknownTokens } from './token-autocomplete';
import { trainsLora } from '../../train/config';

/** Form values to set; a field left out keeps the form's. */
export interface ComposerFill {
  prompt: string;
  negativePrompt: string;
  steps?: number;
  guidanceScale?: number;
  sampler?: SamplerName;
  /** A fixed seed. */
  seed?: number;
  size?: number;
  /** LoRA strengths for this prompt, by concept id. */
  strengths: Record<string, number>;
  /** What did not apply, one sentence each. */
  notes: string[];
}

/** A gallery image's settings, exactly. */
export function fillOfSettings(s: GenerationSettings): ComposerFill {
  const strengths = Object.fromEntries(s.concepts.filter((c) => trainsLora(c.method)).map((c) => [c.id, c.strength]));
  return { prompt: s.prompt, negativePrompt: s.negativePrompt, steps: s.steps, guidanceScale: s.guidanceScale, sampler: s.sampler, seed: s.seed, size: s.width, strengths, notes: [] };
}

interface LibraryConcept {
  id: string;
  token: string;
}

/** The library concept an A1111 LoRA tag names: by its kohya file name, or by its token without brackets. */
function conceptOfLora<T extends LibraryConcept>(concepts: readonly T[], name: string): T | undefined {
  const n = name.toLowerCase();
  return concepts.find((c) => kohyaLoraName(c.token).toLowerCase() === n || c.token.replace(/^<|>$/g, '').toLowerCase() === n || c.token.toLowerCase() === n);
}

const positive = (n: number) => Number.isFinite(n) && n > 0;

/** A PNG's `parameters` text read against the library and the loaded model's name. */
export function fillOfInfotext(text: string, concepts: readonly LibraryConcept[], modelName: string | null): ComposerFill {
  const p = parseParameters(text);
  const notes: string[] = [];
  let prompt = p.prompt;
  const strengths: Record<string, number> = {};
  const missingLoras: string[] = [];
  for (const lora of p.loras) {
    const concept = conceptOfLora(concepts, lora.name);
    if (!concept) {
      missingLoras.push(lora.name);
      continue;
    }
    strengths[concept.id] = lora.strength;
    if (!promptUsesToken(prompt, concept.token)) prompt = prompt ? `${prompt} ${concept.token}` : concept.token;
  }
  if (missingLoras.length > 0) notes.push(`LoRA not in your library, left out: ${missingLoras.join(', ')}.`);
  const unknown = unknownTokens(concepts, prompt, p.negativePrompt);
  if (unknown.length > 0) notes.push(`Not in your library (kept as text): ${unknown.join(', ')}.`);
  const sampler = studioSampler(p.sampler) as SamplerName | null;
  if (p.sampler && !sampler) notes.push(`Sampler “${p.sampler}” is not in the studio: the form's sampler is kept.`);
  if (p.model && modelName !== null && p.model !== modelName) notes.push(`Made with the model “${p.model}”; ${modelName} is loaded, so the image will differ.`);
  const size = positive(p.width) ? p.width : undefined;
  if (size !== undefined && p.height !== p.width) notes.push(`Size ${p.width}×${p.height}: the studio makes square images, so ${size}×${size}.`);
  const extra = Object.keys(p.extra);
  if (extra.length > 0) notes.push(`Ignored: ${extra.join(', ')}.`);
  const unread = [['Steps', p.steps], ['CFG scale', p.guidanceScale], ['Seed', p.seed]].filter(([, v]) => !Number.isFinite(v)).map(([k]) => k);
  if (unread.length > 0) notes.push(`Not in the file, the form's kept: ${unread.join(', ')}.`);
  return {
    prompt,
    negativePrompt: p.negativePrompt,
    ...(positive(p.steps) && { steps: Math.round(p.steps) }),
    ...(Number.isFinite(p.guidanceScale) && { guidanceScale: p.guidanceScale }),
    ...(sampler && { sampler }),
    ...(Number.isInteger(p.seed) && p.seed >= 0 && { seed: p.seed }),
    ...(size !== undefined && { size }),
    strengths,
    notes,
  };
}
