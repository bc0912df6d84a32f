import { StudioError } from '../common/errors';

/** What a cancelled request answers with (the page tells it apart from a failure by its name). */
export function cancelled(): StudioError {
  return new StudioError('Cancelled', 'Cancelled.');
}
