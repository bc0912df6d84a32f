/**
 * The floors hold: the import graph of src/ has no upward or sideways import and no cycle
 * (src/test/floors.ts states the rules), and the page bundle holds no tensors.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { floorViolations, importCycles } from './test/floors';
import { readImportGraph, type ImportEdge } from './test/import-graph';

const ROOT = resolve(__dirname, '..');
const graph = readImportGraph(ROOT);

const edge = (from: string, to: string, spec: string): ImportEdge => ({ from, to, spec, typeOnly: false, line: 1 });

describe('floors', () => {
  it('reads the whole graph', () => {
    expect(graph.length).toBeGreaterThan(400);
    expect(graph.some((e) => e.from === 'src/model/unet.ts' && e.to === 'src/gpu/tf.ts')).toBe(true);
  });

  it('no import runs up a floor or sideways, and tfjs and WGSL stay in their rooms', () => {
    expect(floorViolations(graph)).toEqual([]);
  });

  it('no two files import each other, directly or round a loop', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('an engine import in a model file, a kernel importing a model, tfjs outside gpu/ and a test helper in production all fail', () => {
    const broken = [
      ...graph,
      edge('src/model/unet.ts', 'src/engine/engine.ts', '../engine/engine'),
      edge('src/kernels/group-norm.ts', 'src/model/config.ts', '../model/config'),
      edge('src/train/lora.ts', '@tensorflow/tfjs-core', '@tensorflow/tfjs-core'),
      edge('src/model/load.ts', 'src/test/compare.ts', '../test/compare'),
      edge('src/ui/App.tsx', 'src/bench/run.ts', '../bench/run'),
    ];
    expect(floorViolations(broken)).toEqual([
      "src/model/unet.ts:1 imports '../engine/engine': model/ (floor 3) imports up into engine/ (floor 6)",
      "src/kernels/group-norm.ts:1 imports '../model/config': kernels/ (floor 2) imports up into model/ (floor 3)",
      "src/train/lora.ts:1 imports '@tensorflow/tfjs-core': only gpu/ imports @tensorflow/tfjs-core",
      "src/model/load.ts:1 imports '../test/compare': production code imports test code",
      "src/ui/App.tsx:1 imports '../bench/run': ui/ imports its sibling bench/ on the same floor",
    ]);
  });

  it('a file importing back what imports it is a cycle', () => {
    const looped = [...graph, edge('src/gpu/tf-backend.ts', 'src/gpu/memory.ts', './memory')];
    expect(importCycles(looped).filter((c) => c.includes('src/gpu/memory.ts'))).toEqual([['src/gpu/memory.ts', 'src/gpu/tf-backend.ts']]);
  });
});

describe('page/engine boundary', () => {
  /** What the page bundle evaluates: main.tsx and its value imports, transitively (type imports are erased). */
  function pageModules(): { modules: Set<string>; edges: ImportEdge[] } {
    const byFile = new Map<string, ImportEdge[]>();
    for (const e of graph) if (!e.typeOnly) byFile.set(e.from, [...(byFile.get(e.from) ?? []), e]);
    const modules = new Set<string>();
    const edges: ImportEdge[] = [];
    const visit = (file: string) => {
      if (modules.has(file)) return;
      modules.add(file);
      for (const e of byFile.get(file) ?? []) {
        edges.push(e);
        if (e.to.startsWith('src/')) visit(e.to);
      }
    };
    visit('src/main.tsx');
    return { modules, edges };
  }

  it('the page bundle imports no tfjs, tensor runtime, kernels, shaders or engine', () => {
    const { modules, edges } = pageModules();
    expect(modules.has('src/engine/client.ts')).toBe(true);
    const forbidden = [/^@tensorflow\//, /^src\/(gpu|kernels)\//, /^shaders\//, /^src\/engine\/engine\.ts$/];
    expect(edges.filter((e) => forbidden.some((f) => f.test(e.to))).map((e) => `${e.from} -> ${e.spec}`)).toEqual([]);
  });
});
