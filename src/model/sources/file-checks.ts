/**
 * Whether a file's bytes are what its path promises: JSON that parses to an object (a vocab whose
 * values are ids), merges.txt of token pairs, safetensors whose header fits the size. Run on every
 * download before it is cached, and on cached files before they are used.
 */
import { SafetensorsError, SafetensorsFile } from '../safetensors-reader';
import { parseMerges } from '../tokenizer-json';

/** Why `blob` is not a valid `path`, or null when it is. */
export async function fileProblem(path: string, blob: Blob): Promise<string | null> {
  try {
    if (path.endsWith('.json')) {
      const value: unknown = JSON.parse(await blob.text());
      if (typeof value !== 'object' || value === null) return `not a JSON object (${JSON.stringify(value)?.slice(0, 40)})`;
      if (/(^|\/)vocab\.json$/.test(path) && !Object.values(value).every(Number.isInteger)) return 'a vocab.json whose values are not all token ids';
    } else if (/(^|\/)merges\.txt$/.test(path)) {
      if (parseMerges(await blob.text()).length === 0) return 'a merges.txt without a single merge';
    } else if (path.endsWith('.safetensors')) {
      await SafetensorsFile.open(blob, path);
    }
    return null;
  } catch (error) {
    if (error instanceof SafetensorsError) return error.message;
    const message = (error as Error).message;
    return path.endsWith('.json') ? `not valid JSON (${message})` : message;
  }
}
