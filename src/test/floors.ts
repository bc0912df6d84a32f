/**
 * The studio's floors, bottom to top, and the rules its import graph keeps (docs/architecture.md):
 * a file imports its own room (folder under src/) or a room on a lower floor, never up and never
 * sideways; tfjs is imported by the tensor runtime alone and WGSL by the kernels alone; no
 * production file imports test code; no two files import each other, directly or round a loop.
 */
import type { ImportEdge } from './import-graph';

export const FLOORS: readonly (readonly string[])[] = [
  ['common'], // the error type: imports nothing of the studio
  ['gpu', 'storage', 'world'], // the tensor runtime (tfjs on our device, memory probes); IndexedDB helpers (tf-free); the shapes world (tf-free)
  ['kernels'], // differentiable WGSL ops and their benchmark plumbing
  ['model', 'features'], // Stable Diffusion 1.x: configs, weights, text encoder, UNet, VAE, schedulers, sources; the feature models (CLIP, DINOv2 via transformers.js) and their scores
  ['train'], // personalization: trainer config and loop, checkpoints, interop files
  ['library'], // the concept library and training runs in IndexedDB (tf-free)
  ['engine'], // the worker's engine, its protocol and the page's client
  ['ui', 'bench', 'parity'], // the page; the Node tools (benchmarks, parity)
  ['cli'], // the `studio` command line (it runs the quality benchmark too)
];

/** Packages only one room may import. */
const GATED_PACKAGES: readonly [RegExp, string][] = [[/^@tensorflow\//, 'gpu']];

export type Place = { kind: 'room'; room: string; floor: number } | { kind: 'test' } | { kind: 'shader' } | { kind: 'package' } | { kind: 'other' };

export function isTestCode(path: string): boolean {
  return path.startsWith('src/test/') || /\.(test|testing)\.tsx?$/.test(path);
}

export function placeOf(path: string): Place {
  if (!path.startsWith('src/') && !path.startsWith('shaders/')) return path.startsWith('.') || path.includes('/') && path.endsWith('.ts') ? { kind: 'other' } : { kind: 'package' };
  if (path.startsWith('shaders/')) return { kind: 'shader' };
  if (isTestCode(path)) return { kind: 'test' };
  const room = path === 'src/main.tsx' ? 'ui' : path.split('/')[1];
  const floor = FLOORS.findIndex((rooms) => rooms.includes(room));
  return floor < 0 ? { kind: 'other' } : { kind: 'room', room, floor };
}

/** Every import that breaks a floor rule, as `file:line imports 'spec': why`. */
export function floorViolations(edges: readonly ImportEdge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = placeOf(e.from);
    const to = placeOf(e.to);
    const say = (why: string) => out.push(`${e.from}:${e.line} imports '${e.spec}': ${why}`);
    if (from.kind === 'other') {
      say(`${e.from} is in no floor (add its folder to FLOORS in src/test/floors.ts)`);
      continue;
    }
    if (from.kind !== 'room') continue; // tests may reach any floor
    if (to.kind === 'test') say('production code imports test code');
    else if (to.kind === 'shader' && from.room !== 'kernels') say('only kernels/ imports WGSL');
    else if (to.kind === 'package') {
      const gate = GATED_PACKAGES.find(([pattern]) => pattern.test(e.to));
      if (gate && gate[1] !== from.room) say(`only ${gate[1]}/ imports ${e.to}`);
    } else if (to.kind === 'room' && to.room !== from.room) {
      if (to.floor > from.floor) say(`${from.room}/ (floor ${from.floor}) imports up into ${to.room}/ (floor ${to.floor})`);
      else if (to.floor === from.floor) say(`${from.room}/ imports its sibling ${to.room}/ on the same floor`);
    }
  }
  return out;
}

/** Import cycles between files (type-only imports included): each set of files that reach each other, sorted. */
export function importCycles(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) if (e.to.startsWith('src/')) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return cycles;
}
