/**
 * A run's loss history as it grows, one point per step, in typed arrays that double when full
 * (appending does not copy what is there). A step at or before the last one (a resumed run
 * replaying steps after its checkpoint) drops the points from that step on.
 */
import type { LossCurve } from './loss-curve';

export class LossHistory {
  private n = 0;
  private steps = new Uint32Array(256);
  private loss = new Float32Array(256);
  private smoothed = new Float32Array(256);
  private lr = new Float32Array(256);

  /** Starts from a stored curve (a resumed run keeps its earlier points). */
  static from(curve: LossCurve | undefined): LossHistory {
    const h = new LossHistory();
    if (curve) for (let i = 0; i < curve.steps.length; i++) h.record(curve.steps[i], curve.loss[i], curve.smoothed[i], curve.lr[i]);
    return h;
  }

  get length(): number {
    return this.n;
  }

  record(step: number, loss: number, smoothed: number, lr: number): void {
    while (this.n > 0 && this.steps[this.n - 1] >= step) this.n--;
    if (this.n === this.steps.length) this.grow();
    const i = this.n++;
    this.steps[i] = step;
    this.loss[i] = loss;
    this.smoothed[i] = smoothed;
    this.lr[i] = lr;
  }

  /** The points so far, as views of the arrays (no copy: valid until the next record). */
  view(): LossCurve {
    return { steps: this.steps.subarray(0, this.n), loss: this.loss.subarray(0, this.n), smoothed: this.smoothed.subarray(0, this.n), lr: this.lr.subarray(0, this.n) };
  }

  /** The points up to `step`, copied to arrays of their own (to store). */
  until(step = Infinity): LossCurve {
    let m = this.n;
    while (m > 0 && this.steps[m - 1] > step) m--;
    return { steps: this.steps.slice(0, m), loss: this.loss.slice(0, m), smoothed: this.smoothed.slice(0, m), lr: this.lr.slice(0, m) };
  }

  private grow(): void {
    const size = this.steps.length * 2;
    const bigger = <T extends Uint32Array | Float32Array>(a: T, b: T): T => (b.set(a), b);
    this.steps = bigger(this.steps, new Uint32Array(size));
    this.loss = bigger(this.loss, new Float32Array(size));
    this.smoothed = bigger(this.smoothed, new Float32Array(size));
    this.lr = bigger(this.lr, new Float32Array(size));
  }
}
