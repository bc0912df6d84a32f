/**
 * The six training methods as New concept offers them: a name and one line on what each
 * trades (file size, identity, editability, time), so a person can choose without the papers.
 */
import type { TrainingMethod } from '../train/config';

export interface MethodChoice {
  method: TrainingMethod;
  label: string;
  /** What it trades, in one sentence. */
  trade: string;
}

export const METHOD_CHOICES: readonly MethodChoice[] = [
  { method: 'both', label: 'Token + LoRA (best identity)', trade: 'A new word and a small adapter: the closest likeness; a file of a few MB.' },
  { method: 'ti', label: 'Textual Inversion (a few KB)', trade: 'Only a new word (a few KB): follows prompts best, but holds the least of the subject.' },
  { method: 'lora', label: 'LoRA only', trade: 'A small adapter on the class word (a few MB): strong likeness, and the class word itself changes.' },
  {
    method: 'pplus',
    label: 'P+ (a word per layer)',
    trade: 'One word with its own vector at each of the 16 cross-attention layers (about 50 KB): more likeness than Textual Inversion, as editable, the same time per step.',
  },
  {
    method: 'dreambooth',
    label: 'DreamBooth-LoRA (keeps the class)',
    trade: 'A LoRA that also trains on images the model first draws of the class, so "a dog" still means any dog: drawing them takes extra time before the first step.',
  },
  {
    method: 'perfusion',
    label: 'Perfusion (key-locked edit)',
    trade: 'A tiny file (about 100 KB for SD 1.5) that keeps the likeness while following the prompt; its keys are locked to the class word, so the class word matters: about Textual Inversion\'s time per step plus the edit.',
  },
];

export function methodChoice(method: TrainingMethod): MethodChoice {
  return METHOD_CHOICES.find((m) => m.method === method) ?? METHOD_CHOICES[0];
}
