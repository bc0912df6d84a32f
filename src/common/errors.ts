/**
 * The studio's one error type. Storage, checkpoints, imports, model loading and the engine throw
 * `StudioError`s; they cross the worker boundary as `{name, message, hint}`, so the page chooses
 * what to show by name and always has a sentence telling the user what to do.
 */
export type StudioErrorName =
  // device and engine
  | 'WebGpuUnavailable'
  | 'AdapterUnavailable'
  | 'DeviceRequestFailed'
  | 'DeviceLost'
  | 'EngineNotReady'
  | 'UnknownRequest'
  | 'NoModel'
  | 'ModelLoadFailed'
  | 'Cancelled'
  | 'InvalidRequest'
  | 'ImportRefused'
  | 'ImportPartial'
  | 'TokenInvalid'
  | 'PhotoRefused'
  | 'TrainingDiverged'
  | 'DownloadFailed'
  | 'ModelMismatch'
  | 'RunActiveElsewhere'
  | 'InternalError'
  // storage: the library, training runs, checkpoints
  | 'ConceptUnreadable'
  | 'ConceptTokenTaken'
  | 'StorageQuotaExceeded'
  | 'StorageUnavailable'
  | 'RunUnreadable'
  | 'CheckpointUnreadable';

export interface SerializedError {
  name: StudioErrorName;
  message: string;
  hint: string;
}

export const WEBGPU_HINT =
  'Use a browser with WebGPU: Chrome or Edge 113+ on Windows, macOS, ChromeOS or Android; ' +
  'Safari 26+; Firefox 141+ on Windows. On Linux, Chrome needs chrome://flags/#enable-unsafe-webgpu ' +
  '(and #enable-vulkan).';

export const QUOTA_HINT = 'Free browser storage: delete concepts or old training runs, or allow this site more storage.';

const BUG_HINT = 'This is a bug in the studio; reloading the page usually helps.';

/** The hint of an error thrown without one of its own. */
const DEFAULT_HINTS: Readonly<Record<StudioErrorName, string>> = {
  WebGpuUnavailable: WEBGPU_HINT,
  AdapterUnavailable: WEBGPU_HINT,
  DeviceRequestFailed: 'Close other tabs that use the GPU and reload the page.',
  DeviceLost: 'Reconnect the GPU from the GPU panel.',
  EngineNotReady: 'Reconnect the GPU from the GPU panel, or reload the page.',
  UnknownRequest: BUG_HINT,
  NoModel: 'Load a model in the Models section first.',
  ModelLoadFailed: 'Check the model id or folder; the studio runs Stable Diffusion 1.x-family models in the diffusers layout.',
  Cancelled: 'Start it again when you are ready.',
  InvalidRequest: 'Change the request and try again.',
  ImportRefused: 'Nothing was added to the library.',
  ImportPartial: 'Nothing was added yet: import it anyway to keep the layers the studio applies, or leave it out.',
  TokenInvalid: 'Choose another token: one word, no spaces, at most 64 characters, not a word the model already knows.',
  PhotoRefused: 'Remove it, or choose another photo.',
  TrainingDiverged: 'Lower the learning rate and resume from the last checkpoint.',
  DownloadFailed: 'Check the connection and the hub endpoint, then load the model again.',
  ModelMismatch: 'Load the model the run was started on, or start a new run.',
  RunActiveElsewhere: 'It is training in another tab or window: pause it there, or close that tab.',
  InternalError: BUG_HINT,
  ConceptUnreadable: 'Delete it, then train or import it again.',
  ConceptTokenTaken: 'Choose another token, or delete or rename the other concept first.',
  StorageQuotaExceeded: QUOTA_HINT,
  StorageUnavailable: 'Reload the page; private windows may not allow storage.',
  RunUnreadable: 'Delete it and start the training again.',
  CheckpointUnreadable: 'Delete it and start the training again.',
};

/** A browser storage error that means "out of quota" (IndexedDB, Cache Storage; Firefox's legacy name). */
export function isQuotaError(error: unknown): boolean {
  const e = error as DOMException | null;
  return e?.name === 'QuotaExceededError' || e?.name === 'NS_ERROR_DOM_QUOTA_REACHED' || (e?.name === 'AbortError' && /quota/i.test(e.message));
}

/** The message of anything thrown (an Error's message, else its string form). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class StudioError extends Error {
  override readonly name: StudioErrorName;
  readonly hint: string;

  constructor(name: StudioErrorName, message: string, hint: string = DEFAULT_HINTS[name], options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
    this.hint = hint;
  }

  toJSON(): SerializedError {
    return { name: this.name, message: this.message, hint: this.hint };
  }

  /** A StudioError as is; a quota error as `StorageQuotaExceeded`; anything else is a bug (`InternalError`). */
  static from(error: unknown): StudioError {
    if (error instanceof StudioError) return error;
    const message = errorMessage(error);
    if (isQuotaError(error)) return new StudioError('StorageQuotaExceeded', `Not enough browser storage: ${message}`, QUOTA_HINT, { cause: error });
    return new StudioError('InternalError', message, BUG_HINT, { cause: error });
  }

  static revive(error: SerializedError): StudioError {
    return new StudioError(error.name, error.message, error.hint || DEFAULT_HINTS[error.name] || BUG_HINT);
  }
}
