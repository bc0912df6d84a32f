/**
 * Per-layer prompt tokens (P+, Voynov et al. 2023): a P+ concept's token stands for a different
 * embedding at each cross-attention layer. A `LayerTokenMap` maps the id a prompt is tokenized
 * to (the concept's token) to its id at each layer l (forward order, `cross-attention.ts`), so
 * layer l's prompt is the prompt with every such id replaced by its layer-l id.
 */
export type LayerTokenMap = ReadonlyMap<number, readonly number[]>;

/** The rows every layer reads, deduplicated: `unique` rows to encode once, `index[l]` the rows of layer l in order. */
export interface LayerRows {
  unique: number[][];
  index: number[][];
}

/** Layer l's copy of `row`: each mapped id replaced by its layer-l id. */
export function rowAtLayer(row: readonly number[], map: LayerTokenMap, l: number): number[] {
  return row.map((id) => map.get(id)?.[l] ?? id);
}

/** True when some row holds a mapped id (then the layers' prompts differ). */
export function usesLayerTokens(rows: readonly (readonly number[])[], map: LayerTokenMap): boolean {
  return rows.some((row) => row.some((id) => map.has(id)));
}

/** The rows of every layer (`layers` of them), each distinct row once. */
export function layerRows(rows: readonly (readonly number[])[], map: LayerTokenMap, layers: number): LayerRows {
  for (const [id, ids] of map) if (ids.length !== layers) throw new Error(`layer tokens: id ${id} has ${ids.length} layer ids, ${layers} layers.`);
  const unique: number[][] = [];
  const at = new Map<string, number>();
  const index = Array.from({ length: layers }, (_, l) =>
    rows.map((row) => {
      const r = rowAtLayer(row, map, l);
      const key = r.join(',');
      let i = at.get(key);
      if (i === undefined) {
        i = unique.push(r) - 1;
        at.set(key, i);
      }
      return i;
    }),
  );
  return { unique, index };
}
