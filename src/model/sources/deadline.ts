/**
 * One request attempt's signal: the caller's, plus a deadline that `arm` (re)starts and `disarm`
 * stops, so a server that accepts and never answers, or stops sending, ends the attempt.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private timer?: ReturnType<typeof setTimeout>;
  readonly signal: AbortSignal;
  /** What passed, once the deadline has ("no answer for 30 s"). */
  expired?: string;

  constructor(outer?: AbortSignal) {
    this.signal = outer ? AbortSignal.any([outer, this.controller.signal]) : this.controller.signal;
  }

  arm(ms: number, why: string): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.expired = why;
      this.controller.abort(new DOMException(why, 'TimeoutError'));
    }, ms);
  }

  disarm(): void {
    clearTimeout(this.timer);
  }

  /** `promise`, or a rejection as soon as the signal aborts (not every body stream heeds it). */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.signal.aborted) {
      promise.catch(() => undefined);
      return Promise.reject(this.signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.signal.reason);
      this.signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => this.signal.removeEventListener('abort', onAbort));
    });
  }
}

/** `30 s`, `0.2 s`. */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
