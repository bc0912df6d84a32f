/** The last prompts generated from, newest first, kept in this browser's localStorage. */

export const HISTORY_LENGTH = 50;
const KEY = 'studio.prompt-history';

/** `history` with `prompt` at its front (once), at most `max` long. */
export function rememberPrompt(history: readonly string[], prompt: string, max = HISTORY_LENGTH): string[] {
  const p = prompt.trim();
  if (!p) return [...history];
  return [p, ...history.filter((h) => h !== p)].slice(0, max);
}

/** Prompts holding every word of `query` (case ignored). */
export function searchHistory(history: readonly string[], query: string): string[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return history.filter((h) => words.every((w) => h.toLowerCase().includes(w)));
}

export function loadHistory(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): string[] {
  try {
    const value: unknown = JSON.parse(storage?.getItem(KEY) ?? '[]');
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

export function saveHistory(history: readonly string[], storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(KEY, JSON.stringify(history));
  } catch {
    // Storage full or blocked: the history lasts this visit only.
  }
}
