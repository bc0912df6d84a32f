/** Library concepts at one prompt's LoRA strengths (by concept id); the rest keep their stored ones. */
export function atPromptStrengths<T extends { id: string; lora: unknown; loraStrength: number }>(concepts: readonly T[], strengths: Record<string, number>): T[] {
  return concepts.map((c) => (c.lora && strengths[c.id] !== undefined ? { ...c, loraStrength: strengths[c.id] } : c));
}
