/**
 * `studio inspect FILE`: what the studio reads from a concept file, exactly as import would
 * (`engine.inspectConcept` on the loaded model's configs), or the refusal with its named reason
 * (exit 1). `--json` prints one object; `--delta-out` writes each adapted module's effective ΔW
 * at strength 1 (F32, keyed by its diffusers module path, shaped like the module's weight).
 */
import { openAsBlob } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Engine } from '../engine/engine';
import { writeSafetensors } from '../model/safetensors-writer';
import type { SafetensorsTensor } from '../model/safetensors-dtypes';
import type { ImportedPersonalization } from '../train/formats/import';
import { describeLeftOut } from '../train/formats/lora-import';
import { effectiveDelta, layerRank } from '../train/formats/lora-layout';
import { diffusersModulePath } from '../train/formats/lora-modules';
import { createEngine, startWithModel } from './engine';
import { oneAnswer, shownPath, type Output } from './progress';
import { EXIT, modelOptions, type AddCommand } from './usage';

export interface InspectArgs {
  model: string;
  endpoint?: string;
  json?: boolean;
  deltaOut?: string;
  allowPartial?: boolean;
}

/** The JSON answer, as the issue's tools expect it. */
export interface Inspection {
  kind: 'embedding' | 'lora' | 'perfusion';
  format: string;
  tokens: string[];
  vectors: number[][];
  layers: { module: string; rank: number; alpha: number; scale: number }[];
  left_out: string[];
  /** A Perfusion file's key-locked edit: the attn2 modules whose K and V it edits, and its gate. */
  edit?: { layers: string[]; gate_bias: number; gate_temperature: number };
}

export function inspection(imported: ImportedPersonalization): Inspection {
  if (imported.kind === 'layer-embeddings') {
    // a P+ file: one vector per cross-attention layer, in the model's forward order
    const { token, layers, dim, vectors, layout } = imported;
    const rows = layers.map((_, l) => Array.from(vectors.subarray(l * dim, (l + 1) * dim)));
    return { kind: 'embedding', format: layout === 'kohya-xti' ? 'pplus kohya-xti' : 'pplus per-layer', tokens: [token], vectors: rows, layers: [], left_out: [] };
  }
  if (imported.kind === 'perfusion') {
    // a Perfusion file: its token vector and the cross-attention layers its rank-1 K/V edit covers
    const { layers, gateBias, gateTemperature } = imported.perfusion;
    const edit = { layers: layers.map((l) => `unet.${l}`), gate_bias: gateBias, gate_temperature: gateTemperature };
    return { kind: 'perfusion', format: 'perfusion key-locked', tokens: [imported.token], vectors: [Array.from(imported.embedding)], layers: [], left_out: [], edit };
  }
  if (imported.kind === 'embedding') {
    const { token, nVectors, dim, vectors, layout } = imported;
    const rows = Array.from({ length: nVectors }, (_, i) => Array.from(vectors.subarray(i * dim, (i + 1) * dim)));
    return { kind: 'embedding', format: layout, tokens: [token], vectors: rows, layers: [], left_out: [] };
  }
  const layers = imported.layers.map((l) => ({ module: diffusersModulePath(l.component, l.path), rank: layerRank(l), alpha: l.alpha, scale: l.alpha / layerRank(l) }));
  const token = imported.metadata['studio.token'];
  return { kind: 'lora', format: imported.layout, tokens: token ? [token] : [], vectors: [], layers, left_out: imported.leftOut.map((l) => describeLeftOut([l])) };
}

function describe(name: string, i: Inspection): string[] {
  if (i.kind === 'perfusion' && i.edit) {
    return [
      `${name}: Perfusion key-locked edit, token ${i.tokens[0]}, 1 vector of ${i.vectors[0].length}; rank-1 K/V edits on ${i.edit.layers.length} cross-attention layers (gate bias ${i.edit.gate_bias}, temperature ${i.edit.gate_temperature})`,
      ...i.edit.layers.map((l) => `  ${l}`),
    ];
  }
  if (i.format.startsWith('pplus')) return [`${name}: P+ embedding (${i.format === 'pplus kohya-xti' ? "kohya's XTI layout" : 'per-layer'}), token ${i.tokens[0]}, ${i.vectors.length} cross-attention layer vectors of ${i.vectors[0]?.length ?? 0}`];
  if (i.kind === 'embedding') return [`${name}: textual-inversion embedding (${i.format}), token ${i.tokens[0]}, ${i.vectors.length} vector(s) of ${i.vectors[0]?.length ?? 0}`];
  const te = i.layers.filter((l) => l.module.startsWith('text_encoder.')).length;
  const width = Math.max(...i.layers.map((l) => l.module.length));
  return [
    `${name}: LoRA (${i.format}), ${i.layers.length} layers (${i.layers.length - te} UNet, ${te} text encoder)${i.tokens.length ? `, token ${i.tokens[0]}` : ''}`,
    `  ${'module'.padEnd(width)}  rank  alpha  scale`,
    ...i.layers.map((l) => `  ${l.module.padEnd(width)}  ${String(l.rank).padStart(4)}  ${String(+l.alpha.toPrecision(6)).padStart(5)}  ${+l.scale.toPrecision(6)}`),
    ...i.left_out.map((l) => `Left out: ${l}`),
  ];
}

/** Each adapted module's ΔW at strength 1, keyed by its diffusers module path. */
export function deltaFile(imported: ImportedPersonalization): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  if (imported.kind === 'lora') {
    for (const l of imported.layers) {
      const { shape, data } = effectiveDelta(l);
      tensors[diffusersModulePath(l.component, l.path)] = { dtype: 'F32', shape, data };
    }
  }
  return writeSafetensors(tensors, { format: 'pt' });
}

export async function inspect(file: string, a: InspectArgs, out: Output, engineFor: () => Promise<Engine> = createEngine): Promise<number> {
  const engine = await engineFor();
  await startWithModel(engine, a.model, a.endpoint, oneAnswer(out));
  const imported = await engine.inspectConcept({ file: await openAsBlob(file), fileName: basename(file), allowPartial: a.allowPartial });
  const answer = inspection(imported);
  if (a.deltaOut) {
    if (imported.kind !== 'lora') out.note(`${basename(file)} is ${imported.kind === 'perfusion' ? 'a Perfusion edit (gated per token, not a fixed ΔW)' : 'an embedding'}: no ΔW to write.`);
    else {
      await writeFile(a.deltaOut, deltaFile(imported));
      out.note(`Wrote each layer's ΔW to ${shownPath(a.deltaOut)}`);
    }
  }
  out.result({ event: 'inspect', file: basename(file), ...answer }, describe(basename(file), answer).join('\n'));
  return EXIT.ok;
}

export const addInspectCommand: AddCommand = (program, run) => {
  const command = program
    .command('inspect')
    .description('what the studio reads from an embedding or LoRA file (or why it refuses it)')
    .argument('<file>', 'a .safetensors (or .pt / .bin embedding) file');
  modelOptions(command, { default: 'builtin' })
    .option('--json', 'one JSON object on stdout')
    .option('--delta-out <file>', "write each adapted module's effective ΔW at strength 1 (F32 safetensors)")
    .option('--allow-partial', 'read a file with unsupported (LoHa, LoKr, DoRA, …) layers for the rest')
    .action((file: string, args: InspectArgs) => run(args.json, (out) => inspect(file, args, out)));
};
