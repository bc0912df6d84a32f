/**
 * The page's library actions: the concepts in IndexedDB (in this page): list, import, edit,
 * delete, and generating with the ones a prompt uses. Nothing here leaves the device: files are
 * read locally and go only to this tab's engine worker.
 */
import { conceptsInPrompt, conceptUse, conceptWeights, type Concept } from '../library/concept';
import { IndexedDbConceptStore, type ConceptChange } from '../library/concept-store';
import type { GenerateRequest } from '../engine/protocol';
import { atPromptStrengths } from './composer/prompt-strengths';
import { importNotice, type ImportOutcome } from './import-notice';
import { noticeOf } from './notice';
import { engineClient, generate, serialize, showSection, useStudio, type Notice, type PartialImport } from './store';

/** The library's concepts (IndexedDB). */
export const conceptStore = new IndexedDbConceptStore();

/** Says what the last library action did. */
export function notify(notice: Notice | null): void {
  useStudio.setState((s) => ({ library: { ...s.library, notice } }));
}

export async function refreshLibrary(): Promise<void> {
  try {
    const listing = await conceptStore.list();
    useStudio.setState((s) => ({ library: { ...s.library, loaded: true, concepts: listing.concepts, unreadable: listing.unreadable } }));
  } catch (e) {
    useStudio.setState((s) => ({ library: { ...s.library, loaded: true, notice: noticeOf(e) } }));
  }
}

/**
 * Imports embedding and LoRA files; each refused file is named with why, and changes nothing. A
 * file that also holds layers the studio does not apply waits in `library.partial` for the
 * person to import it anyway (`allowPartial`) or leave it out.
 */
export async function importConceptFiles(files: readonly File[], allowPartial = false): Promise<void> {
  const client = engineClient();
  if (!client || files.length === 0) return;
  const done: string[] = [];
  const notes: ImportOutcome['notes'] = [];
  const refused: ImportOutcome['refused'] = [];
  const partial: PartialImport[] = [];
  for (const file of files) {
    try {
      const { tokenNote, ...data } = await client.request('importConcept', { file, fileName: file.name, allowPartial });
      await conceptStore.put({ ...data, id: crypto.randomUUID(), photos: [], loraStrength: 1 });
      done.push(data.token);
      // a token made from the file name is shown: keep it, or rename the concept in its card
      if (tokenNote) notes.push({ fileName: file.name, note: tokenNote });
    } catch (e) {
      const error = serialize(e);
      if (error.name === 'ImportPartial') partial.push({ file, message: error.message });
      else refused.push({ fileName: file.name, message: error.message });
    }
  }
  const settled = new Set(files);
  useStudio.setState((s) => ({ library: { ...s.library, partial: [...s.library.partial.filter((p) => !settled.has(p.file)), ...partial] } }));
  await refreshLibrary();
  notify(done.length > 0 || refused.length > 0 ? importNotice({ imported: done, notes, refused }) : null);
}

/** Forgets a file waiting in `library.partial`, importing nothing. */
export function leaveOutPartial(file: File): void {
  useStudio.setState((s) => ({ library: { ...s.library, partial: s.library.partial.filter((p) => p.file !== file) } }));
}

export async function deleteConcept(id: string): Promise<void> {
  try {
    await conceptStore.delete(id);
    notify(null);
  } catch (e) {
    notify(noticeOf(e));
  }
  await refreshLibrary();
}

export async function updateConcept(id: string, change: ConceptChange): Promise<void> {
  try {
    await conceptStore.update(id, change);
  } catch (e) {
    notify(noticeOf(e));
  }
  await refreshLibrary();
}

/**
 * Generates (queued) with the library concepts whose tokens the prompts use, each LoRA at this
 * prompt's strength where `strengths` (by concept id) has one, else at its stored strength.
 */
export async function generateWithConcepts(options: GenerateRequest, strengths: Record<string, number> = {}): Promise<void> {
  const used = conceptsInPrompt(useStudio.getState().library.concepts, options.prompt, options.negativePrompt ?? '');
  const stored = (await Promise.all(used.map((c) => conceptStore.get(c.id)))).filter((c): c is Concept => c !== null);
  const full = atPromptStrengths(stored, strengths);
  await generate({ ...options, concepts: full.map(conceptWeights) }, full.map(conceptUse));
}

/** Writes a token into the prompt box of the Generate section. */
export function putConceptInPrompt(token: string): void {
  useStudio.setState({ promptInsert: { token, at: Date.now() } });
  showSection('generate');
}
