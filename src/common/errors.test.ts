import { describe, expect, it } from 'vitest';
import { QUOTA_HINT, StudioError } from './errors';

describe('StudioError', () => {
  it('keeps a StudioError as is and crosses JSON with its name, message and hint', () => {
    const error = new StudioError('ConceptTokenTaken', 'Another concept uses <cat>.');
    expect(StudioError.from(error)).toBe(error);
    const back = StudioError.revive(JSON.parse(JSON.stringify(error.toJSON())));
    expect(back).toBeInstanceOf(StudioError);
    expect(back.toJSON()).toEqual({ name: 'ConceptTokenTaken', message: 'Another concept uses <cat>.', hint: expect.stringMatching(/Choose another token/) });
  });

  it('names a browser quota error StorageQuotaExceeded, and only an unknown error InternalError', () => {
    const quota = StudioError.from(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
    expect(quota).toMatchObject({ name: 'StorageQuotaExceeded', hint: QUOTA_HINT });
    expect(StudioError.from(new TypeError('x is undefined'))).toMatchObject({ name: 'InternalError', message: 'x is undefined', hint: /bug in the studio/ });
  });

  it('gives every error a hint, even one thrown without', () => {
    expect(new StudioError('InvalidRequest', 'The prompt is empty.').hint).toMatch(/\w+/);
    expect(StudioError.revive({ name: 'Cancelled', message: 'Cancelled.' } as never).hint).toMatch(/\w+/);
  });
});
