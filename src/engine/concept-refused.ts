/** The refusal of a concept this model cannot apply: the generation is refused, the user told why. */
import { StudioError } from '../common/errors';

export function conceptRefused(message: string): StudioError {
  return new StudioError('InvalidRequest', message, 'Remove that concept from the prompt, or load the model it was made for.');
}
