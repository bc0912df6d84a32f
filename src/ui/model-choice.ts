/**
 * The model a person chose last, kept in localStorage so the next visit opens on it. A fresh
 * studio opens on the built-in model. A picked folder cannot be reopened without the person
 * (the browser forgets the files), so it is remembered by name only, to say so.
 */
import type { ModelSpec } from '../engine/protocol';

const KEY = 'studio.model';

export type ModelChoice =
  | { kind: 'builtin' }
  | { kind: 'hub'; repo: string; revision: string; endpoint?: string }
  | { kind: 'local'; label: string };

export function rememberModelChoice(spec: ModelSpec, label: string): void {
  const choice: ModelChoice =
    spec.kind === 'builtin' ? { kind: 'builtin' } : spec.kind === 'hub' ? { kind: 'hub', repo: spec.repo, revision: spec.revision ?? 'main', endpoint: spec.endpoint } : { kind: 'local', label };
  try {
    localStorage.setItem(KEY, JSON.stringify(choice));
  } catch {
    // Storage off (private mode): the next visit opens on the built-in model.
  }
}

/** The last choice; the built-in model when there is none or it cannot be read. */
export function rememberedModelChoice(): ModelChoice {
  let raw: unknown = null;
  try {
    raw = JSON.parse(localStorage.getItem(KEY) ?? 'null');
  } catch {
    raw = null;
  }
  const c = raw as Partial<Record<string, unknown>> | null;
  if (c?.kind === 'hub' && typeof c.repo === 'string' && typeof c.revision === 'string') {
    return { kind: 'hub', repo: c.repo, revision: c.revision, endpoint: typeof c.endpoint === 'string' ? c.endpoint : undefined };
  }
  if (c?.kind === 'local' && typeof c.label === 'string') return { kind: 'local', label: c.label };
  return { kind: 'builtin' };
}
