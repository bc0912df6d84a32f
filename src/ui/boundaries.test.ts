/**
 * The page never holds tensors: nothing the page loads (src/main.tsx and every module it imports,
 * transitively) may import tfjs, kernels or shaders. Only the engine worker does.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const FORBIDDEN = [/^@tensorflow\//, /\/kernels\//, /\/shaders\//, /\/engine\/tf(-backend)?$/, /\/engine\/engine$/];

function resolveModule(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`]) if (existsSync(candidate) && !candidate.endsWith('.css') && candidate.match(/\.tsx?$/)) return candidate;
  return null;
}

function pageImports(entry: string): { module: string; spec: string }[] {
  const seen = new Set<string>();
  const found: { module: string; spec: string }[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^\s*import\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
      if (m[1]) continue; // type-only imports are erased
      found.push({ module: file, spec: m[2] });
      const next = resolveModule(file, m[2]);
      if (next) visit(next);
    }
  };
  visit(entry);
  return found;
}

describe('page/engine boundary', () => {
  it('the page bundle imports no tfjs, kernels or shaders', () => {
    const imports = pageImports(resolve(__dirname, '../main.tsx'));
    expect(imports.length).toBeGreaterThan(5);
    expect(imports.some((i) => i.spec.includes('engine/client'))).toBe(true);
    const offending = imports.filter((i) => FORBIDDEN.some((f) => f.test(i.spec)));
    expect(offending).toEqual([]);
  });
});
