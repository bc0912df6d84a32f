/**
 * Named engine errors. They cross the worker boundary as `{name, message, hint}` so the UI can
 * choose what to show by name and always has a sentence telling the user what to do.
 */
export type EngineErrorName =
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
  | 'InternalError';

export interface SerializedError {
  name: EngineErrorName;
  message: string;
  hint?: string;
}

export class EngineError extends Error {
  override readonly name: EngineErrorName;
  readonly hint?: string;

  constructor(name: EngineErrorName, message: string, hint?: string) {
    super(message);
    this.name = name;
    this.hint = hint;
  }

  toJSON(): SerializedError {
    return { name: this.name, message: this.message, hint: this.hint };
  }

  static from(error: unknown): EngineError {
    if (error instanceof EngineError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new EngineError('InternalError', message, 'This is a bug in the studio; reloading the page usually helps.');
  }

  static revive(error: SerializedError): EngineError {
    return new EngineError(error.name, error.message, error.hint);
  }
}

export const WEBGPU_HINT =
  'Use a browser with WebGPU: Chrome or Edge 113+ on Windows, macOS, ChromeOS or Android; ' +
  'Safari 26+; Firefox 141+ on Windows. On Linux, Chrome needs chrome://flags/#enable-unsafe-webgpu ' +
  '(and #enable-vulkan).';
