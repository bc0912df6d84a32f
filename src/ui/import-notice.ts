/**
 * What the library says after an import: one line per refused file, the file named once (the
 * engine's refusals often start with the file name already), then what was imported.
 */
import type { Notice } from './store';

export interface ImportOutcome {
  /** Tokens of the concepts added. */
  imported: string[];
  /** Notes on imported files (a token made from the file name), by file. */
  notes: { fileName: string; note: string }[];
  /** Refused files with the engine's reason. */
  refused: { fileName: string; message: string }[];
}

/** "name.safetensors: why", the name written once: a message that starts with it stays as it is. */
export function fileLine(fileName: string, message: string): string {
  return message.startsWith(fileName) ? message : `${fileName}: ${message}`;
}

export function importNotice({ imported, notes, refused }: ImportOutcome): Notice {
  const noted = notes.map((n) => fileLine(n.fileName, n.note));
  const added = imported.length > 0 ? `Imported ${imported.join(', ')}.` : '';
  if (refused.length === 0) return { tone: 'ok', message: added, ...(noted.length > 0 && { items: noted }) };
  return {
    tone: 'error',
    message: refused.length === 1 ? 'This file was not imported:' : `These ${refused.length} files were not imported:`,
    items: [...refused.map((r) => fileLine(r.fileName, r.message)), ...noted],
    hint: [added, 'The library is unchanged for the files that were refused.'].filter(Boolean).join(' '),
  };
}
