/** What a library concept applies, as the composer's chips and completions name it. */
export function conceptKindLabel(c: { embeddingVectors: number; loraLayers: number }): string {
  if (c.embeddingVectors > 0 && c.loraLayers > 0) return 'embedding + LoRA';
  return c.loraLayers > 0 ? 'LoRA' : 'embedding';
}
