/** What a library concept applies, as the composer's chips and completions name it. */
import type { ConceptSummary } from '../../library/concept-record';
import { summaryMethod } from '../concept-method-label';

/** Short: the chip sits beside the token (the library card says the rest). */
export function conceptKindLabel(c: ConceptSummary): string {
  switch (summaryMethod(c)) {
    case 'pplus':
      return 'P+ embedding';
    case 'perfusion':
      return 'Perfusion';
    case 'dreambooth':
      return 'DreamBooth-LoRA';
    case 'both':
      return 'embedding + LoRA';
    case 'lora':
      return 'LoRA';
    default:
      return 'embedding';
  }
}
