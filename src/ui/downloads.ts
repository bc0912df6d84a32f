/**
 * Concepts saved as files other tools read (embedding, LoRA), through the browser's download:
 * the engine writes the bytes, the page hands them to the user. Failures go to the library notice.
 */
import type { ConceptExport } from '../engine/protocol';
import { conceptStore, notify } from './library';
import { noticeOf } from './notice';
import { engineClient } from './store';

export function saveFile(fileName: string, bytes: Uint8Array, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Saves a library concept as a file other tools read. */
export async function downloadConcept(id: string, what: ConceptExport): Promise<void> {
  const client = engineClient();
  try {
    const concept = await conceptStore.get(id);
    if (!client || !concept) return;
    const { photos: _photos, id: _id, loraStrength: _strength, textEncoderStrength: _te, ...data } = concept;
    const { fileName, bytes } = await client.request('exportConcept', { concept: data, what });
    saveFile(fileName, bytes);
  } catch (e) {
    notify(noticeOf(e));
  }
}

/** Saves a paused run's concept as it is so far. */
export async function downloadRun(runId: string, what: ConceptExport): Promise<void> {
  const client = engineClient();
  try {
    if (!client) return;
    const { fileName, bytes } = await client.request('exportRun', { runId, what });
    saveFile(fileName, bytes);
  } catch (e) {
    notify(noticeOf(e));
  }
}
