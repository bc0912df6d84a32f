/**
 * The token an imported file's concept gets: the file's own (an embedding's key or name, a
 * LoRA's `studio.token`, else `<file name>`) when it is a valid token (prompt-tokens.ts), else
 * one made from the file name, with a note saying why, for the page to show.
 */
import { tokenFromFileName, tokenProblem, validateToken, type TokenValidation } from '../../model/prompt-tokens';
import { fileStem } from './embedding';
import { META } from './metadata';

export interface ImportedToken {
  token: string;
  /** Why the file's own token was not kept (absent when it was). */
  tokenNote?: string;
}

/** The file's own token for a LoRA: its metadata's, else `<file name>`. */
export function loraFileToken(metadata: Readonly<Record<string, string>>, fileName: string): string {
  return metadata[META.token] ?? `<${fileStem(fileName)}>`;
}

/**
 * `own` if it can be a token, else one from the file name. `isVocabularyWord` only for tokens that
 * get vectors (embeddings): a LoRA's trigger word may be a word the model knows.
 */
export function importedToken(own: string, fileName: string, options: Pick<TokenValidation, 'isVocabularyWord'> = {}): ImportedToken {
  const problem = tokenProblem(own, options);
  if (problem === null) return { token: own };
  const token = validateToken(tokenFromFileName(fileName), options);
  return { token, tokenNote: `The file's token ${problem}; it is ${token} here instead (rename it to choose another).` };
}
