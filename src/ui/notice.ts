/** What the page shows for a failed action: the error's message and the hint that says what to do. */
import { StudioError } from '../common/errors';
import type { Notice } from './store';

export function noticeOf(e: unknown): Notice {
  const error = StudioError.from(e);
  return { tone: 'error', message: error.message, hint: error.hint };
}
